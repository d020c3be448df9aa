#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "common/error.h"
#include "common/user.h"
#include "common/util.h"
#include "store/store-private.h"

static const char *const subdirs[] = {
        "blobs", "blobs/sha256", "layers", "partial", "trees", "tags", "tmp", "locks",
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

/* -ESTALE when FD's directory or file was removed under us (R is what
 * the failed call returned, if any): a store its maker found empty and
 * removed while we were opening it (store_close). */
static int removed(int fd, int r)
{
        struct stat st;
        return (r == 0 || r == -ENOENT) && fstat(fd, &st) == 0 && st.st_nlink == 0 ? -ESTALE : r;
}

int (*store_migrator)(store *s, bool exclusive);

/* A store in the earlier layout (refs/) is migrated by the tools that
 * enabled it (store_enable_migration); the others, launch, which links no
 * hashing, are told so. */
static int old_layout(store *s, bool exclusive)
{
        struct stat st;
        if (fstatat(s->fd, "refs", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return store_migrator ? store_migrator(s, exclusive) : -ROOST_EOLDSTORE;
}

static int open_once(const char *abs, unsigned flags, store **ret)
{
        bool made_root = false, made = false;
        /* A store this process cannot write (a read-only medium, a CI
         * cache mounted read-only, another user's) still serves reads. */
        int cannot_write = 0;
        if (!(flags & STORE_NO_CREATE)) {
                int r = mkdir_parents(abs);
                if (r == -EROFS || r == -EACCES)
                        cannot_write = r;
                else if (r < 0)
                        return r;
                if (cannot_write)
                        ;
                else if (mkdir(abs, 0700) == 0)
                        made_root = true;
                else if (errno == EROFS || errno == EACCES)
                        cannot_write = -errno;
                else if (errno != EEXIST)
                        return -errno;
        }
        _cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(subdirs) && !cannot_write; i++) {
                int r = mkdir_at_p(fd, subdirs[i], 0700);
                if (r == -EROFS || r == -EACCES)
                        cannot_write = r;
                else if (r < 0)
                        return removed(fd, r);
        }
        _cleanup_close_ int lock = -1;
        if (!cannot_write) {
                lock = openat(fd, "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (lock >= 0)
                        made = true;
                else if (errno == EEXIST)
                        lock = openat(fd, "lock", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
                if (lock < 0 && (errno == EROFS || errno == EACCES))
                        cannot_write = -errno;
                else if (lock < 0)
                        return removed(fd, -errno);
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
        int r = lock >= 0 ? removed(lock, 0) : 0;
        if (r < 0)
                return r;

        store *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (!(s->root = strdup(abs))) {
                free(s);
                return -ENOMEM;
        }
        s->fd = TAKE_FD(fd);
        s->lock_fd = TAKE_FD(lock);
        s->busy_fd = -1;
        s->made = made;
        s->made_root = made_root;
        s->read_only = cannot_write != 0;
        int k = s->read_only ? 0 : store_cleanup(s);
        s->cleaned = k > 0 ? k : 0;
        if ((k = old_layout(s, flags & STORE_EXCLUSIVE)) < 0) {
                s->made = false;
                store_close(s);
                return k;
        }
        *ret = s;
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
        /* A store removed under us is made anew (or, with
         * STORE_NO_CREATE, found missing) on the next try. */
        for (int tries = 0;; tries++) {
                int r = open_once(abs, flags, ret);
                if (r != -ESTALE)
                        return r;
                if (tries == 8)
                        return -ENOENT;
        }
}

static bool dir_empty_at(int dirfd, const char *name, const char *except)
{
        DIR *d;
        if (opendir_at(dirfd, name, &d) < 0)
                return false;
        struct dirent *de;
        bool empty = true;
        while (empty && (de = readdir(d)))
                empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                        (except && !strcmp(de->d_name, except));
        closedir(d);
        return empty;
}

/* A store this handle made that holds nothing when the command ends is
 * removed again, so that a failed first pull, import or launch leaves no
 * empty skeleton behind (and a command that only reads, none at all). Only
 * when no other command has the store open (its lock, exclusively, without
 * waiting), and only if it holds nothing but the names store_open makes,
 * empty, and lock files. An opener that got in meanwhile finds its lock
 * file unlinked and starts again (open_once). */
static void discard_if_empty(store *s)
{
        if (!s->made || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return;
        /* A command that gave the lock up to run long (store_unlock)
         * holds "busy" instead: a launch of a --rootfs tree stores
         * nothing, but its container still uses tmp/. */
        _cleanup_close_ int busy = openat(s->fd, "busy", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (busy >= 0 && flock(busy, LOCK_EX | LOCK_NB) < 0)
                return;
        DIR *d;
        if (opendir_at(s->fd, ".", &d) < 0)
                return;
        struct dirent *de;
        bool empty = true;
        while (empty && (de = readdir(d))) {
                const char *n = de->d_name;
                bool ours = !strcmp(n, "lock") || !strcmp(n, "busy");
                for (size_t i = 0; i < ELEMENTSOF(subdirs); i++)
                        ours = ours || !strcmp(n, subdirs[i]);
                if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "lock") || !strcmp(n, "busy") ||
                    !strcmp(n, "locks"))
                        continue;
                empty = ours && dir_empty_at(s->fd, n, !strcmp(n, "blobs") ? "sha256" : NULL);
        }
        closedir(d);
        if (!empty || !dir_empty_at(s->fd, "blobs/sha256", NULL) || opendir_at(s->fd, "locks", &d) < 0)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        (void)unlinkat(dirfd(d), de->d_name, 0); /* a folder stays, and so does locks/ */
        closedir(d);
        /* Deepest first; what cannot go stays, and the next command
         * makes the rest again. */
        for (size_t i = ELEMENTSOF(subdirs); i-- > 0;)
                if (unlinkat(s->fd, subdirs[i], AT_REMOVEDIR) < 0)
                        return;
        if ((unlinkat(s->fd, "busy", 0) < 0 && errno != ENOENT) || unlinkat(s->fd, "lock", 0) < 0)
                return;
        if (s->made_root)
                (void)rmdir(s->root);
}

void store_close(store *s)
{
        if (!s)
                return;
        closep(&s->busy_fd); /* our own would stand in the way */
        discard_if_empty(s);
        closep(&s->fd);
        closep(&s->lock_fd);
        free(s->root);
        free(s);
}

void store_keep(store *s)
{
        s->made = false;
        s->made_root = false;
}

int store_unlock(store *s)
{
        if (s->read_only)
                return s->lock_fd >= 0 && flock(s->lock_fd, LOCK_UN) < 0 ? -errno : 0;
        /* "busy" before the lock goes: at no instant does the store look
         * unused to a store_close that would remove it when empty. */
        if (s->busy_fd < 0) {
                int fd = openat(s->fd, "busy", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0 && flock(fd, LOCK_SH) == 0)
                        s->busy_fd = fd;
                else if (fd >= 0)
                        close(fd);
        }
        return flock(s->lock_fd, LOCK_UN) < 0 ? -errno : 0;
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
