#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

struct store_tree {
        store *s;
        char sha256[STORE_SHA256_HEX + 1];
        char *tmpname; /* tmp/<pid>.<random>, holding rootfs/ and metadata */
        int tmpfd;     /* holds the temporary's lock */
        int rootfd;
        int lockfd; /* locks/tree-<sha256> */
        int usefd;  /* locks/use-<sha256>, held exclusively while replacing */
};

int store_tree_remove(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_tree_name(sha256, NULL, name, sizeof(name));
        return rm_rf_at(s->fd, name);
}

static void tree_free(store_tree *t)
{
        if (!t)
                return;
        closep(&t->rootfd);
        closep(&t->tmpfd);
        closep(&t->lockfd);
        closep(&t->usefd);
        free(t->tmpname);
        free(t);
}

static int tree_begin(store *s, const char *sha256, bool replace, store_tree **ret)
{
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        _cleanup_store_tree_ store_tree *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->s = s;
        t->tmpfd = t->rootfd = t->usefd = -1;
        memcpy(t->sha256, sha256, sizeof(t->sha256));
        int r = t->lockfd = store_lock_object(s, "tree", sha256);
        if (r < 0)
                return r;
        if (replace && (r = t->usefd = store_tree_use_exclusive(s, sha256)) < 0)
                return r;
        if (!replace && store_tree_exists(s, sha256)) {
                *ret = NULL;
                return 1;
        }
        if ((r = store_tmpdir(s, &t->tmpname, &t->tmpfd)) < 0)
                return r;
        if (mkdirat(t->tmpfd, "rootfs", 0755) < 0)
                return -errno;
        t->rootfd = openat(t->tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (t->rootfd < 0)
                return -errno;
        *ret = TAKE_PTR(t);
        return 0;
}

int store_tree_begin(store *s, const char *sha256, store_tree **ret)
{
        return tree_begin(s, sha256, false, ret);
}

int store_tree_begin_replace(store *s, const char *sha256, store_tree **ret)
{
        return tree_begin(s, sha256, true, ret);
}

int store_tree_adopt(store *s, const char *sha256, int dirfd, const char *name)
{
        store_tree *t = NULL;
        int r = tree_begin(s, sha256, false, &t);
        if (r != 0)
                return r;
        /* The empty rootfs the temporary was made with goes where NAME
         * was; NAME becomes the tree. One rename, no copy. */
        if (renameat2(dirfd, name, t->tmpfd, "rootfs", RENAME_EXCHANGE) < 0) {
                r = -errno;
                store_tree_abort(t);
                return r;
        }
        closep(&t->rootfd);
        if ((t->rootfd = openat(t->tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = -errno;
                store_tree_abort(t);
                return r;
        }
        return store_tree_commit(t);
}

int store_tree_dirfd(const store_tree *t)
{
        return t->rootfd;
}

int store_tree_metafd(const store_tree *t)
{
        return t->tmpfd;
}

int store_tree_commit(store_tree *t)
{
        char name[96];
        _cleanup_close_ int dfd = -1;
        int r = 0;
        /* One syncfs instead of an fsync per file: the tree is only
         * published after every byte of it is on disk. */
        if (syncfs(t->rootfd) < 0) {
                r = -errno;
                goto fail;
        }
        /* The manifest describes exactly what is published: written after
         * the last entry landed, before the rename makes it visible. */
        if ((r = store_manifest_write(t->rootfd, t->tmpfd)) < 0)
                goto fail;
        store_tree_name(t->sha256, NULL, name, sizeof(name));
        /* Replacing: one exchange, so that the name never points at
         * nothing; the old tree is then in our temporary, removed with it. */
        bool exchange = t->usefd >= 0 && store_tree_exists(t->s, t->sha256);
        if (renameat2(t->s->fd, t->tmpname, t->s->fd, name, exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE) < 0) {
                r = -errno;
                goto fail;
        }
        if (exchange)
                rm_rf_at(t->s->fd, t->tmpname);
        dfd = openat(t->s->fd, "trees", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                r = -errno;
        tree_free(t);
        return r;
fail:
        store_tree_abort(t);
        return r;
}

void store_tree_abort(store_tree *t)
{
        if (!t)
                return;
        if (t->tmpname)
                rm_rf_at(t->s->fd, t->tmpname);
        tree_free(t);
}
