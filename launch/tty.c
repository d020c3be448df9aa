/* A terminal on launch's stdin gets the container a pseudo-terminal of its
 * own devpts instance. launch relays bytes between the two; the command's
 * TIOCSTI or escape tricks reach only the container's pty, never the
 * caller's shell. Without one (-T, or stdin not a terminal), a terminal on
 * any of launch's fds 0-2 reaches the container as a pipe, relayed the same
 * way: the container never holds the caller's terminal, which it could read
 * the caller's typing from, or resize. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/sync.h"

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

int tty_pipes_open(struct tty_pipes *p, roost_error *e)
{
        struct stat st1, st2;
        bool tty[3];
        for (int i = 0; i < 3; i++) {
                p->inner[i] = p->outer[i] = -1;
                tty[i] = isatty(i);
        }
        bool same = tty[1] && tty[2] && fstat(STDOUT_FILENO, &st1) == 0 && fstat(STDERR_FILENO, &st2) == 0 &&
                    st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino;
        for (int i = 0; i < 3; i++) {
                int fds[2];
                if (!tty[i])
                        continue;
                if (i == 2 && same) {
                        p->inner[2] = p->inner[1];
                        break;
                }
                if (pipe2(fds, O_CLOEXEC) < 0)
                        return roost_error_set(e, -errno, "creating the pipes for the terminal");
                p->inner[i] = fds[i == 0 ? 0 : 1];
                p->outer[i] = fds[i == 0 ? 1 : 0];
                /* launch's end only: the container's stays blocking. The
                 * last output is read until the pipe is empty, not until
                 * EOF, which a process left behind could hold off. */
                if (fcntl(p->outer[i], F_SETFL, O_NONBLOCK) < 0)
                        return roost_error_set(e, -errno, "creating the pipes for the terminal");
        }
        if (explaining() && (p->inner[0] >= 0 || p->inner[1] >= 0 || p->inner[2] >= 0))
                explain_line("pipe2() for fd%s%s%s — no pseudo-terminal, so the caller's terminal would be "
                             "the container's own: it gets pipes instead, relayed by launch%s",
                             p->inner[0] >= 0 ? " 0" : "", p->inner[1] >= 0 ? " 1" : "",
                             p->inner[2] >= 0 ? " 2" : "", same ? " (1 and 2 share one, kept in order)" : "");
        return 0;
}

int tty_pipes_enter(struct tty_pipes *p)
{
        /* No end sits on 0, 1 or 2 where it is to go: those are open
         * (terminals), and so never handed out by pipe2. */
        bool relayed[3];
        for (int i = 0; i < 3; i++) {
                relayed[i] = p->inner[i] >= 0;
                if (relayed[i] && dup2(p->inner[i], i) < 0)
                        return -errno;
        }
        tty_pipes_close(p, true, true);
        /* What the container's ends are now, for its init to let go of. */
        for (int i = 0; i < 3; i++)
                p->inner[i] = relayed[i] ? i : -1;
        return 0;
}

void tty_pipes_close(struct tty_pipes *p, bool inner, bool outer)
{
        for (int i = 0; i < 3; i++) {
                if (inner && p->inner[i] >= 0 && !(i == 2 && p->inner[2] == p->inner[1]))
                        close(p->inner[i]);
                if (outer && p->outer[i] >= 0)
                        close(p->outer[i]);
        }
        for (int i = 0; i < 3; i++) {
                if (inner)
                        p->inner[i] = -1;
                if (outer)
                        p->outer[i] = -1;
        }
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

struct stream {
        int from, to;
        bool in;   /* the caller's stdin to the container; else the container's output to the caller */
        bool open; /* FROM is still read */
        bool pty;  /* the container's side is the master, not a pipe */
        struct chunk c;
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

/* Close our end FD (the master, or a pipe) for the container's side to see,
 * leaving /dev/null on the number, which the caller closes; no stream uses
 * it any more. Closing the master's last copy is a hang-up: the command's
 * session gets SIGHUP, its writes EIO; a pipe's reader gets EOF, its
 * writers EPIPE. */
static void shut(struct stream *s, size_t n, int fd, pid_t child)
{
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul < 0 || dup3(nul, fd, O_CLOEXEC) < 0)
                kill(child, SIGHUP);
        if (nul >= 0)
                close(nul);
        for (size_t i = 0; i < n; i++)
                if (s[i].from == fd || s[i].to == fd) {
                        s[i].open = false;
                        s[i].c.len = 0;
                }
}

/* X's source has ended (the caller's ^D; the master's EIO, or a pipe's
 * EOF: the container has closed its side). */
static void source_gone(struct stream *s, size_t n, struct stream *x, pid_t child)
{
        x->open = false;
        if (x->in && !x->pty) {
                /* The container reads EOF, as it would have at the
                 * terminal. (The master has no such half to close.) */
                shut(s, n, x->to, child);
                return;
        }
        if (!x->in && x->pty)
                for (size_t i = 0; i < n; i++)
                        if (s[i].in) {
                                s[i].open = false;
                                s[i].c.len = 0;
                        }
}

/* X's destination takes nothing any more. */
static void sink_gone(struct stream *s, size_t n, struct stream *x, pid_t child)
{
        x->c.len = 0;
        if (x->in) {
                /* The container closed its stdin: what is typed from now
                 * on is not read, and stays the caller's. */
                x->open = false;
                return;
        }
        /* Nobody reads our output any more (launch -t | head): hang the
         * container's side up rather than read it for nobody. */
        shut(s, n, x->from, child);
}

/* The command is done, and what it wrote last is still in the pty's buffer
 * or the pipes: pass it on before leaving. Until the pipe is empty, not
 * until EOF: a process it left behind may hold it open (until the init's
 * end takes it with the rest). */
static void pass_last(struct stream *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct stream *x = &s[i];
                if (x->in)
                        continue;
                for (;;) {
                        if (x->c.len && write_all(x->to, x->c.buf + x->c.off, x->c.len) < 0)
                                break;
                        x->c.len = 0;
                        if (!x->open || !fill(&x->c, x->from) || !x->c.len)
                                break;
                }
        }
}

