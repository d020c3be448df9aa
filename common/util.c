#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/util.h"

static int rm_children(int dfd, dev_t dev)
{
        DIR *d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                close(dfd);
                return r;
        }
        int ret = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        /* A mount point below the tree belongs to someone else;
                         * removing through it would destroy host data. */
                        if (st.st_dev != dev) {
                                if (ret == 0)
                                        ret = -EBUSY;
                                continue;
                        }
                        int cfd =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0) {
                                /* An unreadable directory left by an archive:
                                 * make it ours, then try again. */
                                if (errno == EACCES && fchmodat(dirfd(d), de->d_name, 0700, 0) == 0)
                                        cfd = openat(dirfd(d), de->d_name,
                                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (cfd < 0) {
                                        if (ret == 0)
                                                ret = -errno;
                                        continue;
                                }
                        }
                        /* A read-only directory from an archive must become
                         * writable before its entries can be unlinked. */
                        if ((st.st_mode & 0700) != 0700)
                                (void)fchmod(cfd, (st.st_mode & 07777) | 0700);
                        int r = rm_children(cfd, dev);
                        if (r < 0 && ret == 0)
                                ret = r;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && ret == 0)
                                ret = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = -errno;
        }
        if (errno && ret == 0)
                ret = -errno;
        closedir(d);
        return ret;
}

int rm_rf_at(int dirfd, const char *name)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if ((st.st_mode & 0700) != 0700)
                (void)fchmod(fd, (st.st_mode & 07777) | 0700);
        int r = rm_children(fd, st.st_dev);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int opendir_at(int dirfd, const char *name, DIR **ret)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

