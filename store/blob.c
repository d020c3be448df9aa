#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

struct store_blob {
        store *s;
        int fd; /* partial/<sha256>, opened for append and locked */
        char sha256[STORE_SHA256_HEX + 1];
        char partial[16 + STORE_SHA256_HEX];
        uint64_t size;    /* bytes accepted, buffered ones included */
        uint64_t written; /* bytes in the file */
        uint64_t synced;  /* bytes whose writeback has been started */
        store_hash *hash;
        bool skip_sha512;
        int (*tee)(void *userdata, const void *buf, size_t n);
        void *tee_userdata;
        bool layer; /* a layer: its diff_id is recorded at commit */
        bool gzip;
        /* Network reads come in odd sizes; the page cache takes whole,
         * aligned pages far more cheaply (no partial-page zeroing). */
        unsigned char *wbuf;
        size_t wlen;
        /* store_blob_begin_new: its digest is known only at the end, so it
         * is written in a temporary of its own (tmp/<pid>.<random>, held
         * locked by tmp_fd), and sha256 stays empty until published. */
        int tmp_fd;
        char *tmp_name;
};

#define WBUF_SIZE (256u << 10)

static int layer_record(store *s, const char *sha256, const char *diff_id);
/* Start writeback as the file grows, so that the fsync before publishing
 * finds little left to write instead of the whole file. */
#define WRITEBACK_EVERY (8u << 20)