int tty_relay(struct relay *r)
{
        struct stream s[3];
        size_t n = 0;
        int repfd = r->repfd;

        if (r->master >= 0) {
                /* The master is ours alone: when the container reads
                 * nothing, a write to it says EAGAIN instead of stopping
                 * launch, which must go on draining the container's output
                 * (or both would wait). The pipes are so already. */
                int fl = fcntl(r->master, F_GETFL);
                if (fl < 0 || fcntl(r->master, F_SETFL, fl | O_NONBLOCK) < 0)
                        return -errno;
                s[n++] = (struct stream){
                        .from = STDIN_FILENO, .to = r->master, .in = true, .open = true, .pty = true
                };
                s[n++] = (struct stream){ .from = r->master, .to = STDOUT_FILENO, .open = true, .pty = true };
        } else {
                if (r->pipes[0] >= 0)
                        s[n++] = (struct stream){
                                .from = STDIN_FILENO, .to = r->pipes[0], .in = true, .open = true
                        };
                for (int i = 1; i < 3; i++)
                        if (r->pipes[i] >= 0)
                                s[n++] = (struct stream){ .from = r->pipes[i], .to = i, .open = true };
        }
        for (;;) {
                struct pollfd p[2 + 2 * ELEMENTSOF(s)] = {
                        { .fd = r->sigfd, .events = POLLIN },
                        { .fd = repfd, .events = POLLIN },
                };
                for (size_t i = 0; i < n; i++) {
                        p[2 + 2 * i] = (struct pollfd){ .fd = s[i].open && !s[i].c.len ? s[i].from : -1,
                                                        .events = POLLIN };
                        p[3 + 2 * i] = (struct pollfd){ .fd = s[i].c.len ? s[i].to : -1, .events = POLLOUT };
                }
                if (poll(p, 2 + 2 * n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (size_t i = 0; i < n; i++) {
                        struct stream *x = &s[i];
                        short rev = p[2 + 2 * i].revents, wev = p[3 + 2 * i].revents;
                        /* Another stream's event may have stopped this one. */
                        if (rev && x->open && !x->c.len && !fill(&x->c, x->from))
                                source_gone(s, n, x, r->child);
                        if (wev && x->c.len && !((wev & POLLOUT) && drain(&x->c, x->to)))
                                sink_gone(s, n, x, r->child);
                }
                if (p[1].revents) {
                        int k = sync_recv(repfd, &r->rep);
                        repfd = -1;
                        if (k == 0) {
                                r->have_rep = true;
                                if (r->rep.kind == SYNC_EXITED) {
                                        pass_last(s, n);
                                        return 1;
                                }
                                /* a failure: the init's exit follows */
                        }
                }
                if (!p[0].revents)
                        continue;
                struct signalfd_siginfo si;
                ssize_t k = read(r->sigfd, &si, sizeof(si));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k != sizeof(si))
                        return k < 0 ? -errno : -EIO;
                if (si.ssi_signo == SIGWINCH) {
                        /* The kernel tells the container's foreground job.
                         * Pipes have no size to pass on. */
                        if (r->master >= 0)
                                tty_copy_winsize(STDIN_FILENO, r->master);
                } else if (si.ssi_signo == SIGCHLD) {
                        pid_t w = waitpid(r->child, &r->wstatus, WNOHANG);
                        if (w < 0)
                                return -errno;
                        if (w == r->child) {
                                pass_last(s, n);
                                return 0;
                        }
                } else {
                        kill(r->child, (int)si.ssi_signo);
                }
        }
}
