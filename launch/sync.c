/* The messages between launch and its container's side (launch/sync.h). */
#include "config.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/sync.h"

const int launch_forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
const size_t launch_n_forwarded_signals = ELEMENTSOF(launch_forwarded_signals);

/* Below PIPE_BUF: a pipe takes it in one piece, never interleaved. */
_Static_assert(sizeof(struct sync_msg) <= 4096, "a message must fit in PIPE_BUF");

int sync_send(int fd, const struct sync_msg *m)
{
        ssize_t n;
        do
                n = write(fd, m, sizeof(*m));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

int sync_recv(int fd, struct sync_msg *m)
{
        ssize_t n;
        do
                n = read(fd, m, sizeof(*m));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EPIPE;
        if (n != (ssize_t)sizeof(*m) || m->kind < SYNC_GO || m->kind > SYNC_NET_UP)
                return -EPROTO;
        m->msg[sizeof(m->msg) - 1] = 0;
        return 0;
}

_Noreturn void sync_fail(int fd, int r, int status, const char *fmt, ...)
{
        struct sync_msg m = { .kind = SYNC_FAILED, .r = r, .status = status };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m.msg, sizeof(m.msg), fmt, ap);
        va_end(ap);
        /* Nobody left to tell, when it fails. */
        (void)sync_send(fd, &m);
        _exit(status);
}
