#include "config.h"
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

/* SHA-256 and SHA-512 of a download cost more CPU than receiving it, so
 * once a stream is large enough each digest runs on its own thread: the
 * writer copies bytes into a ring and goes back to the network, and the
 * hashing overlaps the transfer instead of following it. Small inputs
 * (checksum files, unit tests) are hashed in place. The ring bounds
 * memory whatever the stream's size.
 *
 * Its size is set by the scheduler more than by the hashing: the network
 * thread, two workers and the server share few cores, and a thread that
 * loses its core waits out a slice of a few milliseconds. A ring that
 * holds less than such a slice of SHA-512 runs the workers dry (or stops
 * the writer at a full ring) while a core idles; a larger one costs peak
 * memory against pull's budget. docs/pull.md has the measurements. */
#define RING_SIZE   (2u << 20)
#define ASYNC_AFTER (1u << 20)
/* A gzip layer's diff_id (inflating, then hashing what comes out) costs
 * several times what the two digests do: threads pay for themselves
 * after the first batch. */
#define ASYNC_AFTER_LAYER (128u << 10)
/* Waking a thread per network read (16 KiB TLS records) costs more than
 * the hashing saves: workers are woken for batches. */
#define BATCH (128u << 10)

struct worker {
        store_hash *h;
        EVP_MD_CTX *ctx;
        /* The diff_id's worker inflates a gzip layer and hashes what comes
         * out (OCI's diff_id: the SHA-256 of the uncompressed tar), beside
         * the other two and over the same ring: no second pass. ISA-L's
         * inflater where roost is built with it (three to four times
         * zlib's), since the diff_id is what a pull waits for last. */
#ifdef HAVE_ISAL
        struct inflate_state *z;
        /* A member's header, read by us: isal_inflate reads it with a
         * header of its own each call, and so checks FHCRC over the last
         * piece of a header that spans pieces only. */
        struct isal_gzip_header gz;
#else
        z_stream *z;
#endif
        bool z_end; /* a gzip member ended: another may follow */
        bool z_bad; /* the stream is not gzip: no diff_id */
        uint64_t tail; /* bytes of the stream this digest has consumed */
        pthread_t thread;
        bool failed;
        bool idle; /* waiting for a batch; cleared by whoever wakes it */
        bool skip; /* hash nothing more (a SHA-512 a signature stands in for) */
};

struct store_hash {
        struct worker w[3]; /* sha256, sha512, and a layer's diff_id */
        unsigned n;         /* workers in use: 2, or 3 for a gzip layer */
        uint64_t seen;      /* bytes given to store_hash_update */
        bool async;
        /* async only: */
        unsigned char *ring;
        uint64_t head; /* bytes put into the ring */
        bool stop, flush;
        bool writer_waiting; /* waiting for space */
        pthread_mutex_t mu;
        pthread_cond_t more, space;
};

#ifdef HAVE_ISAL
static void gunzip_member(struct worker *w)
{
        /* The reset forgets the input, and gzip's wrapper with it. */
        struct inflate_state *z = w->z;
        uint8_t *next_in = z->next_in;
        uint32_t avail_in = z->avail_in;
        isal_inflate_reset(z);
        z->crc_flag = ISAL_GZIP;
        z->next_in = next_in;
        z->avail_in = avail_in;
        isal_gzip_header_init(&w->gz);
}

