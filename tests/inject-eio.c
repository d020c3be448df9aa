/* inject-eio: run a command whose writes to files below a directory start
 * failing, as a full disk or a dying medium would make them, for
 * tests/diskfull.sh.
 *
 *   inject-eio [--errno EIO|ENOSPC] [--after N] [--once] [--syscall NAME] [--log FILE] DIR -- CMD [ARG...]
 *
 * The command runs under a seccomp filter that hands every write-like call
 * (write, pwrite64, writev, fsync, fdatasync, ftruncate, fallocate, syncfs,
 * copy_file_range, renameat2...) to this supervisor (SECCOMP_RET_USER_NOTIF).
 * The supervisor lets each one run (SECCOMP_USER_NOTIF_FLAG_CONTINUE) unless
 * the object it acts on (the fd's /proc link; a rename's source directory)
 * is below DIR: those are counted, and from the Nth on (only the Nth with
 * --once) answered with the errno instead. Threads and children inherit
 * the filter, so a hashing thread or a forked verifier is covered too.
 * With --syscall only that call is counted (and failed), to aim at one
 * moment: `--syscall syncfs` is the flush before a tree is published.
 * Without --after nothing is failed: the count is how many calls there were.
 *
 * The supervisor ends with the command's first process: a process of the
 * command still running after that finds its watched calls failing with
 * ENOSYS (the kernel's answer when nobody listens), so it is meant for
 * commands that leave nothing behind, as roost's do.
 *
 * The log (default: none) gets one line: "calls C failed F first SYSCALL PATH".
 * The exit status is the command's (128+N when a signal killed it); 125
 * when the supervisor itself fails. Nothing is written to stderr once the
 * command runs, so the command's own stderr is all there is. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const watched[] = {
        "write", "pwrite64", "writev", "pwritev", "pwritev2", "fsync", "fdatasync", "syncfs",
        "ftruncate", "fallocate", "copy_file_range", "sendfile", "splice", "renameat", "renameat2",
};

static int fail(const char *what)
{
        fprintf(stderr, "inject-eio: %s: %s\n", what, strerror(errno));
        return 125;
}

/* The fd over the socket: the child loads the filter, the parent needs its
 * notification fd. */
