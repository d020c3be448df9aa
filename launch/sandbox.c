/* sandbox_apply: the last step before execve, in the container's process.
 * Order matters: the bounding set is cut while CAP_SETPCAP is still held,
 * no_new_privs comes next so that nothing exec'd can gain privileges back
 * (setuid files, file capabilities), and the filter last, so that none of
 * the calls above has to be allowed by it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>
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
        /* A filter that cannot be loaded is a refusal to start, never a
         * silent run without it. */
        return sandbox_seccomp_load(c, e);
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