static int inflate_hash(struct worker *w, const unsigned char *p, size_t n)
{
        static _Thread_local unsigned char out[1 << 16];
        struct inflate_state *z = w->z;
        z->next_in = (uint8_t *)p;
        z->avail_in = (uint32_t)n;
        while (z->avail_in > 0) {
                if (w->z_end) {
                        /* gzip allows members one after another (pigz
                         * writes them); each is part of the same tar. */
                        gunzip_member(w);
                        w->z_end = false;
                }
                if (!z->wrapper_flag) {
                        int r = isal_read_gzip_header(z, &w->gz);
                        if (r == ISAL_END_INPUT && z->avail_in == 0)
                                break; /* the header goes on in the next piece */
                        /* Reserved flags are an error (RFC 1952), as
                         * zlib has them; ISA-L lets them pass. */
                        if (r != ISAL_DECOMP_OK || (w->gz.flags & 0xe0))
                                return -EIO;
                        continue; /* the data may start in the next piece */
                }
                uint32_t in_before = z->avail_in;
                z->next_out = out;
                z->avail_out = sizeof(out);
                if (isal_inflate(z) < 0)
                        return -EIO;
                size_t got = sizeof(out) - z->avail_out;
                if (got && !EVP_DigestUpdate(w->ctx, out, got))
                        return -EIO;
                if (z->block_state == ISAL_BLOCK_FINISH)
                        w->z_end = true;
                else if (!got && z->avail_in == in_before)
                        return -EIO; /* no way forward: not gzip */
        }
        return 0;
}
#else
static int inflate_hash(struct worker *w, const unsigned char *p, size_t n)
{
        static _Thread_local unsigned char out[1 << 16];
        z_stream *z = w->z;
        z->next_in = (unsigned char *)p;
        z->avail_in = (uInt)n;
        while (z->avail_in > 0) {
                if (w->z_end) {
                        /* gzip allows members one after another (pigz
                         * writes them); each is part of the same tar. */
                        if (inflateReset(z) != Z_OK)
                                return -EIO;
                        w->z_end = false;
                }
                z->next_out = out;
                z->avail_out = sizeof(out);
                int r = inflate(z, Z_NO_FLUSH);
                if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                        return -EIO;
                if (!EVP_DigestUpdate(w->ctx, out, sizeof(out) - z->avail_out))
                        return -EIO;
                if (r == Z_STREAM_END)
                        w->z_end = true;
                else if (r == Z_BUF_ERROR && z->avail_out != 0)
                        break;
        }
        return 0;
}
#endif

/* Bytes that are not gzip spoil the diff_id alone: the digests of the
 * blob must still say what the bytes are (a tampered download is a
 * checksum mismatch, not an I/O error). */
static int consume(struct worker *w, const unsigned char *p, size_t n)
{
        if (w->skip)
                return 0;
        if (w->z) {
                if (!w->z_bad && inflate_hash(w, p, n) < 0)
                        w->z_bad = true;
                return 0;
        }
        return EVP_DigestUpdate(w->ctx, p, n) ? 0 : -EIO;
}

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        store_hash *h = w->h;
        pthread_mutex_lock(&h->mu);
        for (;;) {
                while (h->head - w->tail < BATCH && !h->stop && !(h->flush && w->tail != h->head)) {
                        w->idle = true;
                        pthread_cond_wait(&h->more, &h->mu);
                }
                w->idle = false;
                if (w->tail == h->head)
                        break;
                uint64_t head = h->head;
                pthread_mutex_unlock(&h->mu);
                size_t off = (size_t)(w->tail % RING_SIZE);
                size_t n = head - w->tail < RING_SIZE - off ? (size_t)(head - w->tail) : RING_SIZE - off;
                /* Hand space back a batch at a time: a worker that hashed the
                 * whole ring before moving its tail would keep the writer
                 * (and the network behind it) waiting for all of it. */
                if (n > BATCH)
                        n = BATCH;
                if (consume(w, h->ring + off, n) < 0)
                        w->failed = true;
                pthread_mutex_lock(&h->mu);
                w->tail += n;
                if (h->writer_waiting)
                        pthread_cond_broadcast(&h->space);
        }
        pthread_mutex_unlock(&h->mu);
        return NULL;
}

static uint64_t min_tail(const store_hash *h)
{
        uint64_t m = h->w[0].tail;
        for (unsigned i = 1; i < h->n; i++)
                if (h->w[i].tail < m)
                        m = h->w[i].tail;
        return m;
}

static bool any_failed(const store_hash *h)
{
        return h->w[0].failed || h->w[1].failed || h->w[2].failed;
}