static int send_fd(int sock, int fd)
{
        char buf[CMSG_SPACE(sizeof(int))] = {0};
        char byte = 0;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
        char buf[CMSG_SPACE(sizeof(int))] = {0};
        char byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
        if (recvmsg(sock, &m, 0) != 1)
                return -1;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        if (!c || c->cmsg_type != SCM_RIGHTS)
                return -1;
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

static void child(int sock, char **argv)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                _exit(125);
        /* As root, keep the command's privileges as they would be without
         * the filter (no_new_privs would change what a setuid helper does). */
        if (geteuid() == 0)
                seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
                int nr = seccomp_syscall_resolve_name(watched[i]);
                if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0) < 0)
                        _exit(125);
        }
        if (seccomp_load(ctx) < 0)
                _exit(125);
        int nfd = seccomp_notify_fd(ctx);
        if (nfd < 0 || send_fd(sock, nfd) < 0)
                _exit(125);
        close(nfd);
        close(sock);
        execvp(argv[0], argv);
        fprintf(stderr, "inject-eio: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

/* What the call acts on: the file of its fd argument (the source directory
 * for renameat, renameat2). */
static bool target_below(pid_t pid, const struct seccomp_data *d, const char *dir, char *path, size_t size)
{
        int nr = d->nr;
        long fd = (long)(int)d->args[0];
        if (nr == seccomp_syscall_resolve_name("splice") || nr == seccomp_syscall_resolve_name("copy_file_range"))
                fd = (long)(int)d->args[2];
        else if (nr == seccomp_syscall_resolve_name("sendfile"))
                fd = (long)(int)d->args[0];
        char link[64];
        if (fd == AT_FDCWD)
                snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
        else
                snprintf(link, sizeof(link), "/proc/%d/fd/%ld", pid, fd);
        ssize_t n = readlink(link, path, size - 1);
        if (n < 0)
                return false;
        path[n] = 0;
        size_t l = strlen(dir);
        return strncmp(path, dir, l) == 0 && (path[l] == 0 || path[l] == '/');
}

int main(int argc, char **argv)
{
        int err = EIO;
        long after = 0;
        bool once = false;
        const char *log = NULL;
        int only = -1;
        int i = 1;
        for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (!strcmp(argv[i], "--errno") && i + 1 < argc) {
                        const char *e = argv[++i];
                        err = !strcmp(e, "ENOSPC") ? ENOSPC : !strcmp(e, "EIO") ? EIO : atoi(e);
                } else if (!strcmp(argv[i], "--after") && i + 1 < argc)
                        after = atol(argv[++i]);
                else if (!strcmp(argv[i], "--once"))
                        once = true;
                else if (!strcmp(argv[i], "--log") && i + 1 < argc)
                        log = argv[++i];
                else if (!strcmp(argv[i], "--syscall") && i + 1 < argc) {
                        only = seccomp_syscall_resolve_name(argv[++i]);
                        if (only == __NR_SCMP_ERROR)
                                break;
                }
                else
                        break;
        }
        if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0 || err <= 0) {
                fprintf(stderr, "usage: inject-eio [--errno EIO|ENOSPC] [--after N] [--once] [--syscall NAME] [--log FILE] DIR -- CMD [ARG...]\n");
                return 125;
        }
        char dir[PATH_MAX];
        if (!realpath(argv[i], dir))
                return fail(argv[i]);
        char **cmd = argv + i + 2;

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return fail("socketpair");
        pid_t pid = fork();
        if (pid < 0)
                return fail("fork");
        if (pid == 0) {
                close(sv[0]);
                child(sv[1], cmd);
        }
        close(sv[1]);
        int nfd = recv_fd(sv[0]);
        close(sv[0]);
        if (nfd < 0) {
                int st;
                waitpid(pid, &st, 0);
                fprintf(stderr, "inject-eio: the filter could not be loaded\n");
                return 125;
        }
        /* Our own signals reach the command only: the test kills by pid. */
        signal(SIGPIPE, SIG_IGN);

        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        if (seccomp_notify_alloc(&req, &resp) < 0)
                return fail("seccomp_notify_alloc");
        long calls = 0, failed = 0;
        char first[PATH_MAX + 64] = "-";
        int status = 0;
        for (;;) {
                struct pollfd p = {.fd = nfd, .events = POLLIN};
                int n = poll(&p, 1, 200);
                if (n < 0 && errno != EINTR)
                        return fail("poll");
                if (n > 0 && (p.revents & POLLIN)) {
                        memset(req, 0, sizeof(*req));
                        if (seccomp_notify_receive(nfd, req) < 0)
                                continue; /* the caller died meanwhile */
                        char path[PATH_MAX];
                        memset(resp, 0, sizeof(*resp));
                        resp->id = req->id;
                        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                        if ((only < 0 || req->data.nr == only) &&
                            target_below(req->pid, &req->data, dir, path, sizeof(path)) &&
                            seccomp_notify_id_valid(nfd, req->id) == 0) {
                                calls++;
                                if (after > 0 && (once ? calls == after : calls >= after)) {
                                        resp->flags = 0;
                                        resp->error = -err;
                                        if (failed++ == 0) {
                                                char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
                                                snprintf(first, sizeof(first), "%s %s", name ? name : "?", path);
                                                free(name);
                                        }
                                }
                        }
                        seccomp_notify_respond(nfd, resp); /* fails only when the caller is gone */
                        continue;
                }
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
        }
        if (log) {
                FILE *f = fopen(log, "we");
                if (f) {
                        fprintf(f, "calls %ld failed %ld first %s\n", calls, failed, first);
                        fclose(f);
                }
        }
        seccomp_notify_free(req, resp);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
