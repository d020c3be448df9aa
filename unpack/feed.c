/* Decompression on a second thread.
 *
 * Inflating gzip costs about as much as creating the files it holds, so the
 * two run side by side: this thread decodes the input with libarchive's raw
 * format (every filter, no format) into a ring of a few fixed buffers, and
 * the tar reader on the caller's thread takes them as its client input. The
 * ring bounds memory whatever the archive's size. gzip goes through ISA-L's
 * inflater when roost is built with it. */
#include "config.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include "common/error.h"
#include "unpack/unpack-private.h"

#define FEED_SLOTS      4
#define FEED_CHUNK      (256 * 1024)
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
        int fd;
        int cancel_fd; /* eventfd, written when the consumer gives up */
        /* Input read ahead to recognise gzip, then the read buffer. */
        unsigned char *in;
        size_t in_len;
        bool in_primed;
};

void unpack_read_filters(struct archive *a)
{
        /* The compressions libarchive decodes itself, not _all: that
         * would also hand a hostile archive to lrzip, grzip or lzop
         * programs found in PATH. Each only when built with its library,
         * since without it libarchive runs the program of that name
         * instead. */
        if (archive_zlib_version())
                archive_read_support_filter_gzip(a);
        if (archive_bzlib_version())
                archive_read_support_filter_bzip2(a);
        if (archive_liblzma_version()) {
                archive_read_support_filter_xz(a);
                archive_read_support_filter_lzma(a);
                archive_read_support_filter_lzip(a);
        }
        if (archive_libzstd_version())
                archive_read_support_filter_zstd(a);
        if (archive_liblz4_version())
                archive_read_support_filter_lz4(a);
        archive_read_support_filter_compress(a);
}

static void feed_publish(unpack_feed *f, struct chunk *c, bool end, const char *error)
{
        pthread_mutex_lock(&f->lock);
        if (error)
                snprintf(f->error, sizeof(f->error), "%s", error);
        if (c && c->len) {
                f->w++;
                f->count++;
        }
        if (end)
                f->eof = true;
        pthread_cond_broadcast(&f->cond);
        pthread_mutex_unlock(&f->lock);
}

/* Wait for a free slot; NULL when cancelled. */
static struct chunk *feed_slot(unpack_feed *f)
{
        pthread_mutex_lock(&f->lock);
        while (f->count == FEED_SLOTS && !f->cancel)
                pthread_cond_wait(&f->cond, &f->lock);
        bool cancel = f->cancel;
        pthread_mutex_unlock(&f->lock);
        /* The slot at w is neither filled nor held: only this thread
         * touches it until count grows. */
        return cancel ? NULL : &f->slots[f->w % FEED_SLOTS];
}

static ssize_t feed_read_input(unpack_feed *f)
{
        ssize_t n;
        /* The consumer gave up (a refused entry): stop reading rather than
         * wait on a pipe whose writer is idle. */
        struct pollfd p[2] = { { .fd = f->fd, .events = POLLIN }, { .fd = f->cancel_fd, .events = POLLIN } };
        while (poll(p, 2, -1) < 0)
                if (errno != EINTR)
                        return -errno;
        if (p[1].revents || __atomic_load_n(&f->cancel, __ATOMIC_RELAXED))
                return -ECANCELED;
        do
                n = read(f->fd, f->in, FEED_READ_BLOCK);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
}

#ifdef HAVE_ISAL
/* ISA-L's inflate is two to three times zlib's: gzip, by far the most
 * common case, goes through it; everything else through libarchive. */
