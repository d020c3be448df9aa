#include "config.h"
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
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
/* Waking a thread per network read (16 KiB TLS records) costs more than
 * the hashing saves: workers are woken for batches. */
#define BATCH (128u << 10)

struct worker {
        store_hash *h;
        EVP_MD_CTX *ctx;
        uint64_t tail; /* bytes of the stream this digest has consumed */
        pthread_t thread;
        bool failed;
        bool idle; /* waiting for a batch; cleared by whoever wakes it */
};

struct store_hash {
        struct worker w[2]; /* sha256, sha512 */
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
                if (!EVP_DigestUpdate(w->ctx, h->ring + off, n))
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
        return h->w[0].tail < h->w[1].tail ? h->w[0].tail : h->w[1].tail;
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
        h->w[0].tail = h->w[1].tail = h->seen;
        if (pthread_create(&h->w[0].thread, NULL, worker_main, &h->w[0]) != 0)
                goto fail;
        if (pthread_create(&h->w[1].thread, NULL, worker_main, &h->w[1]) != 0) {
                pthread_mutex_lock(&h->mu);
                h->stop = true;
                pthread_cond_broadcast(&h->more);
                pthread_mutex_unlock(&h->mu);
                pthread_join(h->w[0].thread, NULL);
                h->stop = false;
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
        while (h->w[0].tail != h->head || h->w[1].tail != h->head) {
                h->writer_waiting = true;
                pthread_cond_wait(&h->space, &h->mu);
                h->writer_waiting = false;
        }
        h->flush = false;
        pthread_mutex_unlock(&h->mu);
        return h->w[0].failed || h->w[1].failed ? -EIO : 0;
}

int store_hash_new(store_hash **ret)
{
        store_hash *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->w[0].h = h->w[1].h = h;
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
                pthread_mutex_lock(&h->mu);
                h->stop = true;
                pthread_cond_broadcast(&h->more);
                pthread_mutex_unlock(&h->mu);
                pthread_join(h->w[0].thread, NULL);
                pthread_join(h->w[1].thread, NULL);
                pthread_cond_destroy(&h->more);
                pthread_cond_destroy(&h->space);
                pthread_mutex_destroy(&h->mu);
                free(h->ring);
        }
        EVP_MD_CTX_free(h->w[0].ctx);
        EVP_MD_CTX_free(h->w[1].ctx);
        free(h);
}

int store_hash_update(store_hash *h, const void *buf, size_t n)
{
        const unsigned char *p = buf;
        if (!h->async && h->seen + n > ASYNC_AFTER)
                go_async(h);
        h->seen += n;
        if (!h->async) {
                if (!EVP_DigestUpdate(h->w[0].ctx, p, n) || !EVP_DigestUpdate(h->w[1].ctx, p, n))
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
                for (int i = 0; i < 2; i++)
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
        return h->w[0].failed || h->w[1].failed ? -EIO : 0;
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

int store_hash_peek(store_hash *h, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1])
{
        /* The workers sleep once drained, and only the caller (the one
         * writer) could wake them, so their contexts are safe to copy. */
        int r = drain(h);
        if (r == 0 && sha256)
                r = peek_one(h->w[0].ctx, sha256);
        if (r == 0 && sha512)
                r = peek_one(h->w[1].ctx, sha512);
        return r;
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
