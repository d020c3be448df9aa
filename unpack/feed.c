/* Decompression on a second thread.
 *
 * Inflating gzip costs about as much as creating the files it holds, so the
 * two run side by side: this thread decodes the input with libarchive's raw
 * format (every filter, no format) into a ring of a few fixed buffers, and
 * the tar reader on the caller's thread takes them as its client input. The
 * ring bounds memory whatever the archive's size. */
#include "config.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/error.h"
#include "unpack/unpack-private.h"

#define FEED_SLOTS 4
#define FEED_CHUNK (256 * 1024)
#define FEED_READ_BLOCK (128 * 1024)

struct chunk {
        size_t len;
        uint64_t consumed; /* compressed bytes read when this chunk was full */
        char *buf;
};

struct unpack_feed {
        struct archive *a;
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct chunk slots[FEED_SLOTS];
        /* Filled slots are [r, r + count) modulo FEED_SLOTS; the consumer
         * holds slot r between two read callbacks. */
        unsigned r, w, count;
        bool holding, eof, cancel;
        char error[512]; /* set with eof when decoding failed */
        uint64_t consumed, decoded;
        char filter[32];
};

static void *feed_main(void *p)
{
        unpack_feed *f = p;
        for (;;) {
                pthread_mutex_lock(&f->lock);
                while (f->count == FEED_SLOTS && !f->cancel)
                        pthread_cond_wait(&f->cond, &f->lock);
                bool cancel = f->cancel;
                pthread_mutex_unlock(&f->lock);
                if (cancel)
                        break;
                /* The slot at w is neither filled nor held: only this
                 * thread touches it until count grows. */
                struct chunk *c = &f->slots[f->w % FEED_SLOTS];
                la_ssize_t n = archive_read_data(f->a, c->buf, FEED_CHUNK);
                c->len = n > 0 ? (size_t)n : 0;
                c->consumed = (uint64_t)archive_filter_bytes(f->a, -1);
                pthread_mutex_lock(&f->lock);
                if (n < 0) {
                        const char *msg = archive_error_string(f->a);
                        snprintf(f->error, sizeof(f->error), "%s", msg ? msg : "decompression failed");
                        f->eof = true;
                } else if (n == 0) {
                        f->eof = true;
                } else {
                        f->w++;
                        f->count++;
                }
                pthread_cond_broadcast(&f->cond);
                pthread_mutex_unlock(&f->lock);
                if (n <= 0)
                        break;
        }
        return NULL;
}

int unpack_feed_start(int fd, uint64_t total, unpack_feed **ret, char *err, size_t errlen)
{
        (void)total;
        unpack_feed *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->cond, NULL);
        for (size_t i = 0; i < FEED_SLOTS; i++)
                if (!(f->slots[i].buf = malloc(FEED_CHUNK))) {
                        unpack_feed_free(f);
                        return -ENOMEM;
                }
        int r = -ROOST_EARCHIVE;
        struct archive_entry *ent;
        f->a = archive_read_new();
        if (!f->a) {
                r = -ENOMEM;
                goto fail;
        }
        archive_read_support_filter_all(f->a);
        archive_read_support_format_raw(f->a);
        if (archive_read_open_fd(f->a, fd, FEED_READ_BLOCK) != ARCHIVE_OK)
                goto fail_archive;
        r = archive_read_next_header(f->a, &ent);
        if (r == ARCHIVE_EOF) {
                snprintf(err, errlen, "empty input");
                r = -ROOST_EARCHIVE;
                goto fail;
        }
        if (r < ARCHIVE_WARN) {
                r = -ROOST_EARCHIVE;
                goto fail_archive;
        }
        snprintf(f->filter, sizeof(f->filter), "%s", archive_filter_name(f->a, 0) ?: "none");
        r = -pthread_create(&f->thread, NULL, feed_main, f);
        if (r < 0)
                goto fail;
        f->started = true;
        *ret = f;
        return 0;
fail_archive:
        snprintf(err, errlen, "%s",
                 archive_filter_bytes(f->a, -1) == 0 ? "empty input"
                                                      : archive_error_string(f->a) ?: "unreadable input");
        r = archive_errno(f->a) == EIO || archive_errno(f->a) == ENOMEM ? -archive_errno(f->a) : -ROOST_EARCHIVE;
fail:
        unpack_feed_free(f);
        return r;
}

static la_ssize_t feed_read(struct archive *a, void *userdata, const void **buf)
{
        unpack_feed *f = userdata;
        pthread_mutex_lock(&f->lock);
        if (f->holding) {
                f->r++;
                f->count--;
                f->holding = false;
                pthread_cond_broadcast(&f->cond);
        }
        while (f->count == 0 && !f->eof)
                pthread_cond_wait(&f->cond, &f->lock);
        if (f->count == 0) {
                bool failed = f->error[0] != 0;
                pthread_mutex_unlock(&f->lock);
                if (failed) {
                        archive_set_error(a, EIO, "%s", f->error);
                        return -1;
                }
                return 0;
        }
        struct chunk *c = &f->slots[f->r % FEED_SLOTS];
        f->holding = true;
        f->consumed = c->consumed;
        f->decoded += c->len;
        pthread_mutex_unlock(&f->lock);
        *buf = c->buf;
        return (la_ssize_t)c->len;
}

int unpack_feed_attach(unpack_feed *f, struct archive *a)
{
        return archive_read_open(a, f, NULL, feed_read, NULL);
}

uint64_t unpack_feed_consumed(unpack_feed *f)
{
        return f->consumed; /* written by the consumer's own thread */
}

uint64_t unpack_feed_decoded(unpack_feed *f)
{
        return f->decoded;
}

const char *unpack_feed_error(unpack_feed *f)
{
        pthread_mutex_lock(&f->lock);
        const char *e = f->eof && f->error[0] ? f->error : NULL;
        pthread_mutex_unlock(&f->lock);
        return e;
}

const char *unpack_feed_filter(unpack_feed *f)
{
        return f->filter;
}

void unpack_feed_free(unpack_feed *f)
{
        if (!f)
                return;
        if (f->started) {
                pthread_mutex_lock(&f->lock);
                f->cancel = true;
                pthread_cond_broadcast(&f->cond);
                pthread_mutex_unlock(&f->lock);
                pthread_join(f->thread, NULL);
        }
        if (f->a)
                archive_read_free(f->a);
        for (size_t i = 0; i < FEED_SLOTS; i++)
                free(f->slots[i].buf);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        free(f);
}