static void *feed_isal_main(void *p)
{
        unpack_feed *f = p;
        struct inflate_state st;
        bool in_eof = false;
        uint64_t consumed = f->in_len;
        char msg[128];
        /* Each member's header is read with a record of our own:
         * isal_inflate reads it afresh at every call, so it would check
         * FHCRC over the last read of a header spanning two only. */
        struct isal_gzip_header gz;
        isal_inflate_init(&st);
        isal_gzip_header_init(&gz);
        st.crc_flag = ISAL_GZIP;
        st.next_in = f->in;
        st.avail_in = (uint32_t)f->in_len;
        for (;;) {
                struct chunk *c = feed_slot(f);
                if (!c)
                        return NULL;
                st.next_out = (uint8_t *)c->buf;
                st.avail_out = FEED_CHUNK;
                bool end = false;
                const char *error = NULL;
                while (st.avail_out > 0) {
                        if (st.avail_in == 0 && !in_eof) {
                                /* Hand over what is decoded before a read
                                 * that may block on a slow pipe. */
                                if (st.avail_out < FEED_CHUNK)
                                        break;
                                ssize_t n = feed_read_input(f);
                                if (n < 0) {
                                        snprintf(msg, sizeof(msg), "reading: %s", strerror((int)-n));
                                        error = msg;
                                        break;
                                }
                                in_eof = n == 0;
                                st.next_in = f->in;
                                st.avail_in = (uint32_t)n;
                                consumed += (uint64_t)n;
                                continue;
                        }
                        if (st.block_state == ISAL_BLOCK_FINISH) {
                                /* gzip allows several members one after
                                 * another; anything else after one is
                                 * ignored, as gzip and libarchive do. */
                                if (st.avail_in == 0 && in_eof) {
                                        end = true;
                                        break;
                                }
                                if (st.avail_in == 0)
                                        continue;
                                if (st.next_in[0] != 0x1f) {
                                        end = true;
                                        break;
                                }
                                uint8_t *next_in = st.next_in;
                                uint32_t avail_in = st.avail_in;
                                isal_inflate_reset(&st);
                                isal_gzip_header_init(&gz);
                                st.crc_flag = ISAL_GZIP;
                                st.next_in = next_in;
                                st.avail_in = avail_in;
                        }
                        if (!st.wrapper_flag) {
                                int hr = isal_read_gzip_header(&st, &gz);
                                if (hr == ISAL_END_INPUT && st.avail_in == 0) {
                                        if (in_eof) {
                                                error = "truncated gzip input";
                                                break;
                                        }
                                        continue; /* the header goes on in the next read */
                                }
                                /* Reserved flags are an error (RFC 1952),
                                 * as zlib has them; ISA-L lets them pass. */
                                if (hr != ISAL_DECOMP_OK || (gz.flags & 0xe0)) {
                                        error = "gzip header is corrupt";
                                        break;
                                }
                                continue;
                        }
                        uint32_t before = st.avail_out, before_in = st.avail_in;
                        int r = isal_inflate(&st);
                        if (r == ISAL_INCORRECT_CHECKSUM) {
                                error = "gzip checksum mismatch";
                                break;
                        }
                        if (r < 0) {
                                error = "gzip data is corrupt";
                                break;
                        }
                        if (in_eof && st.avail_in == 0 && st.block_state != ISAL_BLOCK_FINISH &&
                            st.avail_out == before && before_in == 0) {
                                error = "truncated gzip input";
                                break;
                        }
                }
                c->len = FEED_CHUNK - st.avail_out;
                c->consumed = consumed;
                feed_publish(f, c, end || error, error);
                if (end || error)
                        return NULL;
        }
}
#endif

/* libarchive's client reader: the bytes read ahead first, then the fd. */
static la_ssize_t feed_client_read(struct archive *a, void *userdata, const void **buf)
{
        unpack_feed *f = userdata;
        *buf = f->in;
        if (!f->in_primed) {
                f->in_primed = true;
                return (la_ssize_t)f->in_len;
        }
        ssize_t n = feed_read_input(f);
        if (n < 0) {
                archive_set_error(a, (int)-n, "reading: %s", strerror((int)-n));
                return -1;
        }
        return n;
}

