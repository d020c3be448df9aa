#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "common/user.h"
#include "common/util.h"
#include "store/store-private.h"

static const char *const subdirs[] = {
        "blobs", "blobs/sha256", "partial", "trees", "refs", "tmp", "locks",
};

int store_default_root(const char *override, char **ret)
{
        const char *env = getenv("ROOST_STORE");
        char *p = NULL;
        if (override)
                p = strdup(override);
        else if (env && *env)
                p = strdup(env);
        else if (geteuid() == 0)
                p = strdup("/var/lib/roost");
        else if ((env = getenv("XDG_DATA_HOME")) && env[0] == '/') {
                if (asprintf(&p, "%s/roost", env) < 0)
                        p = NULL;
        } else {
                const char *home = getenv("HOME");
                _cleanup_free_ char *pw_home = NULL;
                if (!home || home[0] != '/') {
                        int r = user_lookup(geteuid(), NULL, &pw_home);
                        if (r == -ENOMEM)
                                return r;
                        home = pw_home;
                }
                if (!home || home[0] != '/')
                        return -ENOENT;
                if (asprintf(&p, "%s/.local/share/roost", home) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* mkdir -p for the root's parents; the store itself is made 0700 because
 * trees hold setuid binaries and device nodes owned by root. */
static int mkdir_parents(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        return 0;
}

int store_open(const char *root, unsigned flags, store **ret)
{
        if (!root || root[0] == 0)
                return -EINVAL;
        _cleanup_free_ char *abs = NULL;
        if (root[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                if (!cwd)
                        return -errno;
                if (asprintf(&abs, "%s/%s", cwd, root) < 0)
                        return -ENOMEM;
        } else if (!(abs = strdup(root)))
                return -ENOMEM;

        /* A store this process cannot write (a read-only medium, a CI
         * cache mounted read-only, another user's) still serves reads. */
        int cannot_write = 0;
        if (!(flags & STORE_NO_CREATE)) {
                int r = mkdir_parents(abs);
                if (r == -EROFS || r == -EACCES)
                        cannot_write = r;
                else if (r < 0)
                        return r;
                if (!cannot_write && mkdir(abs, 0700) < 0 && errno != EEXIST) {
                        if (errno != EROFS && errno != EACCES)
                                return -errno;
                        cannot_write = -errno;
                }
        }
        _cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(subdirs) && !cannot_write; i++) {
                int r = mkdir_at_p(fd, subdirs[i], 0700);
                if (r == -EROFS || r == -EACCES)
                        cannot_write = r;
                else if (r < 0)
                        return r;
        }
        _cleanup_close_ int lock = -1;
        if (!cannot_write) {
                lock = openat(fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (lock < 0 && errno != EROFS && errno != EACCES)
                        return -errno;
                if (lock < 0)
                        cannot_write = -errno;
        }
        if (cannot_write && !(flags & STORE_READ))
                return cannot_write;
        /* Read-only, the lock is shared with whoever may write the store
         * elsewhere (the medium's other mount); a store without one has no
         * writer to wait for. */
        if (cannot_write && (lock = openat(fd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 && errno != ENOENT)
                return -errno;
        while (lock >= 0 && flock(lock, (flags & STORE_EXCLUSIVE) ? LOCK_EX : LOCK_SH) < 0)
                if (errno != EINTR)
                        return -errno;

        store *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->root = TAKE_PTR(abs);
        s->fd = TAKE_FD(fd);
        s->lock_fd = TAKE_FD(lock);
        s->read_only = cannot_write != 0;
        int k = s->read_only ? 0 : store_cleanup(s);
        s->cleaned = k > 0 ? k : 0;
        *ret = s;
        return 0;
}

void store_close(store *s)
{
        if (!s)
                return;
        closep(&s->fd);
        closep(&s->lock_fd);
        free(s->root);
        free(s);
}

int store_unlock(store *s)
{
        return s->lock_fd >= 0 && flock(s->lock_fd, LOCK_UN) < 0 ? -errno : 0;
}

bool store_read_only(const store *s)
{
        return s->read_only;
}

const char *store_root(const store *s)
{
        return s->root;
}

int store_dirfd(const store *s)
{
        return s->fd;
}

int store_note_once(store *s, const char *name)
{
        char path[128];
        if (!name[0] || strchr(name, '/') || (size_t)snprintf(path, sizeof(path), "notes/%s", name) >= sizeof(path))
                return -EINVAL;
        if (mkdirat(s->fd, "notes", 0700) < 0 && errno != EEXIST)
                return -errno;
        int fd = openat(s->fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        close(fd);
        return 1;
}

int store_path(const store *s, const char *relative, char **ret)
{
        if (asprintf(ret, "%s/%s", s->root, relative) < 0)
                return -ENOMEM;
        return 0;
}

/* A temporary is abandoned when the process named in it is gone and nobody
 * holds its lock. Both are needed: the pid alone could be reused, the lock
 * alone is not yet taken in the instant between creating and locking. */
static bool tmp_abandoned(int dirfd, const char *name)
{
        char *end;
        errno = 0;
        long pid = strtol(name, &end, 10);
        if (errno || end == name || *end != '.' || pid <= 0)
                return true; /* not a name we make: junk */
        if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
                return false;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return errno == ELOOP || errno == ENOENT;
        return flock(fd, LOCK_EX | LOCK_NB) == 0;
}

int store_cleanup(store *s)
{
        DIR *d;
        int r = opendir_at(s->fd, "tmp", &d);
        if (r < 0)
                return r;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (tmp_abandoned(dirfd(d), de->d_name) && rm_rf_at(dirfd(d), de->d_name) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

int store_tmpdir(store *s, char **ret_name, int *ret_fd)
{
        char sfx[13], name[64];
        for (int tries = 0; tries < 16; tries++) {
                int r = random_suffix(sfx, sizeof(sfx));
                if (r < 0)
                        return r;
                snprintf(name, sizeof(name), "tmp/%d.%s", (int)getpid(), sfx);
                if (mkdirat(s->fd, name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                int fd = openat(s->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX) < 0) {
                        r = -errno;
                        close(fd);
                        return r;
                }
                if (!(*ret_name = strdup(name))) {
                        close(fd);
                        return -ENOMEM;
                }
                *ret_fd = fd;
                return 0;
        }
        return -EEXIST;
}

int store_lock_object(store *s, const char *kind, const char *key)
{
        char name[128];
        if ((size_t)snprintf(name, sizeof(name), "locks/%s-%s", kind, key) >= sizeof(name))
                return -ENAMETOOLONG;
        int fd = openat(s->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
        return fd;
}
