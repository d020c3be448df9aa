/* Internals of the unpack library shared between its files and its unit
 * tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "unpack/unpack.h"

struct archive;

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

/* ---- writer.c: the tree ---- */

#define UNPACK_KEEP_DEVICES 1u /* device nodes */
#define UNPACK_KEEP_SETID   2u /* set-id bits of non-directories, file capabilities */
#define UNPACK_KEEP_ALL     (UNPACK_KEEP_DEVICES | UNPACK_KEEP_SETID)

/* unpack_into, keeping the privileged files KEEP says (UNPACK_KEEP_*)
 * whatever O says; the root gets ROOT_MODE unless the archive names "./"
 * ((mode_t)-1: left as it is). The root's owner and mode are set only once
 * every entry is in, so a root directory made private (0700, the caller's)
 * stays so while the tree is being filled. */
int unpack_tree(int fd, const char *name, int rootfd, const struct unpack_options *o, unsigned keep,
                mode_t root_mode, roost_error *e);
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