static void *feed_main(void *p)
{
        unpack_feed *f = p;
        const void *block = NULL;
        size_t left = 0;
        for (;;) {
                struct chunk *c = feed_slot(f);
                if (!c)
                        return NULL;
                /* Blocks as the filter hands them out, so that a slow pipe
                 * never holds back what was already decoded. */
                int r = ARCHIVE_OK;
                if (left == 0) {
                        la_int64_t off;
                        r = archive_read_data_block(f->a, &block, &left, &off);
                        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                                left = 0;
                }
                c->len = left < FEED_CHUNK ? left : FEED_CHUNK;
                if (c->len) {
                        memcpy(c->buf, block, c->len);
                        block = (const char *)block + c->len;
                }
                left -= c->len;
                c->consumed = (uint64_t)archive_filter_bytes(f->a, -1);
                bool end = r == ARCHIVE_EOF || r < ARCHIVE_WARN;
                const char *msg =
                        r < ARCHIVE_WARN ? archive_error_string(f->a) ?: "decompression failed" : NULL;
                feed_publish(f, c, end, msg);
                if (end)
                        return NULL;
        }
}

int unpack_feed_start(int fd, uint64_t total, unpack_feed **ret, char *err, size_t errlen)
{
        (void)total;
        unpack_feed *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->fd = fd;
        f->cancel_fd = eventfd(0, EFD_CLOEXEC);
        if (f->cancel_fd < 0) {
                free(f);
                return -errno;
        }
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->cond, NULL);
        for (size_t i = 0; i < FEED_SLOTS; i++)
                if (!(f->slots[i].buf = malloc(FEED_CHUNK))) {
                        unpack_feed_free(f);
                        return -ENOMEM;
                }
        int r = -ENOMEM;
        if (!(f->in = malloc(FEED_READ_BLOCK)))
                goto fail;
        /* Read ahead enough to recognise the compression (a pipe may hand
         * over fewer bytes at a time). */
        while (f->in_len < 4) {
                ssize_t n = read(fd, f->in + f->in_len, FEED_READ_BLOCK - f->in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        snprintf(err, errlen, "reading: %s", strerror(errno));
                        goto fail;
                }
                if (n == 0)
                        break;
                f->in_len += (size_t)n;
        }
        if (f->in_len == 0) {
                snprintf(err, errlen, "empty input");
                r = -ROOST_EARCHIVE;
                goto fail;
        }
        void *(*main)(void *) = feed_main;
#ifdef HAVE_ISAL
        if (f->in_len >= 3 && f->in[0] == 0x1f && f->in[1] == 0x8b && f->in[2] == 8 &&
            !getenv("ROOST_UNPACK_ZLIB")) {
                main = feed_isal_main;
                snprintf(f->filter, sizeof(f->filter), "gzip");
        }
#endif
        if (main == feed_main) {
                struct archive_entry *ent;
                r = -ROOST_EARCHIVE;
                f->a = archive_read_new();
                if (!f->a) {
                        r = -ENOMEM;
                        goto fail;
                }
                unpack_read_filters(f->a);
                archive_read_support_format_raw(f->a);
                if (archive_read_open(f->a, f, NULL, feed_client_read, NULL) != ARCHIVE_OK)
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
        }
        r = -pthread_create(&f->thread, NULL, main, f);
        if (r < 0)
                goto fail;
        f->started = true;
        *ret = f;
        return 0;
fail_archive:
        snprintf(err, errlen, "%s", archive_error_string(f->a) ?: "unreadable input");
        r = archive_errno(f->a) == EIO || archive_errno(f->a) == ENOMEM ? -archive_errno(f->a)
                                                                        : -ROOST_EARCHIVE;
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
                __atomic_store_n(&f->cancel, true, __ATOMIC_RELAXED);
                pthread_cond_broadcast(&f->cond);
                pthread_mutex_unlock(&f->lock);
                (void)eventfd_write(f->cancel_fd, 1);
                pthread_join(f->thread, NULL);
        }
        if (f->a)
                archive_read_free(f->a);
        for (size_t i = 0; i < FEED_SLOTS; i++)
                free(f->slots[i].buf);
        free(f->in);
        close(f->cancel_fd);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->cond);
        free(f);
}
