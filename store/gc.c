#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

static void use_name(const char *sha256, char *buf, size_t n)
{
        snprintf(buf, n, "locks/use-%s", sha256);
}

/* The tree's in-use mark, created if need be and locked with OP. */
static int use_lock(store *s, const char *sha256, int op)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        use_name(sha256, name, sizeof(name));
        int fd = openat(s->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, op) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

int store_tree_use(store *s, const char *sha256)
{
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        /* Nobody collects from a read-only store: a descriptor to close
         * stands for the mark. */
        if (s->read_only) {
                int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? -errno : fd;
        }
        return use_lock(s, sha256, LOCK_SH);
}

int store_tree_use_exclusive(store *s, const char *sha256)
{
        return use_lock(s, sha256, LOCK_EX | LOCK_NB);
}

bool store_tree_in_use(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return false;
        use_name(sha256, name, sizeof(name));
        _cleanup_close_ int fd = openat(s->fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static uint64_t usage_at(int parent, const char *name, int depth)
{
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        uint64_t total = (uint64_t)st.st_blocks * 512;
        if (!S_ISDIR(st.st_mode) || depth > 256)
                return total;
        DIR *d;
        if (opendir_at(parent, name, &d) < 0)
                return total;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        total += usage_at(dirfd(d), de->d_name, depth + 1);
        closedir(d);
        return total;
}

int store_tree_usage(store *s, const char *sha256, uint64_t *ret)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_tree_name(sha256, NULL, name, sizeof(name));
        struct stat st;
        if (fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = usage_at(s->fd, name, 0);
        return 0;
}

static bool referenced(const struct store_ref *refs, size_t n, const char *sha256)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(refs[i].sha256, sha256))
                        return true;
        return false;
}

/* Remove every entry of DIR, but, when BY_DIGEST, those a reference names
 * or a running container uses. */
static int sweep(store *s, const char *dir, const struct store_ref *refs, size_t n, bool by_digest,
                 unsigned *count, uint64_t *bytes)
{
        DIR *d;
        int r = opendir_at(s->fd, dir, &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (by_digest && store_digest_valid(de->d_name) &&
                    (referenced(refs, n, de->d_name) || store_tree_in_use(s, de->d_name)))
                        continue;
                uint64_t used = usage_at(dirfd(d), de->d_name, 0);
                int k = rm_rf_at(dirfd(d), de->d_name);
                if (k < 0) {
                        if (r == 0)
                                r = k;
                        continue;
                }
                (*count)++;
                *bytes += used;
        }
        closedir(d);
        return r;
}

/* A reference's write cut short leaves refs/ARCH/.NAME:TAG.XXXX.tmp
 * behind. With the store held exclusively, nobody is writing one. */
static unsigned sweep_ref_temporaries(store *s)
{
        DIR *d;
        unsigned n = 0;
        if (opendir_at(s->fd, "refs", &d) < 0)
                return 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                DIR *a;
                if (!store_arch_valid(de->d_name) || opendir_at(dirfd(d), de->d_name, &a) < 0)
                        continue;
                struct dirent *t;
                while ((t = readdir(a))) {
                        size_t len = strlen(t->d_name);
                        if (t->d_name[0] == '.' && len > 5 && strcmp(t->d_name + len - 4, ".tmp") == 0 &&
                            unlinkat(dirfd(a), t->d_name, 0) == 0)
                                n++;
                }
                closedir(a);
        }
        closedir(d);
        return n;
}

int store_gc(store *s, struct store_gc_report *ret)
{
        struct store_gc_report rep = { 0 };
        struct store_ref *refs = NULL;
        _cleanup_free_ char *bad = NULL;
        size_t n = 0;
        int r = store_ref_list(s, &refs, &n, &bad);
        if (r < 0)
                return r;
        if (bad) {
                store_ref_list_free(refs, n);
                snprintf(ret->unreadable, sizeof(ret->unreadable), "%s", bad);
                return -ROOST_EFORMAT;
        }
        int r1 = sweep(s, "blobs/sha256", refs, n, true, &rep.blobs, &rep.bytes);
        int r2 = sweep(s, "trees", refs, n, true, &rep.trees, &rep.bytes);
        /* With the store lock held exclusively nobody is downloading. */
        int r3 = sweep(s, "partial", refs, n, false, &rep.partials, &rep.bytes);
        store_ref_list_free(refs, n);
        /* Count what store_open already removed on our behalf too. */
        int k = store_cleanup(s);
        rep.temporaries = (unsigned)(s->cleaned + (k > 0 ? k : 0)) + sweep_ref_temporaries(s);
        *ret = rep;
        return r1 < 0 ? r1 : r2 < 0 ? r2 : r3;
}
