/* launch --explain's printing; see launch/explain.h. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/explain.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

int explain_fd = -1;

int explain_start(int fd)
{
        /* Above 2, so that nothing that rearranges 0, 1 and 2 (a terminal
         * made the command's) can close it under us. */
        int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (d < 0)
                return -errno;
        explain_fd = d;
        return 0;
}

void explain_line(const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        size_t n = strlen("explain: ");
        memcpy(buf, "explain: ", n);
        va_start(ap, fmt);
        int k = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        n += (size_t)k < sizeof(buf) - n - 1 ? (size_t)k : sizeof(buf) - n - 2;
        buf[n++] = '\n';
        /* One write: lines of launch, the container's init and the command
         * never mix, whoever writes them. */
        int saved = errno;
        if (write(explain_fd, buf, n) < 0) {
                /* the caller closed its stderr: nothing to do */
        }
        errno = saved;
}

struct flag_name {
        uint64_t bit;
        const char *name;
};

static const char *spell(char *buf, uint64_t v, const struct flag_name *t, size_t n)
{
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; i < n; i++)
                if (t[i].bit && (v & t[i].bit) == t[i].bit) {
                        len += (size_t)snprintf(buf + len, EXPLAIN_FLAGS_MAX - len, "%s%s", len ? "|" : "",
                                                t[i].name);
                        v &= ~t[i].bit;
                        if (len >= EXPLAIN_FLAGS_MAX)
                                return buf;
                }
        if (v || !len)
                snprintf(buf + len, EXPLAIN_FLAGS_MAX - len, "%s0x%llx", len ? "|" : "",
                         (unsigned long long)v);
        return buf;
}

#define F(x)                                                                                                 \
        {                                                                                                    \
                x, #x                                                                                        \
        }

const char *explain_clone_flags(char *buf, uint64_t flags)
{
        static const struct flag_name t[] = {
                F(CLONE_NEWNS),  F(CLONE_NEWPID),  F(CLONE_NEWUTS),      F(CLONE_NEWIPC),
                F(CLONE_NEWNET), F(CLONE_NEWUSER), F(CLONE_NEWCGROUP),   F(CLONE_NEWTIME),
                F(CLONE_VM),     F(CLONE_VFORK),   F(CLONE_INTO_CGROUP), F(SIGCHLD),
        };
        return spell(buf, flags, t, ELEMENTSOF(t));
}

const char *explain_mount_attrs(char *buf, uint64_t attrs)
{
        static const struct flag_name t[] = {
                F(MOUNT_ATTR_RDONLY), F(MOUNT_ATTR_NOSUID),  F(MOUNT_ATTR_NODEV),
                F(MOUNT_ATTR_NOEXEC), F(MOUNT_ATTR_NOATIME),
        };
        if (!attrs)
                return strcpy(buf, "0");
        return spell(buf, attrs, t, ELEMENTSOF(t));
}

const char *explain_ms_flags(char *buf, uint64_t flags)
{
        static const struct flag_name t[] = {
                F(MS_RDONLY), F(MS_NOSUID), F(MS_NODEV),   F(MS_NOEXEC), F(MS_REMOUNT), F(MS_BIND),
                F(MS_MOVE),   F(MS_REC),    F(MS_PRIVATE), F(MS_SLAVE),  F(MS_NOATIME), F(MS_RELATIME),
        };
        return spell(buf, flags, t, ELEMENTSOF(t));
}

void explain_fs(const char *type, const char *opts, uint64_t attrs, const char *target, const char *why)
{
        char ab[EXPLAIN_FLAGS_MAX];
        explain_line("mount \"%s\" on %s: fsopen(\"%s\")%s%s%s, fsmount(%s), move_mount(→ %s) — %s", type,
                     target, type, opts ? ", fsconfig(" : "", opts ? opts : "", opts ? ")" : "",
                     explain_mount_attrs(ab, attrs), target, why);
}

void explain_bind(const char *source, int recursive, uint64_t attrs, const char *target, const char *why)
{
        char ab[EXPLAIN_FLAGS_MAX];
        explain_line("bind %s on %s: open_tree(\"%s\", OPEN_TREE_CLONE%s)%s%s%s, move_mount(→ %s) — %s",
                     source, target, source, recursive ? "|AT_RECURSIVE" : "",
                     attrs ? ", mount_setattr(" : "", attrs ? explain_mount_attrs(ab, attrs) : "",
                     attrs ? ")" : "", target, why);
}
