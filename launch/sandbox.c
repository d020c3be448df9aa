/* The last steps, in the container's PID 1 and in the command's process.
 *
 * The filter is loaded by PID 1 just before it starts the command, which
 * inherits it: PID 1 then runs under it too, and the filter is released
 * when PID 1 leaves, after it reported the command's status, rather than
 * when it reaps the command. Everything the command's process does after
 * (setsid, setgroups, setresuid, capget/capset, prctl) is allowed by it,
 * as by docker's profile.
 *
 * PID 1 also cuts the bounding set then, which the command's process
 * inherits; that process (roost-init's child, launch/roost-init.c) cuts
 * its own capabilities, and no_new_privs (set by PID 1 already) holds so
 * that nothing exec'd can gain privileges back (setuid files, file
 * capabilities). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/capability.h>
#include "common/util.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

int sandbox_apply(const struct sandbox_config *c, roost_error *e)
{
        int r;
        /* --privileged keeps every capability, no filter and lets setuid
         * programs work, as docker's does. */
        if (c->privileged)
                return 0;
        if ((r = sandbox_caps_apply(c, e)) < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return roost_error_set(e, -errno, "setting no_new_privs");
        return 0;
}

int sandbox_init_bound(const struct sandbox_config *c, roost_error *e)
{
        static bool done;
        if (c->privileged || done)
                return 0;
        /* A capability root keeps across execve must be in the bounding or
         * the inheritable set, and the inheritable one can only gain it
         * while the bounding set has it. PID 1's execve into roost-init
         * keeps KILL for passing signals on, and SETUID and SETGID for
         * the command's process that roost-init starts to switch user
         * (launch/roost-init.c); that process empties its inheritable set
         * before its own execve, and PID 1 drops all but KILL. */
        int r;
        uint64_t inh = ((UINT64_C(1) << CAP_KILL) | (UINT64_C(1) << CAP_SETUID) | (UINT64_C(1) << CAP_SETGID)) &
                       ~sandbox_caps(c);
        if (inh && (r = sandbox_caps_inherit(inh, e)) < 0)
                return r;
        if ((r = sandbox_caps_bound(c, e)) < 0)
                return r;
        done = true;
        return 0;
}

/* What the command's process needs of PID 1's capabilities before its
 * execve: its own set, and what switching user takes even when its own
 * set lacks it. */
int sandbox_init_narrow(const struct sandbox_config *c, roost_error *e)
{
        if (c->privileged)
                return 0;
        /* A command given CAP_SYS_PTRACE may attach to PID 1 and make it
         * execve: root with a whole bounding set and no no_new_privs would
         * get every capability back. So PID 1 cuts its bounding set to the
         * command's (which the command then inherits, uncut again), sets
         * no_new_privs even without a filter, and is undumpable before the
         * command exists. KILL stays for passing signals on, SETUID and
         * SETGID for the command's process roost-init starts, also through
         * PID 1's execve into roost-init (sandbox_init_bound). */
        int r = sandbox_init_bound(c, e);
        if (r < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return roost_error_set(e, -errno, "setting no_new_privs");
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return roost_error_set(e, -errno, "making init undumpable");
        return sandbox_caps_limit(sandbox_caps(c) | (UINT64_C(1) << CAP_SETUID) |
                                          (UINT64_C(1) << CAP_SETGID) | (UINT64_C(1) << CAP_KILL),
                                  e);
}

int sandbox_init_drop(const struct sandbox_config *c, roost_error *e)
{
        if (c->privileged)
                return 0;
        /* PID 1 lives as long as the container. With every capability, a
         * command allowed to ptrace it (--cap-add SYS_PTRACE) could make it
         * mount or load modules for it. */
        return sandbox_caps_limit(UINT64_C(1) << CAP_KILL, e);
}

int sandbox_read_small_at(int dirfd, const char *name, char *buf, size_t n)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        size_t got = 0;
        if (fd < 0)
                return -errno;
        while (got + 1 < n) {
                ssize_t k = read(fd, buf + got, n - 1 - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        buf[got] = '\0';
        return (int)got;
}
