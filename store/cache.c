/* The build cache's records: cache/<key> names the image a build step
 * made (its manifest's hex), where KEY is the SHA-256 the builder made of
 * the step's parent and instruction. The store knows nothing of
 * Dockerfiles: a key is an opaque digest, the record one line. gc (gc.c)
 * keeps a record, and its image's manifest and config, only while every
 * layer of that image is a layer of a referenced image. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

static int record_name(const char *key, char *buf, size_t n)
{
        if (!store_digest_valid(key))
                return -ROOST_EUNSAFE;
        snprintf(buf, n, "cache/%s", key);
        return 0;
}

int store_cache_read(store *s, const char *key, char ret_digest[STORE_SHA256_HEX + 1])
{
        char name[96];
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = record_name(key, name, sizeof(name));
        if (r < 0 || (r = read_file_at(s->fd, name, 256, &text, &len)) < 0)
                return r;
        if (len < STORE_SHA256_HEX + 7 || strncmp(text, "sha256:", 7) ||
            (text[7 + STORE_SHA256_HEX] && text[7 + STORE_SHA256_HEX] != '\n'))
                return -ROOST_EFORMAT;
        text[7 + STORE_SHA256_HEX] = 0;
        if (!store_digest_valid(text + 7))
                return -ROOST_EFORMAT;
        /* A record whose image went (a gc cut short) is no hit. */
        if (!store_blob_exists(s, text + 7))
                return -ENOENT;
        memcpy(ret_digest, text + 7, STORE_SHA256_HEX + 1);
        return 0;
}

int store_cache_write(store *s, const char *key, const char *digest)
{
        char name[96], text[STORE_SHA256_HEX + 16];
        int r = record_name(key, name, sizeof(name));
        if (r < 0)
                return r;
        if (!store_digest_valid(digest))
                return -EINVAL;
        if (s->read_only)
                return -EROFS;
        if ((r = mkdir_at_p(s->fd, "cache", 0700)) < 0)
                return r;
        /* Written in cache/ itself: the temporary beside its final name. */
        _cleanup_close_ int dfd = openat(s->fd, "cache", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        int n = snprintf(text, sizeof(text), "sha256:%s\n", digest);
        return write_file_atomic_at(dfd, name + 6, text, (size_t)n, 0600);
}

int store_cache_remove(store *s, const char *key)
{
        char name[96];
        int r = record_name(key, name, sizeof(name));
        if (r < 0)
                return r;
        return unlinkat(s->fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}