int mkdir_at_p(int dirfd, const char *name, mode_t mode)
{
        if (mkdirat(dirfd, name, mode) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fsync_dirfd(int dirfd)
{
        return fsync(dirfd) < 0 ? -errno : 0;
}

int write_all(int fd, const void *buf, size_t n)
{
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        /* A read that fails leaves no copy of what it read: auth.json
         * holds passwords. */
        _cleanup_(secret_freep) char *buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t got = 0;
        for (;;) {
                if (got > (size_t)st.st_size)
                        break;
                ssize_t k = read(fd, buf + got, (size_t)st.st_size + 1 - got);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        /* The file grew while we read it: not the small file we expected. */
        if (got > (size_t)st.st_size)
                return -EFBIG;
        buf[got] = 0;
        if (ret_len)
                *ret_len = got;
        *ret = TAKE_PTR(buf);
        return 0;
}

int random_suffix(char *buf, size_t n)
{
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char rnd[32];
        if (n == 0 || n - 1 > sizeof(rnd))
                return -EINVAL;
        if (getrandom(rnd, n - 1, 0) != (ssize_t)(n - 1))
                return -errno;
        for (size_t i = 0; i < n - 1; i++)
                buf[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
        buf[n - 1] = 0;
        return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t n, mode_t mode)
{
        char sfx[13], tmp[256];
        int r = random_suffix(sfx, sizeof(sfx));
        if (r < 0)
                return r;
        if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, sfx) >= sizeof(tmp))
                return -ENAMETOOLONG;
        _cleanup_close_ int fd =
                openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        return fsync_dirfd(dirfd);
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = 0;
}

bool is_hex(const char *s, size_t len)
{
        if (!s || strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

#include <sys/utsname.h>

const char *host_alpine_arch(void)
{
        static const struct {
                const char *uname, *alpine;
        } map[] = {
                { "x86_64", "x86_64" },   { "amd64", "x86_64" },
                { "aarch64", "aarch64" }, { "arm64", "aarch64" },
                { "armv8l", "armv7" },    { "armv7l", "armv7" },
                { "armv7", "armv7" },     { "armv6l", "armhf" },
                { "i386", "x86" },        { "i486", "x86" },
                { "i586", "x86" },        { "i686", "x86" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
                { "riscv64", "riscv64" }, { "loongarch64", "loongarch64" },
        };
        static const char *known; /* launch asks twice: one uname */
        struct utsname u;
        if (known)
                return known;
        if (uname(&u) < 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (!strcmp(u.machine, map[i].uname))
                        return known = map[i].alpine;
        return NULL;
}

/* Alpine's names first, then the OCI platforms docker's --platform takes
 * (GOARCH and its variant: arm64 is aarch64, arm/v7 armv7, arm/v6 armhf,
 * Alpine's ARMv6 hard-float port; 386 is x86). linux/arm alone is v7, as
 * in docker. */
static const struct {
        const char *spelling, *alpine;
} arch_names[] = {
        { "x86_64", "x86_64" },
        { "x86", "x86" },
        { "aarch64", "aarch64" },
        { "armv7", "armv7" },
        { "armhf", "armhf" },
        { "riscv64", "riscv64" },
        { "ppc64le", "ppc64le" },
        { "s390x", "s390x" },
        { "loongarch64", "loongarch64" },
        { "linux/amd64", "x86_64" },
        { "linux/386", "x86" },
        { "linux/arm64", "aarch64" },
        { "linux/arm64/v8", "aarch64" },
        { "linux/arm/v7", "armv7" },
        { "linux/arm", "armv7" },
        { "linux/arm/v6", "armhf" },
        { "linux/riscv64", "riscv64" },
        { "linux/ppc64le", "ppc64le" },
        { "linux/s390x", "s390x" },
        { "linux/loong64", "loongarch64" },
};

const char *alpine_arch_from(const char *spelling)
{
        for (size_t i = 0; spelling && i < ELEMENTSOF(arch_names); i++)
                if (!strcmp(spelling, arch_names[i].spelling))
                        return arch_names[i].alpine;
        return NULL;
}

const char *alpine_arch_nth(size_t i)
{
        /* The first entries are Alpine's own names, each once. */
        return i < ELEMENTSOF(arch_names) && !strchr(arch_names[i].spelling, '/') ? arch_names[i].alpine
                                                                                  : NULL;
}

int spawn_attr_clean(posix_spawnattr_t *attr)
{
        sigset_t none, all;
        int r = posix_spawnattr_init(attr);
        if (r != 0)
                return -r;
        sigemptyset(&none);
        sigfillset(&all);
        if ((r = posix_spawnattr_setsigmask(attr, &none)) != 0 ||
            (r = posix_spawnattr_setsigdefault(attr, &all)) != 0 ||
            (r = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0) {
                posix_spawnattr_destroy(attr);
                return -r;
        }
        return 0;
}

int wait_exited_ok(pid_t pid)
{
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int sibling_tool(const char *name, const char *stage, char *buf, size_t n)
{
        char self[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k <= 0)
                return -errno;
        self[k] = 0;
        *strrchr(self, '/') = 0;
        snprintf(buf, n, "%s/%s", self, name);
        if (access(buf, X_OK) == 0)
                return 0;
        snprintf(buf, n, "%s/../%s/%s", self, stage, name);
        if (access(buf, X_OK) == 0)
                return 0;
        snprintf(buf, n, "%s", self);
        return -ENOENT;
}

int run_tool_on_stderr(const char *path, char **argv, int fail_status)
{
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        _exit(fail_status);
                execv(path, argv);
                cli_error("cannot run %s: %s", path, strerror(errno));
                _exit(fail_status);
        }
        int ws;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int secret_pipe(const char *secret)
{
        int p[2];
        size_t n = strlen(secret);
        if (n > 4096)
                return -E2BIG;
        if (pipe(p) < 0)
                return -errno;
        /* Written whole before any child runs: a pipe holds 4096 bytes at
         * least, so this never waits for a reader. */
        int r = write_all(p[1], secret, n);
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return r;
        }
        return p[0];
}

int pull_access_args(const struct pull_access *a, char **argv, size_t *n, char fdtext[16], int *creds_fd)
{
        *creds_fd = -1;
        if (a->authfile) {
                argv[(*n)++] = (char *)"--authfile";
                argv[(*n)++] = (char *)a->authfile;
        }
        if (a->cacert) {
                argv[(*n)++] = (char *)"--cacert";
                argv[(*n)++] = (char *)a->cacert;
        }
        if (a->plain_http)
                argv[(*n)++] = (char *)"--plain-http";
        if (!a->creds)
                return 0;
        int fd = secret_pipe(a->creds);
        if (fd < 0)
                return fd;
        snprintf(fdtext, 16, "%d", fd);
        argv[(*n)++] = (char *)"--creds-fd";
        argv[(*n)++] = fdtext;
        *creds_fd = fd;
        return 0;
}

char *secret_take_arg(char *arg)
{
        char *copy = strdup(arg), *colon = strchr(arg, ':');
        if (copy && colon)
                memset(colon + 1, '*', strlen(colon + 1));
        return copy;
}

void secret_free(void *p)
{
        if (p) {
                explicit_bzero(p, malloc_usable_size(p));
                free(p);
        }
}

void *secret_realloc(void *p, size_t n)
{
        if (!p)
                return malloc(n);
        if (n == 0) {
                secret_free(p);
                return NULL;
        }
        size_t have = malloc_usable_size(p);
        /* A block is not shrunk: glibc would split it, and keep the tail
         * unwiped among its free blocks. */
        if (n <= have)
                return p;
        void *q = malloc(n);
        if (!q)
                return NULL;
        memcpy(q, p, have);
        secret_free(p);
        return q;
}

void secret_freep(char **s)
{
        secret_free(*s);
        *s = NULL;
}

char *secret_concat(const char *a, const char *b, const char *c)
{
        size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
        char *s = malloc(na + nb + nc + 1);
        if (!s)
                return NULL;
        memcpy(s, a, na);
        memcpy(s + na, b, nb);
        memcpy(s + na + nb, c, nc);
        s[na + nb + nc] = 0;
        return s;
}

int secret_read(int fd, size_t max, char **ret)
{
        char *buf = malloc(max + 1);
        size_t n = 0;
        if (!buf)
                return -ENOMEM;
        int r = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = -errno;
                else if ((n += (size_t)k) > max)
                        r = -E2BIG;
                if (k <= 0 || r < 0)
                        break;
        }
        if (r == 0) {
                if (n && buf[n - 1] == '\n')
                        n--;
                if (n && buf[n - 1] == '\r')
                        n--;
                buf[n] = 0;
                if (memchr(buf, '\n', n) || memchr(buf, '\r', n) || strlen(buf) != n)
                        r = -EINVAL;
        }
        if (r < 0) {
                explicit_bzero(buf, max + 1);
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}
