/* Finding what the store holds, by name alone: nothing here hashes. A
 * tool that only reads the store (launch, above all) then links none of
 * OpenSSL, whose start-up (relocations, CPU probing) costs every launch
 * more than most of its namespaces do (docs/launch.md). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

void store_blob_name(const char *sha256, char *buf, size_t n)
{
        snprintf(buf, n, "blobs/sha256/%s", sha256);
}

void store_tree_name(const char *sha256, const char *below, char *buf, size_t n)
{
        snprintf(buf, n, "trees/%s%s%s", sha256, below ? "/" : "", below ? below : "");
}

bool store_digest_valid(const char *sha256)
{
        return is_hex(sha256, STORE_SHA256_HEX);
}

/* NAME below the store is there, of TYPE (S_IFREG, S_IFDIR), not a link. */
static bool entry_is(store *s, const char *name, mode_t type)
{
        struct stat st;
        return fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == type;
}

bool store_blob_exists(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return false;
        store_blob_name(sha256, name, sizeof(name));
        return entry_is(s, name, S_IFREG);
}

bool store_tree_exists(store *s, const char *sha256)
{
        char name[128];
        if (!store_digest_valid(sha256))
                return false;
        store_tree_name(sha256, "rootfs", name, sizeof(name));
        return entry_is(s, name, S_IFDIR);
}

int store_tree_path(store *s, const char *sha256, char **ret)
{
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        if (asprintf(ret, "%s/trees/%s/rootfs", s->root, sha256) < 0)
                return -ENOMEM;
        return 0;
}

int store_blob_read(store *s, const char *sha256, size_t max, char **ret, size_t *ret_n)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_blob_name(sha256, name, sizeof(name));
        return read_file_at(s->fd, name, max, ret, ret_n);
}