static void stop_workers(store_hash *h, unsigned started)
{
        pthread_mutex_lock(&h->mu);
        h->stop = true;
        pthread_cond_broadcast(&h->more);
        pthread_mutex_unlock(&h->mu);
        for (unsigned i = 0; i < started; i++)
                pthread_join(h->w[i].thread, NULL);
        h->stop = false;
}

/* Start the threads; when that fails, stay synchronous: slower, not wrong. */
static void go_async(store_hash *h)
{
        h->ring = malloc(RING_SIZE);
        if (!h->ring)
                return;
        pthread_mutex_init(&h->mu, NULL);
        pthread_cond_init(&h->more, NULL);
        pthread_cond_init(&h->space, NULL);
        h->head = h->seen;
        for (unsigned i = 0; i < h->n; i++)
                h->w[i].tail = h->seen;
        for (unsigned i = 0; i < h->n; i++)
                if (pthread_create(&h->w[i].thread, NULL, worker_main, &h->w[i]) != 0) {
                        stop_workers(h, i);
                        goto fail;
                }
        h->async = true;
        return;
fail:
        pthread_cond_destroy(&h->more);
        pthread_cond_destroy(&h->space);
        pthread_mutex_destroy(&h->mu);
        free(h->ring);
        h->ring = NULL;
}

/* Wait until both digests have seen every byte given so far. */
static int drain(store_hash *h)
{
        if (!h->async)
                return 0;
        pthread_mutex_lock(&h->mu);
        h->flush = true;
        pthread_cond_broadcast(&h->more);
        while (min_tail(h) != h->head) {
                h->writer_waiting = true;
                pthread_cond_wait(&h->space, &h->mu);
                h->writer_waiting = false;
        }
        h->flush = false;
        pthread_mutex_unlock(&h->mu);
        return any_failed(h) ? -EIO : 0;
}

