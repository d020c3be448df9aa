/* A terminal on launch's stdin gets the container a pseudo-terminal of its
 * own devpts instance. launch relays bytes between the two; the command's
 * TIOCSTI or escape tricks reach only the container's pty, never the
 * caller's shell. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
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

static bool copy_some(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0)
                return false;
        return write_all(to, buf, (size_t)n) == 0;
}

int tty_relay(int master, pid_t child, int sigfd, int *ret_wstatus)
{
        bool in_open = true, master_open = true;
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = master_open ? master : -1, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[1].revents && !copy_some(master, STDOUT_FILENO))
                        master_open = false; /* EIO: every slave fd is closed */
                if (p[2].revents && !copy_some(STDIN_FILENO, master))
                        in_open = false;
                if (!p[0].revents)
                        continue;
                struct signalfd_siginfo si;
                if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                        continue;
                if (si.ssi_signo == SIGWINCH) {
                        /* The kernel tells the container's foreground job. */
                        tty_copy_winsize(STDIN_FILENO, master);
                } else if (si.ssi_signo == SIGCHLD) {
                        pid_t w = waitpid(child, ret_wstatus, WNOHANG);
                        if (w < 0)
                                return -errno;
                        if (w == child) {
                                /* What the command wrote last is still in the
                                 * pty's buffer: drain it before leaving. */
                                int fl = fcntl(master, F_GETFL);
                                fcntl(master, F_SETFL, fl | O_NONBLOCK);
                                while (master_open && copy_some(master, STDOUT_FILENO)) {
                                        struct pollfd q = { .fd = master, .events = POLLIN };
                                        if (poll(&q, 1, 0) <= 0)
                                                break;
                                }
                                return 0;
                        }
                } else {
                        kill(child, (int)si.ssi_signo);
                }
        }
}