int store_blob_open(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_blob_name(sha256, name, sizeof(name));
        int fd = openat(s->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int store_blob_size(store *s, const char *sha256, uint64_t *ret)
{
        char name[96];
        struct stat st;
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_blob_name(sha256, name, sizeof(name));
        if (fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = (uint64_t)st.st_size;
        return 0;
}

int store_blob_remove(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_blob_name(sha256, name, sizeof(name));
        return unlinkat(s->fd, name, 0) < 0 ? -errno : 0;
}

static void blob_free(store_blob *b)
{
        if (!b)
                return;
        closep(&b->fd); /* releases the lock */
        if (b->tmp_name) {
                /* What is left of an unpublished blob goes with its
                 * temporary; store_cleanup would remove it otherwise. */
                (void)unlinkat(b->tmp_fd, "blob", 0);
                (void)unlinkat(b->s->fd, b->tmp_name, AT_REMOVEDIR);
                free(b->tmp_name);
        }
        closep(&b->tmp_fd);
        store_hash_free(b->hash);
        free(b->wbuf);
        free(b);
}
/* Frees a blob being begun: unlike store_blob_abort, leaves its partial
 * file to the writer who holds it or will resume it. */
DEFINE_TRIVIAL_CLEANUP_FUNC(store_blob *, blob_free)

/* Feed the bytes an earlier writer left into the hash, so that a resumed
 * download is verified whole and not just its tail. */
static int blob_rehash(store_blob *b)
{
        uint64_t size;
        int r = store_hash_fd(b->hash, b->fd, &size);
        if (r < 0)
                return r;
        b->size = b->written = b->synced = size;
        return 0;
}

/* Only a hint to start I/O: the fsync in commit is what makes the bytes
 * durable, so a failure here is ignored. */
static void blob_start_writeback(store_blob *b)
{
        if (b->written == b->synced)
                return;
        (void)sync_file_range(b->fd, (off_t)b->synced, (off_t)(b->written - b->synced), SYNC_FILE_RANGE_WRITE);
        b->synced = b->written;
}

static int blob_flush(store_blob *b)
{
        if (b->wlen == 0)
                return 0;
        int r = write_all(b->fd, b->wbuf, b->wlen);
        if (r < 0) {
                /* A short write (a full disk) must not leave half a buffer
                 * that a retry would append again: cut back to what is
                 * known to be whole. */
                if (ftruncate(b->fd, (off_t)b->written) == 0)
                        (void)lseek(b->fd, (off_t)b->written, SEEK_SET);
                return r;
        }
        b->written += b->wlen;
        b->wlen = 0;
        if (b->written - b->synced >= WRITEBACK_EVERY)
                blob_start_writeback(b);
        return 0;
}

static int blob_hash_new(store_blob *b)
{
        int r = store_hash_new(&b->hash);
        if (r == 0 && b->layer && b->gzip)
                r = store_hash_want_diff_id(b->hash);
        if (r == 0 && b->skip_sha512)
                store_hash_skip_sha512(b->hash);
        return r;
}

static int blob_begin(store *s, const char *sha256, bool layer, bool gzip, store_blob **ret)
{
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        _cleanup_(blob_freep) store_blob *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->s = s;
        b->layer = layer;
        b->gzip = gzip;
        b->fd = b->tmp_fd = -1;
        memcpy(b->sha256, sha256, sizeof(b->sha256));
        snprintf(b->partial, sizeof(b->partial), "partial/%s", sha256);

        int r;
        if (store_blob_exists(s, sha256)) {
                *ret = NULL;
                return 1;
        }
        for (;;) {
                b->fd = openat(s->fd, b->partial, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (b->fd < 0)
                        return -errno;
                while (flock(b->fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return -errno;
                /* Whoever held the lock before us may have finished the job;
                 * then the partial file we just made is litter. */
                if (store_blob_exists(s, sha256)) {
                        unlinkat(s->fd, b->partial, 0);
                        *ret = NULL;
                        return 1;
                }
                /* ...or renamed the file we opened away: then our fd is not
                 * the partial file any more, and we must open the new one. */
                struct stat a, c;
                if (fstat(b->fd, &a) < 0)
                        return -errno;
                if (fstatat(s->fd, b->partial, &c, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == c.st_ino &&
                    a.st_dev == c.st_dev)
                        break;
                close(b->fd);
                b->fd = -1;
        }
        if ((r = blob_hash_new(b)) < 0 || (r = blob_rehash(b)) < 0)
                return r;
        if (lseek(b->fd, 0, SEEK_END) < 0)
                return -errno;
        *ret = TAKE_PTR(b);
        return 0;
}

int store_blob_begin(store *s, const char *sha256, store_blob **ret)
{
        return blob_begin(s, sha256, false, false, ret);
}

int store_blob_begin_layer(store *s, const char *sha256, bool gzip, store_blob **ret)
{
        return blob_begin(s, sha256, true, gzip, ret);
}

uint64_t store_blob_offset(const store_blob *b)
{
        return b->size;
}

int store_blob_restart(store_blob *b)
{
        if (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0)
                return -errno;
        store_hash_free(b->hash);
        b->hash = NULL;
        b->size = b->written = b->synced = 0;
        b->wlen = 0;
        if (b->tee) {
                int r = b->tee(b->tee_userdata, NULL, 0);
                if (r < 0)
                        return r;
        }
        return blob_hash_new(b);
}

int store_blob_tee(store_blob *b, int (*fn)(void *userdata, const void *buf, size_t n), void *userdata)
{
        /* The bytes an earlier writer left are read back once (only a
         * resume has any); the stream itself is handed over as it comes. */
        static _Thread_local unsigned char buf[1 << 16];
        for (uint64_t off = 0; off < b->written;) {
                size_t want = b->written - off < sizeof(buf) ? (size_t)(b->written - off) : sizeof(buf);
                ssize_t k = pread(b->fd, buf, want, (off_t)off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                int r = fn(userdata, buf, (size_t)k);
                if (r < 0)
                        return r;
                off += (uint64_t)k;
        }
        if (b->wlen > 0) {
                int r = fn(userdata, b->wbuf, b->wlen);
                if (r < 0)
                        return r;
        }
        b->tee = fn;
        b->tee_userdata = userdata;
        return 0;
}

void store_blob_skip_sha512(store_blob *b)
{
        b->skip_sha512 = true;
        store_hash_skip_sha512(b->hash);
}

int store_blob_write(store_blob *b, const void *buf, size_t n)
{
        int r;
        if (b->tee && (r = b->tee(b->tee_userdata, buf, n)) < 0)
                return r;
        r = store_hash_update(b->hash, buf, n);
        if (r < 0)
                return r;
        if (!b->wbuf && !(b->wbuf = malloc(WBUF_SIZE)))
                return -ENOMEM;
        const unsigned char *p = buf;
        size_t left = n;
        while (left > 0) {
                size_t k = WBUF_SIZE - b->wlen < left ? WBUF_SIZE - b->wlen : left;
                memcpy(b->wbuf + b->wlen, p, k);
                b->wlen += k;
                p += k;
                left -= k;
                if (b->wlen == WBUF_SIZE && (r = blob_flush(b)) < 0)
                        return r;
        }
        b->size += n;
        return 0;
}

int store_blob_written(store_blob *b)
{
        int r = blob_flush(b);
        if (r == 0)
                blob_start_writeback(b);
        return r;
}

int store_blob_digests(store_blob *b, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1])
{
        return store_hash_peek(b->hash, sha256, sha512);
}

int store_blob_commit(store_blob *b)
{
        char got[STORE_SHA256_HEX + 1], name[96];
        _cleanup_close_ int dfd = -1;
        int r = -EINVAL;
        if (b->tmp_name) /* no name to check against: store_blob_publish */
                goto out;
        if ((r = store_hash_peek(b->hash, got, NULL)) < 0)
                goto out;
        if (strcmp(got, b->sha256) != 0) {
                /* Wrong bytes are worthless for a resume too. */
                unlinkat(b->s->fd, b->partial, 0);
                r = -ROOST_EDIGEST;
                goto out;
        }
        if ((r = blob_flush(b)) < 0)
                goto out;
        /* The diff_id is recorded before the blob appears, so that a
         * published layer always has one to read. */
        if (b->layer) {
                char diff[STORE_SHA256_HEX + 1];
                if (b->gzip)
                        r = store_hash_diff_id(b->hash, diff);
                else
                        memcpy(diff, got, sizeof(diff));
                if (r < 0 || (r = layer_record(b->s, b->sha256, diff)) < 0)
                        goto out;
        }
        if (fsync(b->fd) < 0 || fchmod(b->fd, 0444) < 0) {
                r = -errno;
                goto out;
        }
        store_blob_name(b->sha256, name, sizeof(name));
        if (renameat2(b->s->fd, b->partial, b->s->fd, name, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r != -EEXIST)
                        goto out;
                /* Same digest, same bytes: the copy already there wins. */
                unlinkat(b->s->fd, b->partial, 0);
                r = 0;
        }
        dfd = openat(b->s->fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                r = -errno;
out:
        blob_free(b);
        return r;
}

void store_blob_abort(store_blob *b, bool keep)
{
        if (!b)
                return;
        if (b->tmp_name) /* nothing to resume: blob_free removes it */
                ;
        else if (!keep)
                unlinkat(b->s->fd, b->partial, 0);
        else
                (void)blob_flush(b); /* what we have is worth resuming from */
        blob_free(b);
}

int store_blob_begin_new(store *s, store_blob **ret)
{
        if (s->read_only)
                return -EROFS;
        store_blob *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->s = s;
        b->fd = b->tmp_fd = -1;
        int r = store_tmpdir(s, &b->tmp_name, &b->tmp_fd);
        if (r < 0) {
                blob_free(b);
                return r;
        }
        snprintf(b->partial, sizeof(b->partial), "%s/blob", b->tmp_name);
        b->fd = openat(b->tmp_fd, "blob", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (b->fd < 0 || (r = store_hash_new(&b->hash)) < 0) {
                r = b->fd < 0 ? -errno : r;
                blob_free(b);
                return r;
        }
        *ret = b;
        return 0;
}

int store_blob_publish(store_blob *b, const char *diff_id, char ret_sha256[STORE_SHA256_HEX + 1])
{
        char got[STORE_SHA256_HEX + 1], name[96];
        _cleanup_close_ int dfd = -1;
        int r = -EINVAL;
        if (!b->tmp_name || (diff_id && !store_digest_valid(diff_id)))
                goto out;
        if ((r = store_hash_peek(b->hash, got, NULL)) < 0 || (r = blob_flush(b)) < 0)
                goto out;
        /* As store_blob_commit: the diff_id first, so that a published
         * layer always has one to read. */
        if (diff_id && (r = layer_record(b->s, got, diff_id)) < 0)
                goto out;
        if (fsync(b->fd) < 0 || fchmod(b->fd, 0444) < 0) {
                r = -errno;
                goto out;
        }
        store_blob_name(got, name, sizeof(name));
        if (renameat2(b->tmp_fd, "blob", b->s->fd, name, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (r != -EEXIST)
                        goto out;
                /* The same bytes are stored already: ours go with the
                 * temporary (blob_free). */
        }
        dfd = openat(b->s->fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dfd < 0 || fsync(dfd) < 0 ? -errno : 0;
        if (r == 0)
                memcpy(ret_sha256, got, sizeof(got));
out:
        blob_free(b);
        return r;
}

static int sha256_of(const void *buf, size_t n, char ret[STORE_SHA256_HEX + 1])
{
        _cleanup_store_hash_ store_hash *h = NULL;
        int r = store_hash_new(&h);
        if (r < 0 || (r = store_hash_update(h, buf, n)) < 0)
                return r;
        return store_hash_peek(h, ret, NULL);
}

int store_blob_put(store *s, const void *buf, size_t n, char ret_sha256[STORE_SHA256_HEX + 1])
{
        int r = sha256_of(buf, n, ret_sha256);
        if (r < 0)
                return r;
        _cleanup_store_blob_ store_blob *b = NULL;
        if ((r = store_blob_begin(s, ret_sha256, &b)) != 0)
                return r > 0 ? 0 : r;
        if ((r = store_blob_restart(b)) < 0 || (r = store_blob_write(b, buf, n)) < 0)
                return r;
        return store_blob_commit(TAKE_PTR(b));
}

static void layer_name(const char *sha256, char *buf, size_t n)
{
        snprintf(buf, n, "layers/%s", sha256);
}

static int layer_record(store *s, const char *sha256, const char *diff_id)
{
        char name[96], text[STORE_SHA256_HEX + 2];
        layer_name(sha256, name, sizeof(name));
        snprintf(text, sizeof(text), "%s\n", diff_id);
        _cleanup_close_ int dfd = openat(s->fd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return write_file_atomic_at(dfd, name + strlen("layers/"), text, strlen(text), 0444);
}

int store_layer_diff_id(store *s, const char *sha256, bool gzip, char ret[STORE_SHA256_HEX + 1])
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        if (!gzip) {
                memcpy(ret, sha256, STORE_SHA256_HEX + 1);
                return 0;
        }
        layer_name(sha256, name, sizeof(name));
        _cleanup_free_ char *text = NULL;
        size_t n;
        if (read_file_at(s->fd, name, 128, &text, &n) == 0 && n == STORE_SHA256_HEX + 1 &&
            text[STORE_SHA256_HEX] == '\n') {
                text[STORE_SHA256_HEX] = 0;
                if (store_digest_valid(text)) {
                        memcpy(ret, text, STORE_SHA256_HEX + 1);
                        return 0;
                }
        }
        /* A blob stored before diff_ids were recorded (an old store), or
         * one whose record was lost: one pass, then never again. */
        _cleanup_close_ int fd = store_blob_open(s, sha256);
        if (fd < 0)
                return fd;
        _cleanup_store_hash_ store_hash *h = NULL;
        int r = store_hash_new(&h);
        if (r < 0 || (r = store_hash_want_diff_id(h)) < 0 || (r = store_hash_fd(h, fd, NULL)) < 0 ||
            (r = store_hash_diff_id(h, ret)) < 0)
                return r;
        if (!s->read_only)
                (void)layer_record(s, sha256, ret);
        return 0;
}

int store_blob_verify(store *s, const char *sha256, const char *sha512)
{
        _cleanup_close_ int fd = store_blob_open(s, sha256);
        if (fd < 0)
                return fd;
        _cleanup_store_hash_ store_hash *h = NULL;
        char got256[STORE_SHA256_HEX + 1], got512[STORE_SHA512_HEX + 1];
        int r = store_hash_new(&h);
        if (r < 0 || (r = store_hash_fd(h, fd, NULL)) < 0 || (r = store_hash_peek(h, got256, got512)) < 0)
                return r;
        if (strcmp(got256, sha256) || (sha512 && strcmp(got512, sha512)))
                return -ROOST_EDIGEST;
        return 0;
}