int store_hash_new(store_hash **ret)
{
        store_hash *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->n = 2;
        h->w[0].h = h->w[1].h = h->w[2].h = h;
        h->w[0].ctx = EVP_MD_CTX_new();
        h->w[1].ctx = EVP_MD_CTX_new();
        if (!h->w[0].ctx || !h->w[1].ctx || !EVP_DigestInit_ex(h->w[0].ctx, EVP_sha256(), NULL) ||
            !EVP_DigestInit_ex(h->w[1].ctx, EVP_sha512(), NULL)) {
                store_hash_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

void store_hash_free(store_hash *h)
{
        if (!h)
                return;
        if (h->async) {
                stop_workers(h, h->n);
                pthread_cond_destroy(&h->more);
                pthread_cond_destroy(&h->space);
                pthread_mutex_destroy(&h->mu);
                free(h->ring);
        }
        for (unsigned i = 0; i < 3; i++)
                EVP_MD_CTX_free(h->w[i].ctx);
        if (h->w[2].z) {
#ifndef HAVE_ISAL
                inflateEnd(h->w[2].z);
#endif
                free(h->w[2].z);
        }
        free(h);
}

int store_hash_update(store_hash *h, const void *buf, size_t n)
{
        const unsigned char *p = buf;
        if (!h->async && h->seen + n > (h->n == 3 ? ASYNC_AFTER_LAYER : ASYNC_AFTER))
                go_async(h);
        h->seen += n;
        if (!h->async) {
                for (unsigned i = 0; i < h->n; i++)
                        if (consume(&h->w[i], p, n) < 0)
                                return -EIO;
                return 0;
        }
        while (n > 0) {
                pthread_mutex_lock(&h->mu);
                while (h->head - min_tail(h) == RING_SIZE) {
                        /* Full: whoever lags must run even below a batch. */
                        h->flush = true;
                        pthread_cond_broadcast(&h->more);
                        h->writer_waiting = true;
                        pthread_cond_wait(&h->space, &h->mu);
                        h->writer_waiting = false;
                        h->flush = false;
                }
                size_t avail = RING_SIZE - (size_t)(h->head - min_tail(h));
                size_t off = (size_t)(h->head % RING_SIZE);
                pthread_mutex_unlock(&h->mu);
                /* The free part of the ring is ours alone until head moves. */
                size_t k = n < avail ? n : avail;
                if (k > RING_SIZE - off)
                        k = RING_SIZE - off;
                memcpy(h->ring + off, p, k);
                pthread_mutex_lock(&h->mu);
                h->head += k;
                bool wake = false;
                for (unsigned i = 0; i < h->n; i++)
                        if (h->w[i].idle && h->head - h->w[i].tail >= BATCH) {
                                h->w[i].idle = false;
                                wake = true;
                        }
                if (wake)
                        pthread_cond_broadcast(&h->more);
                pthread_mutex_unlock(&h->mu);
                p += k;
                n -= k;
        }
        return any_failed(h) ? -EIO : 0;
}

static int peek_one(EVP_MD_CTX *ctx, char *out)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_MD_CTX *copy = EVP_MD_CTX_new();
        if (!copy)
                return -ENOMEM;
        int ok = EVP_MD_CTX_copy_ex(copy, ctx) && EVP_DigestFinal_ex(copy, md, &len);
        EVP_MD_CTX_free(copy);
        if (!ok)
                return -EIO;
        hex_encode(md, len, out);
        return 0;
}

int store_hash_want_diff_id(store_hash *h)
{
        if (h->seen || h->n == 3)
                return -EINVAL;
        struct worker *w = &h->w[2];
        if (!(w->ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w->ctx, EVP_sha256(), NULL) ||
            !(w->z = calloc(1, sizeof(*w->z))))
                return -ENOMEM;
#ifdef HAVE_ISAL
        isal_inflate_init(w->z);
        w->z->crc_flag = ISAL_GZIP; /* gzip's header and trailer, checked */
        isal_gzip_header_init(&w->gz);
#else
        /* 16 + MAX_WBITS: gzip's header and trailer, checked. */
        if (inflateInit2(w->z, 16 + MAX_WBITS) != Z_OK) {
                free(w->z);
                w->z = NULL;
                return -ENOMEM;
        }
#endif
        h->n = 3;
        return 0;
}

int store_hash_diff_id(store_hash *h, char sha256[STORE_SHA256_HEX + 1])
{
        if (h->n != 3)
                return -EINVAL;
        int r = drain(h);
        if (r < 0)
                return r;
        /* A layer cut short has no diff_id: its tar is not whole. */
        if (h->w[2].z_bad || !h->w[2].z_end || h->w[2].z->avail_in != 0)
                return -ROOST_EFORMAT;
        return peek_one(h->w[2].ctx, sha256);
}

int store_hash_peek(store_hash *h, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1])
{
        /* The workers sleep once drained, and only the caller (the one
         * writer) could wake them, so their contexts are safe to copy. */
        int r = drain(h);
        if (r == 0 && sha256)
                r = peek_one(h->w[0].ctx, sha256);
        if (r == 0 && sha512)
                r = h->w[1].skip ? -ENODATA : peek_one(h->w[1].ctx, sha512);
        return r;
}

void store_hash_skip_sha512(store_hash *h)
{
        /* A worker reads the flag after taking the lock for its next
         * batch; bytes it hashes meanwhile are wasted, not wrong. */
        if (h->async)
                pthread_mutex_lock(&h->mu);
        h->w[1].skip = true;
        if (h->async)
                pthread_mutex_unlock(&h->mu);
}

int store_hash_fd(store_hash *h, int fd, uint64_t *ret_size)
{
        static _Thread_local unsigned char buf[1 << 16];
        uint64_t off = 0;
        for (;;) {
                ssize_t k = pread(fd, buf, sizeof(buf), (off_t)off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                int r = store_hash_update(h, buf, (size_t)k);
                if (r < 0)
                        return r;
                off += (uint64_t)k;
        }
        if (ret_size)
                *ret_size = off;
        return 0;
}
