/* roost-init: the program the container's PID 1 becomes before anything of
 * the container runs, and which starts the command.
 *
 * PID 1 starts as a fork of launch, whose /proc/PID/exe is the host's
 * launch binary. A container process allowed to ptrace PID 1 could open
 * that binary through /proc/1/exe and write it (CVE-2019-5736), and an
 * image whose /bin/sh starts with "#!/proc/self/exe" would run it inside.
 * So launch carries this small static program, copies it into a sealed
 * memfd per launch and PID 1 execve's it from there: /proc/1/exe is then a
 * sealed copy that cannot be written and is gone with the container,
 * /proc/1/environ is empty and /proc/1/maps shows nothing of the host.
 *
 * As INIT_NAME it is PID 1: it starts the command's process, which sets
 * itself up as launch described it (INIT_FD_PARAMS: session, terminal,
 * working directory, user, capabilities), waits until PID 1 has dropped to
 * CAP_KILL, looks the command up in the container's PATH and execs it.
 * PID 1 then passes signals on to the command, reaps every orphan, and
 * exits with the command's status. The command's process is never
 * launch's binary: what it execs, "#!/proc/self/exe" included, starts from
 * this memfd.
 *
 * Static and libc-light (built with musl where there is one), with no
 * file of the host's: everything it opens is the container's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch/report.h"

/* launch/sync.c's sync_send, for a program that cannot link it. */
static void report(int status, bool exited, int r, const char *msg)
{
        struct sync_msg rep = { .kind = exited ? SYNC_EXITED : SYNC_FAILED, .r = r, .status = status };
        if (msg)
                snprintf(rep.msg, sizeof(rep.msg), "%s", msg);
        /* One write below PIPE_BUF: launch reads it whole or not at all. */
        if (write(INIT_FD_REPORT, &rep, sizeof(rep)) < 0) {
                /* launch is gone; nothing to tell */
        }
}

static _Noreturn void fail(int status, int err, const char *what, const char *why)
{
        char msg[sizeof(((struct sync_msg *)0)->msg)];
        snprintf(msg, sizeof(msg), "%s: %s", what, why);
        report(status, false, -err, msg);
        _exit(status);
}

