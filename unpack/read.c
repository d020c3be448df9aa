/* Reading archives into the tree: decoding on the feed's thread, tar
 * headers through libarchive, entries to the writer; several archives one
 * after the other when they are an image's layers. */
#include "config.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "unpack/archive-util.h"
#include "unpack/unpack-private.h"

static void report_progress(const struct unpack_options *o, unpack_feed *f, uint64_t total, uint64_t *last)
{
        if (!o || !o->progress)
                return;
        uint64_t done = unpack_feed_consumed(f);
        if (done != *last) {
                *last = done;
                o->progress(o->userdata, done, total);
        }
}

unsigned unpack_keep(const struct unpack_options *o)
{
        return !o ? 0 : (o->keep_devices ? UNPACK_KEEP_DEVICES : 0) | (o->keep_setid ? UNPACK_KEEP_SETID : 0);
}

int unpack_into(int fd, const char *name, int rootfd, const struct unpack_options *o, roost_error *e)
{
        return unpack_tree(&fd, &name, 1, rootfd, o, unpack_keep(o), (mode_t)-1, e);
}

/* The entries of the archive F decodes (from NAME, TOTAL bytes if known)
 * into the tree W is making. */
static int writer_entries(struct writer *w, unpack_feed *f, const char *name, uint64_t total)
{
        const struct unpack_options *o = w->o;
        roost_error *e = w->e;
        _cleanup_archive_read_ struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        /* tar in all its dialects, and nothing else: this is a root file
         * system, not a general archiver. */
        archive_read_support_format_tar(a);
        archive_read_support_format_gnutar(a);
        uint64_t last = 0;
        int r;
        if (unpack_feed_attach(f, a) != ARCHIVE_OK) {
                const char *fe = unpack_feed_error(f);
                if (fe || unpack_feed_decoded(f) == 0)
                        return roost_error_set(e, -ROOST_EARCHIVE, "%s: at the start: %s", name,
                                               fe ?: "empty input");
                /* A layer may be empty: a tar of nothing but its end. */
                if (w->whiteouts != UNPACK_WHITEOUT_KEEP && archive_errno(a) == 0 &&
                    unpack_feed_decoded(f) >= 1024)
                        return 0;
                return roost_error_set(e, -ROOST_EARCHIVE, "%s: not a tar archive (%s, %s)", name,
                                       archive_error_string(a) ?: "unrecognised",
                                       strcmp(unpack_feed_filter(f), "none") == 0 ? "no compression"
                                                                                  : unpack_feed_filter(f));
        }
        for (;;) {
                struct archive_entry *ent;
                r = archive_read_next_header(a, &ent);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        char prev[PATH_MAX + 32] = "at the start";
                        if (w->layer_entries)
                                snprintf(prev, sizeof(prev), "after entry '" SHOWN "'", SHOW(w->last));
                        const char *fe = unpack_feed_error(f);
                        if (unpack_feed_decoded(f) == 0)
                                fe = "empty input";
                        return roost_error_set(e, -ROOST_EARCHIVE, "%s: %s: %s", name, prev,
                                               fe ? fe : archive_error_string(a) ?: "unreadable header");
                }
                w->layer_entries++;
                r = writer_entry(w, a, ent);
                if (r < 0)
                        return r;
                snprintf(w->last, sizeof(w->last), "%s", w->entry);
                report_progress(o, f, total, &last);
        }
        if (unpack_feed_error(f))
                return roost_error_set(e, -ROOST_EARCHIVE, "%s: after entry '" SHOWN "': %s", name,
                                       SHOW(w->last), unpack_feed_error(f));
        if (w->layer_entries == 0 && (w->whiteouts == UNPACK_WHITEOUT_KEEP || unpack_feed_decoded(f) == 0))
                return roost_error_set(e, -ROOST_EARCHIVE, "%s: %s", name,
                                       unpack_feed_decoded(f) == 0 ? "empty input"
                                                                   : "archive has no entries");
        if (o && o->progress)
                o->progress(o->userdata, total ? total : unpack_feed_consumed(f), total);
        return 0;
}

/* One archive, read from FD, into the tree W is making. */
static int writer_archive(struct writer *w, int fd, const char *name)
{
        char err[512] = "";
        struct stat st;
        uint64_t total = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        /* Declared first, freed last: the archive reading from it goes
         * before it, at the end of writer_entries. */
        _cleanup_(unpack_feed_freep) unpack_feed *f = NULL;
        int r = unpack_feed_start(fd, total, &f, err, sizeof(err));
        if (r < 0)
                return roost_error_set(w->e, r, "%s: %s", name, err);
        w->feed = f;
        w->input = name;
        w->entry = "";
        w->layer_entries = 0;
        *w->last = 0;
        r = writer_entries(w, f, name, total);
        w->feed = NULL;
        return r;
}

int unpack_tree(const int *fds, const char *const *names, size_t n, int rootfd, const struct unpack_options *o,
                unsigned keep, mode_t root_mode, roost_error *e)
{
        struct stat st;
        if (fstat(rootfd, &st) < 0)
                return roost_error_set(e, -errno, "%s: inspecting the target", n ? names[0] : "");
        struct writer w = {
                .rootfd = rootfd,
                .root_dev = st.st_dev,
                .privileged = geteuid() == 0,
                .keep_devices = keep & UNPACK_KEEP_DEVICES,
                .keep_setid = keep & UNPACK_KEEP_SETID,
                .o = o,
                .max_bytes = o && o->max_bytes ? o->max_bytes : UNPACK_DEFAULT_MAX_BYTES,
                .max_entries = o && o->max_entries ? o->max_entries : UNPACK_DEFAULT_MAX_ENTRIES,
                .whiteouts = o ? o->whiteouts : UNPACK_WHITEOUT_KEEP,
                .input = n ? names[0] : "",
                .entry = "",
                .e = e,
        };
        int r = 0;
        bool below = false;
        if (w.whiteouts == UNPACK_WHITEOUT_APPLY) {
                r = unpack_dir_is_empty(rootfd, "."); /* APPLY over what is there: the layers below */
                if (r < 0) {
                        r = roost_error_set(e, r, "%s: reading the target", w.input);
                        goto out;
                }
                below = r == 0;
        }
        /* The root's mode when no archive names "./" (which replaces
         * this), its times left as they come. */
        const struct timespec untouched[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
        if (root_mode != (mode_t)-1 && (r = deferred_put(&w.dirs, NULL, 0, root_mode, untouched)) < 0)
                goto out;
        for (size_t i = 0; i < n; i++) {
                layer_next(&w, below || i > 0);
                r = writer_archive(&w, fds[i], names[i]);
                if (r < 0)
                        goto out;
        }
        r = writer_finish_dirs(&w);
        if (r == 0)
                writer_report(&w);
out:
        writer_done(&w);
        return r;
}
