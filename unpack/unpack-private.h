/* Internals of the unpack library shared between its files and its unit
 * tests. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include "common/util.h"
#include "unpack/unpack.h"

struct archive;
struct archive_entry;

/* ---- feed.c: decompression on a second thread ---- */

typedef struct unpack_feed unpack_feed;

/* Start decoding FD (any compression libarchive knows, or none) on a thread
 * of its own, into a small ring of buffers. TOTAL is the input's size, for
 * progress, or 0. */
int unpack_feed_start(int fd, uint64_t total, unpack_feed **ret, char *err, size_t errlen);
/* Hand the decoded stream to archive A as its input (archive_read_open). */
int unpack_feed_attach(unpack_feed *f, struct archive *a);
/* Compressed bytes consumed so far by what was handed out. */
uint64_t unpack_feed_consumed(unpack_feed *f);
/* The decoder's own error, when it failed (truncated or corrupt input), or
 * NULL. Only meaningful once the reader has seen the stream end. */
const char *unpack_feed_error(unpack_feed *f);
/* Decoded bytes handed out so far. */
uint64_t unpack_feed_decoded(unpack_feed *f);
/* Name of the compression found ("gzip", "none", ...). */
const char *unpack_feed_filter(unpack_feed *f);
/* Stop the thread (if still running) and free everything. */
void unpack_feed_free(unpack_feed *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(unpack_feed *, unpack_feed_free)

/* ---- writer.c: the tree ---- */

#define UNPACK_KEEP_DEVICES 1u /* device nodes */
#define UNPACK_KEEP_SETID   2u /* set-id bits of non-directories, file capabilities */
#define UNPACK_KEEP_ALL     (UNPACK_KEEP_DEVICES | UNPACK_KEEP_SETID)

/* unpack_into for the N archives FDS (NAMES for messages) one after the
 * other, as layers when O asks for whiteouts, keeping the privileged files
 * KEEP says (UNPACK_KEEP_*) whatever O says; the root gets ROOT_MODE unless
 * an archive names "./" ((mode_t)-1: left as it is). Directory metadata
 * and the root's owner and mode are set only once every layer is in, so a
 * root directory made private (0700, the caller's) stays so while the tree
 * is being filled, and a read-only directory of one layer does not stop
 * the next. */
int unpack_tree(const int *fds, const char *const *names, size_t n, int rootfd, const struct unpack_options *o,
                unsigned keep, mode_t root_mode, roost_error *e);
/* The UNPACK_KEEP_* that O asks for (none when O is NULL). */
unsigned unpack_keep(const struct unpack_options *o);

/* ---- path.c: entry names ---- */

/* Split the entry name in BUF (modified in place) into components, dropping
 * empty and "." components, into PARTS (at most MAX). Returns the number of
 * components (0 names the root itself), or -ROOST_EUNSAFE with *WHY saying
 * what was refused: an empty or absolute name, a ".." component, a name
 * longer than PATH_MAX or a component longer than NAME_MAX, nesting deeper
 * than MAX. */
int unpack_path_split(char *buf, const char **parts, size_t max, const char **why);

/* ---- dirs.c: directory metadata kept for the end ---- */

/* Directory metadata is applied once the whole archive is in: creating
 * children changes a directory's mtime, and a read-only mode would stop
 * them being created at all. One record per directory, however many
 * entries name it (the last one wins): a hostile archive repeating one
 * directory costs neither time nor memory per repeat. */
struct deferred {
        char *path; /* normalised, "" for the root */
        unsigned depth;
        bool removed; /* a whiteout of a later layer removed the directory */
        mode_t mode;
        struct timespec times[2];
};

struct deferred_dirs {
        struct deferred *v;
        size_t n, cap;
        size_t *slot; /* open addressing: index + 1 into v, 0 for empty */
        size_t nslot;
        uint64_t seed;
};

/* Record (or replace) the metadata of the directory made of the N
 * components PARTS. 0 or -ENOMEM. */
int deferred_put(struct deferred_dirs *d, const char *const *parts, size_t n, mode_t mode,
                 const struct timespec times[2]);
/* Order the records deepest first, so that a parent's mode is set after
 * every directory below it was updated. */
void deferred_order(struct deferred_dirs *d);
void deferred_free(struct deferred_dirs *d);
/* The record of normalised PATH, or NULL (also once ordered). */
struct deferred *deferred_find(struct deferred_dirs *d, const char *path);

/* ---- writer.c and layer.c: the writer's state ---- */

struct writer {
        int rootfd;
        dev_t root_dev;
        int stack[UNPACK_MAX_DEPTH];   /* fds of the current parent chain */
        char *names[UNPACK_MAX_DEPTH]; /* their names, for reuse */
        size_t depth;
        bool privileged;
        bool keep_devices, keep_setid; /* UNPACK_KEEP_* */
        /* The owner "./" gives the root, set at the end with its mode. */
        bool root_owned;
        uid_t root_uid;
        gid_t root_gid;
        /* What was left out on purpose, counted for one line at the end. */
        uint64_t no_devices, no_setid, no_caps, no_xattrs;
        const struct unpack_options *o;
        uint64_t max_bytes, max_entries, bytes, entries;
        struct deferred_dirs dirs;
        enum unpack_whiteouts whiteouts;
        /* UNPACK_WHITEOUT_APPLY: the root holds layers below this one, and
         * MINE every path this layer named, with their parents: what a
         * whiteout of this layer leaves alone. */
        bool below;
        struct deferred_dirs mine;
        char *mine_parent; /* the last parent recorded in MINE */
        /* UNPACK_WHITEOUT_OVERLAY: the kernel refused a 0/0 node, so
         * whiteouts are empty files marked with an attribute. */
        bool xwhiteouts;
        uint64_t layer_entries; /* entries of the archive being read */
        const char *input; /* the archive's name, for messages */
        const char *entry; /* the entry being written, for messages */
        roost_error *e;
        unsigned warnings;
        unpack_feed *feed;
        char last[PATH_MAX + 1]; /* the last entry written, for messages */
        /* The current entry's name: libarchive may free the string it
         * handed out when asked for another of the entry's names. */
        char cur[PATH_MAX + 1];
};

/* Names in messages are cut short: a hostile one may be 4 KB long. */
#define SHOWN   "%.160s%s"
#define SHOW(s) (s), strlen(s) > 160 ? "..." : ""

void writer_warn(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fill the error with the archive, the entry and WHAT; returns R. */
int writer_fail(struct writer *w, int r, const char *what);
/* Make the stack hold exactly the directories PARTS[0..N), creating
 * missing ones as tar does. */
int writer_enter(struct writer *w, const char **parts, size_t n);
int writer_top_fd(const struct writer *w);
/* One archive entry into the tree. */
int writer_entry(struct writer *w, struct archive *a, struct archive_entry *ent);
/* Directory metadata, once every entry of every layer is in. */
int writer_finish_dirs(struct writer *w);
/* What was left out on purpose, in a line or two to the warn callback. */
void writer_report(struct writer *w);
void writer_done(struct writer *w);
/* The normalised path of NAME in the stack's top directory, into BUF of
 * PATH_MAX + 1 bytes; -ROOST_EUNSAFE when too long. */
int writer_path(const struct writer *w, const char *name, char *buf);

/* ---- layer.c: whiteouts and opaque directories ---- */

/* Handle the layer's entry PARTS[0..N) (N >= 1) of type TYPE (HARDLINK its
 * target, or NULL): 0 when it was a whiteout or opaque marker, now done;
 * 1 when it is an ordinary entry for the writer; negative on refusal. */
int layer_entry(struct writer *w, const char **parts, size_t n, struct archive_entry *ent,
                const char *hardlink);
/* Before the next layer: forget what the previous one made. */
void layer_next(struct writer *w, bool below);
/* The existing directory NAME in DFD replaces it (clear_name): in APPLY
 * mode, what the layers below put in it goes first. 1 when it was done,
 * 0 when NAME holds this layer's entries. */
int layer_clear_dir(struct writer *w, int dfd, const char *name);
/* OVERLAY: NAME in DFD is a whiteout (this layer's). */
bool layer_is_whiteout(struct writer *w, int dfd, const char *name, const struct stat *st);
/* OVERLAY: make directory FD opaque. */
int layer_set_opaque(struct writer *w, int fd);

/* 1 when NAME in DFD is an empty directory, 0 when it holds anything,
 * negative errno when it cannot be read. */
int unpack_dir_is_empty(int dfd, const char *name);