static _Noreturn void failf(int status, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static _Noreturn void failf(int status, int err, const char *fmt, ...)
{
        char msg[sizeof(((struct sync_msg *)0)->msg)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        report(status, false, -err, msg);
        _exit(status);
}

/* Keep only KEEP of the permitted capabilities, as the effective and
 * permitted sets; of the inheritable set KEEP too with KEEP_INHERITABLE
 * (PID 1: KILL across nothing more), else none, which empties the ambient
 * set as well (the command's process). Raw capget/capset: musl has no
 * wrapper. */
struct cap_header {
        uint32_t version;
        int pid;
};
struct cap_data {
        uint32_t effective, permitted, inheritable;
};
#define CAP_V3 0x20080522
#define CAP_KILL_BIT (UINT64_C(1) << 5)

static int caps_limit(uint64_t keep, bool keep_inheritable)
{
        struct cap_header h = { .version = CAP_V3 };
        struct cap_data d[2];
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        uint64_t permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
        uint64_t inheritable = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
        uint64_t want = keep & permitted, inh = keep_inheritable ? keep & inheritable : 0;
        struct cap_data n[2] = {
                { (uint32_t)want, (uint32_t)want, (uint32_t)inh },
                { (uint32_t)(want >> 32), (uint32_t)(want >> 32), (uint32_t)(inh >> 32) },
        };
        return syscall(SYS_capset, &h, n) < 0 ? -errno : 0;
}

/* What INIT_FD_PARAMS holds, unpacked. */
struct command {
        struct init_params p;
        char *data;
        const uint32_t *groups;
        const char *cwd, *slave;
        char **argv, **env;
};

static const char *next_string(const char **p, const char *end)
{
        const char *s = *p, *nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
        if (!nul)
                _exit(125);
        *p = nul + 1;
        return s;
}

static void read_params(struct command *c)
{
        if (pread(INIT_FD_PARAMS, &c->p, sizeof(c->p), 0) != (ssize_t)sizeof(c->p) || c->p.size > (1u << 30) ||
            (uint64_t)c->p.n_groups * sizeof(uint32_t) > c->p.size || c->p.argc == 0)
                _exit(125);
        size_t n = (size_t)c->p.size;
        if (!(c->data = malloc(n + 1)))
                _exit(125);
        for (size_t got = 0; got < n;) {
                ssize_t k = pread(INIT_FD_PARAMS, c->data + got, n - got, (off_t)(sizeof(c->p) + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        _exit(125);
                got += (size_t)k;
        }
        close(INIT_FD_PARAMS);
        const char *q = c->data + (size_t)c->p.n_groups * sizeof(uint32_t), *end = c->data + n;
        c->groups = (const uint32_t *)(void *)c->data;
        c->argv = calloc((size_t)c->p.argc + 1, sizeof(char *));
        c->env = calloc((size_t)c->p.envc + 1, sizeof(char *));
        if (!c->argv || !c->env)
                _exit(125);
        c->cwd = next_string(&q, end);
        c->slave = next_string(&q, end);
        for (uint32_t i = 0; i < c->p.argc; i++)
                c->argv[i] = (char *)next_string(&q, end);
        for (uint32_t i = 0; i < c->p.envc; i++)
                c->env[i] = (char *)next_string(&q, end);
}

/* execvpe's search, in the container's PATH, telling "not found" (127)
 * from "found but cannot run" (126). */
static _Noreturn void exec_command(char **argv, char **env)
{
        char full[4096];
        const char *cmd = argv[0];

        if (strchr(cmd, '/')) {
                execve(cmd, argv, env);
                int err = errno;
                fail(err == ENOENT || err == ENOTDIR ? 127 : 126, err, cmd,
                     err == ENOENT ? "command not found (no such file)" : strerror(err));
        }
        int seen = 0;
        const char *p = NULL;
        for (size_t i = 0; env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        p = env[i] + 5;
        if (!p)
                p = LAUNCH_DEFAULT_PATH;
        while (*cmd) {
                const char *end = strchr(p, ':');
                if (!end)
                        end = p + strlen(p);
                int len = (int)(end - p);
                if (snprintf(full, sizeof(full), "%.*s/%s", len, len ? p : ".", cmd) < (int)sizeof(full)) {
                        execve(full, argv, env);
                        if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG)
                                seen = errno;
                        if (seen && seen != EACCES)
                                break;
                }
                if (!*end)
                        break;
                p = end + 1;
        }
        if (seen)
                fail(126, seen, cmd, strerror(seen));
        fail(127, ENOENT, cmd, "command not found");
}

/* The command's process, PID 1's child sharing its memory until it execs
 * (CLONE_VM, as posix_spawn): set up as launch said, then, once PID 1
 * holds nothing but CAP_KILL (the gate's EOF), the command. It writes
 * nothing of the memory but its own stack, and PID 1 leaves C alone. */
static _Noreturn void command_main(const struct command *c, int gate)
{
        const struct init_params *p = &c->p;
        sigset_t none;

        static const int reset[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH };
        for (size_t i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
                signal(reset[i], SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Its own session: job control for a shell, and a terminal of its own. */
        if (setsid() < 0)
                failf(125, errno, "setsid: %s", strerror(errno));
        if (*c->slave) {
                int fd = open(c->slave, O_RDWR | O_CLOEXEC);
                if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
                    dup2(fd, 2) < 0)
                        failf(125, errno, "attaching the terminal %s: %s", c->slave, strerror(errno));
                if (fd > 2)
                        close(fd);
        }
        if (chdir(c->cwd) < 0)
                failf(125, errno, "working directory %s: %s", c->cwd, strerror(errno));
        /* Supplementary groups are refused in a rootless namespace
         * (setgroups is "deny" there): nothing to drop then. */
        if (syscall(SYS_setgroups, (size_t)p->n_groups, c->groups) < 0 && errno != EPERM)
                failf(125, errno, "setgroups: %s", strerror(errno));
        /* The bounding set is the command's already: PID 1 cut it before
         * it became roost-init, and a child inherits it. Raw system calls:
         * libc's set*id would synchronise threads through state this
         * process shares with PID 1. */
        if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
                failf(125, errno, "group %u: %s%s", (unsigned)p->gid, strerror(errno),
                      p->rootless ? " (not mapped in the user namespace)" : "");
        if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
                failf(125, errno, "user %u: %s%s", (unsigned)p->uid, strerror(errno),
                      p->rootless ? " (not mapped in the user namespace)" : "");
        /* Only 0, 1 and 2 survive the exec: the report pipe goes with it. */
        fcntl(INIT_FD_REPORT, F_SETFD, FD_CLOEXEC);
        if (p->sandboxed) {
                /* Its own set, inheritable and ambient empty (a -u user
                 * lost the permitted set with setresuid already); and
                 * no_new_privs, which PID 1 set and a child keeps. */
                int r = caps_limit(p->caps, false);
                if (r < 0)
                        failf(125, -r, "setting capabilities: %s", strerror(-r));
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        failf(125, errno, "setting no_new_privs: %s", strerror(errno));
        }
        /* EOF once PID 1 dropped to CAP_KILL (or died, which ends the
         * container anyway): a command allowed to ptrace PID 1 never finds
         * it holding more. */
        for (;;) {
                char b;
                ssize_t k = read(gate, &b, 1);
                if (k == 0 || (k < 0 && errno != EINTR))
                        break;
        }
        close(gate);
        exec_command(c->argv, c->env);
}

struct command_start {
        const struct command *c;
        int gate, gate_write;
};

static char command_stack[64 * 1024] __attribute__((aligned(16)));

static int command_start(void *arg)
{
        const struct command_start *a = arg;
        close(a->gate_write);
        command_main(a->c, a->gate);
}

static _Noreturn void pid1(void)
{
        struct command c;
        sigset_t set;
        int gate[2];

        /* exec made us dumpable again; a command that may not ptrace us
         * must not read our memory. Done before the command exists. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_NAME, INIT_NAME, 0, 0, 0);
        read_params(&c);
        if (pipe2(gate, O_CLOEXEC) < 0)
                failf(125, errno, "creating a pipe: %s", strerror(errno));
        /* The command's process shares our memory until it execs, on a
         * stack of its own: copying even this small program's page tables
         * for a fork costs three times as much here (docs/launch.md). Its
         * descriptors are its own copy. */
        struct command_start start = { &c, gate[0], gate[1] };
        pid_t command = clone(command_start, command_stack + sizeof(command_stack), CLONE_VM | SIGCHLD, &start);
        if (command < 0)
                failf(125, errno, "starting the command: %s", strerror(errno));
        close(gate[0]);
        /* PID 1 needs no privilege of its own from here on but passing
         * signals on, and its execve cannot gain any back (no_new_privs). */
        if (c.p.sandboxed) {
                int r = caps_limit(CAP_KILL_BIT, true);
                if (r < 0) {
                        kill(command, SIGKILL);
                        failf(125, -r, "setting capabilities: %s", strerror(-r));
                }
        }
        /* The command may run from here on. */
        close(gate[1]);
        if (!c.p.report)
                close(INIT_FD_REPORT);
        /* Launch's stdin, stdout and stderr are the caller's (its terminal,
         * even when the command has a pseudo-terminal of its own), or the
         * pipes that stand for them: PID 1 lets go of them, so that the
         * command's end is their end. */
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
                if (fd != null && (null < 0 || dup2(null, fd) < 0))
                        close(fd);
        if (null > 2)
                close(null);

        /* The signals to pass on were blocked by launch's PID 1 and stay
         * blocked across execve: whatever arrived meanwhile is queued. */
        sigprocmask(SIG_BLOCK, NULL, &set);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(command, sig);
                        continue;
                }
                for (;;) {
                        int ws;
                        pid_t w = waitpid(-1, &ws, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w != command)
                                continue;
                        int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        /* Tell launch first: tearing the namespaces down
                         * is then none of its waiting. */
                        if (c.p.report)
                                report(status, true, 0, NULL);
                        /* Leaving ends the namespace: the kernel kills
                         * whatever else still runs in it. */
                        _exit(status);
                }
        }
}

int main(int argc, char **argv)
{
        if (argc >= 1 && strcmp(argv[0], INIT_NAME) == 0)
                pid1();
        fprintf(stderr, "roost-init: this is the init of roost's containers; only launch starts it\n");
        return 125;
}
