/* A terminal on launch's stdin gets the container a pseudo-terminal of its
 * own devpts instance. launch relays bytes between the two; the command's
 * TIOCSTI or escape tricks reach only the container's pty, never the
 * caller's shell. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/launch-private.h"

int tty_open_master(int *ret_master, char **ret_slave, roost_error *e)
{
        _cleanup_close_ int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0)
                return roost_error_set(e, -errno, "opening /dev/pts/ptmx");
        int unlock = 0;
        unsigned n;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0)
                return roost_error_set(e, -errno, "setting up the pseudo-terminal");
        if (asprintf(ret_slave, "/dev/pts/%u", n) < 0)
                return roost_error_set(e, -ENOMEM, "pty");
        *ret_master = TAKE_FD(m);
        return 0;
}

int tty_send_fd(int sock, int fd)
{
        char byte = 'm';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = { 0 };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int tty_recv_fd(int sock, int *ret)
{
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)
        };
        ssize_t n;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return n < 0 ? -errno : -EPIPE;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG;
        memcpy(ret, CMSG_DATA(c), sizeof(int));
        return 0;
}

int tty_make_controlling(const char *slave)
{
        int fd = open(slave, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, TIOCSCTTY, 0) < 0)
                return -errno;
        for (int i = 0; i < 3; i++)
                if (dup2(fd, i) < 0)
                        return -errno;
        if (fd > 2)
                close(fd);
        return 0;
}

int tty_raw(int fd, void **ret_saved)
{
        struct termios *t = malloc(sizeof(*t));
        if (!t)
                return -ENOMEM;
        if (tcgetattr(fd, t) < 0) {
                free(t);
                return -errno;
        }
        struct termios raw = *t;
        cfmakeraw(&raw);
        if (tcsetattr(fd, TCSANOW, &raw) < 0) {
                free(t);
                return -errno;
        }
        *ret_saved = t;
        return 0;
}

void tty_restore(int fd, void *saved)
{
        if (!saved)
                return;
        tcsetattr(fd, TCSADRAIN, (struct termios *)saved);
        free(saved);
}

void tty_copy_winsize(int from, int to)
{
        struct winsize ws;
        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                ioctl(to, TIOCSWINSZ, &ws);
}

/* One direction of the relay: a chunk read from one side waits here until
 * the other side takes it, and nothing more is read meanwhile, so neither
 * side can make launch block on the other. */
struct chunk {
        char buf[4096];
        size_t off, len;
};

/* Read into C from FD when it is empty: false at EOF or error (EIO from
 * the master: every slave fd is closed). */
static bool fill(struct chunk *c, int fd)
{
        ssize_t n = read(fd, c->buf, sizeof(c->buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        c->off = 0;
        c->len = (size_t)n;
        return true;
}

/* Write what C holds to FD, which poll said takes some: false when FD is
 * gone (EPIPE, EIO). Written in pieces of PIPE_BUF at most, which a pipe
 * with room takes whole, since the caller's stdout is not ours to make
 * non-blocking (its file description is shared with the shell). */
static bool drain(struct chunk *c, int fd)
{
        size_t n = c->len < PIPE_BUF ? c->len : PIPE_BUF;
        ssize_t k = write(fd, c->buf + c->off, n);
        if (k < 0)
                return errno == EINTR || errno == EAGAIN;
        c->off += (size_t)k;
        c->len -= (size_t)k;
        return true;
}

int tty_relay(int master, pid_t child, int sigfd, int *ret_wstatus)
{
        struct chunk in = { 0 }, out = { 0 };
        bool in_open = true, master_open = true;
        /* The master is ours alone: when the container reads nothing, a
         * write to it says EAGAIN instead of stopping launch, which must
         * go on draining the container's output (or both would wait). */
        int fl = fcntl(master, F_GETFL);
        if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        for (;;) {
                short mev = (short)((master_open && !out.len ? POLLIN : 0) |
                                    (master_open && in.len ? POLLOUT : 0));
                struct pollfd p[4] = {
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = mev ? master : -1, .events = mev },
                        { .fd = in_open && !in.len ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = out.len ? STDOUT_FILENO : -1, .events = POLLOUT },
                };
                if (poll(p, 4, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !out.len && !fill(&out, master))
                        master_open = false;
                if ((p[1].revents & POLLOUT) && in.len && !drain(&in, master))
                        in.len = 0;
                if (p[2].revents && !fill(&in, STDIN_FILENO))
                        in_open = false;
                if (p[3].revents && !((p[3].revents & POLLOUT) && drain(&out, STDOUT_FILENO))) {
                        /* Nobody reads our output any more (launch -t | head):
                         * hang the terminal up. Ours is the master's last
                         * copy, and closing it is a hang-up: the command's
                         * session gets SIGHUP, its writes EIO. /dev/null
                         * takes the number, which the caller closes. */
                        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (nul < 0 || dup3(nul, master, O_CLOEXEC) < 0)
                                kill(child, SIGHUP);
                        if (nul >= 0)
                                close(nul);
                        master_open = false;
                        out.len = 0;
                }
                if (!p[0].revents)
                        continue;
                struct signalfd_siginfo si;
                if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                        continue;
                if (si.ssi_signo == SIGWINCH) {
                        /* The kernel tells the container's foreground job. */
                        if (master_open)
                                tty_copy_winsize(STDIN_FILENO, master);
                } else if (si.ssi_signo == SIGCHLD) {
                        pid_t w = waitpid(child, ret_wstatus, WNOHANG);
                        if (w < 0)
                                return -errno;
                        if (w == child) {
                                /* What the command wrote last is still in the
                                 * pty's buffer: pass it on before leaving. */
                                while (master_open) {
                                        if (!out.len && (!fill(&out, master) || !out.len))
                                                break;
                                        if (write_all(STDOUT_FILENO, out.buf + out.off, out.len) < 0)
                                                break;
                                        out.len = 0;
                                }
                                return 0;
                        }
                } else {
                        kill(child, (int)si.ssi_signo);
                }
        }
}
