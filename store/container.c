/* Named containers' writable layers: containers/NAME/ holds lock, origin,
 * upper and work. A launch holds the lock (flock, exclusive) for as long
 * as it uses the layer; removal takes the same lock, then moves the whole
 * directory into a temporary of its own before deleting it, so that a
 * removal cut short is finished by the next store_cleanup and a launch
 * never finds half a layer under the name. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "common/util.h"
#include "store/store-private.h"

static int container_dir(const char *name, char *buf, size_t n)
{
        if (!store_ref_name_valid(name))
                return -EINVAL;
        if ((size_t)snprintf(buf, n, "containers/%s", name) >= n)
                return -ENAMETOOLONG;
        return 0;
}

static bool same_file(int fd, int dirfd, const char *name)
{
        struct stat a, b;
        return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
               a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Lock the layer's directory DIR (which must exist). A lock taken on a
 * file that a removal has since moved away is worth nothing: the lock
 * file must still be DIR/lock once we hold it. Returns the lock's fd,
 * -ENOENT when DIR is gone, -EBUSY when another process holds it, -EAGAIN
 * when it moved meanwhile. */
static int lock_dir(store *s, const char *dir, int *ret_dirfd)
{
        char lock[160];
        snprintf(lock, sizeof(lock), "%s/lock", dir);
        _cleanup_close_ int dfd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_close_ int fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (!same_file(dfd, s->fd, dir) || !same_file(fd, s->fd, lock))
                return -EAGAIN;
        if (ret_dirfd)
                *ret_dirfd = TAKE_FD(dfd);
        return TAKE_FD(fd);
}

int store_container_lock(store *s, const char *name, int *ret_dirfd)
{
        char dir[160];
        int r = container_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        for (int tries = 0; tries < 16; tries++) {
                if ((r = mkdir_at_p(s->fd, "containers", 0700)) < 0 || (r = mkdir_at_p(s->fd, dir, 0700)) < 0)
                        return r;
                r = lock_dir(s, dir, ret_dirfd);
                if (r != -EAGAIN && r != -ENOENT)
                        return r;
        }
        return -EBUSY;
}

int store_container_take(store *s, const char *name, int *ret_dirfd)
{
        char dir[160];
        int r = container_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        for (int tries = 0; tries < 16; tries++) {
                /* Never made here: a name that is no container stays none. */
                r = lock_dir(s, dir, ret_dirfd);
                if (r != -EAGAIN)
                        return r;
        }
        return -EBUSY;
}

int store_container_dirfd(store *s, const char *name)
{
        char dir[160];
        int r = container_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        int fd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

bool store_container_in_use(store *s, const char *name)
{
        char dir[160], line[256];
        struct stat st;
        if (container_dir(name, dir, sizeof(dir)) < 0)
                return false;
        strcat(dir, "/lock");
        if (fstatat(s->fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        /* Asking flock itself would take the lock for an instant, and a
         * launch starting in that instant would be refused: the kernel's
         * table of locks says it without touching them. */
        _cleanup_fclose_ FILE *f = fopen("/proc/locks", "re");
        bool held = false;
        while (f && !held && fgets(line, sizeof(line), f)) {
                unsigned maj, min;
                unsigned long long ino;
                char *p = strstr(line, "FLOCK");
                if (!p || strstr(line, "->"))
                        continue;
                /* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" */
                char kind[16], mode[16];
                int pid;
                if (sscanf(p, "FLOCK %15s %15s %d %x:%x:%llu", kind, mode, &pid, &maj, &min, &ino) == 6)
                        held = ino == st.st_ino && major(st.st_dev) == maj && minor(st.st_dev) == min;
        }
        return held;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_container_list(store *s, char ***ret, size_t *ret_n)
{
        DIR *d;
        int r = opendir_at(s->fd, "containers", &d);
        char **v = NULL;
        size_t n = 0;
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                *ret_n = 0;
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                /* Only names a container may have: nothing else is one. */
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (!store_ref_name_valid(de->d_name))
                        continue;
                char **nv = realloc(v, (n + 2) * sizeof(*v));
                if (!nv || !(nv[n] = strdup(de->d_name))) {
                        v = nv ? nv : v;
                        r = -ENOMEM;
                        break;
                }
                v = nv;
                v[++n] = NULL;
        }
        closedir(d);
        if (r < 0) {
                if (v)
                        v[n] = NULL;
                strv_free(v);
                return r;
        }
        if (!v && !(v = calloc(1, sizeof(*v))))
                return -ENOMEM;
        qsort(v, n, sizeof(*v), name_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int store_container_path(const store *s, const char *name, const char *part, char **ret)
{
        char rel[256];
        int r = container_dir(name, rel, sizeof(rel));
        if (r < 0)
                return r;
        size_t n = strlen(rel);
        if ((size_t)snprintf(rel + n, sizeof(rel) - n, "/%s", part) >= sizeof(rel) - n)
                return -ENAMETOOLONG;
        return store_path(s, rel, ret);
}

int store_container_remove(store *s, const char *name)
{
        char dir[160];
        int r = container_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        _cleanup_close_ int lock = -1;
        for (int tries = 0; (lock = lock_dir(s, dir, NULL)) == -EAGAIN; tries++)
                if (tries == 16)
                        return -EBUSY;
        if (lock < 0)
                return lock;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int tfd = -1;
        if ((r = store_tmpdir(s, &tmp, &tfd)) < 0)
                return r;
        /* Under the name no launch will find again, still locked. */
        if (renameat(s->fd, dir, tfd, "layer") < 0) {
                r = -errno;
                (void)unlinkat(s->fd, tmp, AT_REMOVEDIR);
                return r;
        }
        r = rm_rf_at(tfd, "layer");
        if (r == 0 && unlinkat(s->fd, tmp, AT_REMOVEDIR) < 0)
                r = -errno;
        return r;
}
