/* PID 1 of the container. The kernel gives PID 1 no default signal
 * actions and makes it the parent of every orphan: a shell or a server
 * started as PID 1 would ignore SIGTERM and leave zombies. So our init
 * starts the command as its child, passes the usual signals on, reaps
 * everything, and exits with the command's status (128+N for signal N). */
#include "config.h"
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/launch-private.h"

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *env_path(char *const *env)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        return env[i] + 5;
        return default_path;
}

/* execvpe's search, but in the container's PATH rather than launch's, and
 * telling "not found" (127) from "found but cannot run" (126). */
static _Noreturn void exec_search(const struct run_state *st)
{
        const struct launch_config *c = st->c;
        const char *cmd = c->argv[0];
        if (strchr(cmd, '/')) {
                execve(cmd, c->argv, c->env);
                int err = errno;
                child_fail(st, -err,
                           err == ENOENT || err == ENOTDIR ? LAUNCH_EXIT_NOT_FOUND : LAUNCH_EXIT_CANNOT_RUN,
                           "%s: %s", cmd, err == ENOENT ? "command not found (no such file)" : strerror(err));
        }
        int seen = 0;
        const char *p = env_path(c->env);
        while (*cmd) {
                const char *end = strchrnul(p, ':');
                char full[PATH_MAX];
                int len = (int)(end - p);
                if (snprintf(full, sizeof(full), "%.*s/%s", len, len ? p : ".", cmd) < (int)sizeof(full)) {
                        execve(full, c->argv, c->env);
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
                child_fail(st, -seen, LAUNCH_EXIT_CANNOT_RUN, "%s: %s", cmd, strerror(seen));
        child_fail(st, -ENOENT, LAUNCH_EXIT_NOT_FOUND, "%s: command not found", cmd);
}

static _Noreturn void exec_command(const struct run_state *st, const char *slave)
{
        const struct launch_config *c = st->c;
        roost_error e = { "" };
        sigset_t all;
        int r;

        for (size_t i = 0; i < launch_n_forwarded_signals; i++)
                signal(launch_forwarded_signals[i], SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGWINCH, SIG_DFL);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);

        /* Its own session: job control for a shell, and a terminal of its own. */
        if (setsid() < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "setsid: %m");
        if (slave && (r = tty_make_controlling(slave)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "attaching the terminal %s: %s", slave, strerror(-r));
        if (chdir(c->cwd ? c->cwd : "/") < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "working directory %s: %m", c->cwd ? c->cwd : "/");
        /* Supplementary groups are refused in a rootless namespace
         * (setgroups is "deny" there): nothing to drop then. */
        gid_t g = c->gid;
        if (setgroups(1, &g) < 0 && errno != EPERM)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "setgroups: %m");
        /* The bounding set can only be cut before the switch to a -u user
         * takes CAP_SETPCAP away. */
        if ((r = sandbox_caps_bound(&c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "group %u: %m%s", (unsigned)c->gid,
                           st->rootless ? " (not mapped in the user namespace)" : "");
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "user %u: %m%s", (unsigned)c->uid,
                           st->rootless ? " (not mapped in the user namespace)" : "");
        /* Whatever launch's caller leaked to us stays outside: only 0, 1
         * and 2 survive the exec. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "close_range: %m");
        if ((r = sandbox_apply(&c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        exec_search(st);
}

/* Our command line is launch's, with host paths (store, mirror, volumes) in
 * it: show the container a plain name instead. The kernel reads
 * /proc/1/cmdline from the bytes between arg_start and arg_end, our own
 * memory, which we may overwrite. */
static void set_title(const char *title)
{
        char buf[1024];
        _cleanup_fclose_ FILE *f = fopen("/proc/self/stat", "re");
        if (!f || !fgets(buf, sizeof(buf), f))
                return;
        const char *p = strrchr(buf, ')');
        unsigned long long start = 0, end = 0;
        /* fields 48 and 49 (arg_start, arg_end); p is at the end of field 2 */
        for (int field = 2; p && *p && field < 48; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p, " %llu %llu", &start, &end) != 2 || end <= start + 1)
                return;
        char *area = (char *)(uintptr_t)start;
        size_t n = (size_t)(end - start);
        memset(area, 0, n);
        memcpy(area, title, strlen(title) < n - 1 ? strlen(title) : n - 1);
        prctl(PR_SET_NAME, title);
}

#if !defined(__SANITIZE_ADDRESS__)
struct command_args {
        const struct run_state *st;
        const char *slave;
};

static int command_main(void *userdata)
{
        const struct command_args *a = userdata;
        exec_command(a->st, a->slave);
}

#endif

/* The command is started as posix_spawn does, sharing our memory on a
 * stack of its own until it execs (CLONE_VM | CLONE_VFORK): copying the
 * page tables for a fork costs more than everything the child does before
 * its execve (0.2 ms of a 5 ms launch). Its failures only write to the
 * report pipe and _exit. AddressSanitizer cannot follow a thread-less
 * CLONE_VM child: a plain fork there. */
static pid_t start_command(const struct run_state *st, const char *slave)
{
#if defined(__SANITIZE_ADDRESS__)
        pid_t pid = fork();
        if (pid == 0)
                exec_command(st, slave);
        return pid;
#else
        static char stack[512 * 1024] __attribute__((aligned(16)));
        struct command_args a = { st, slave };
        return clone(command_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
#endif
}

static void nothing(int sig)
{
}

_Noreturn void init_run(const struct run_state *st)
{
        _cleanup_free_ char *slave = NULL;
        int master = -1, r;
        roost_error e = { "" };

        /* PID 1 only receives the signals it has a handler for; they stay
         * blocked (from launch) and are taken with sigwaitinfo below. */
        sigset_t set;
        sigemptyset(&set);
        struct sigaction sa = { .sa_handler = nothing };
        for (size_t i = 0; i < launch_n_forwarded_signals; i++) {
                sigaction(launch_forwarded_signals[i], &sa, NULL);
                sigaddset(&set, launch_forwarded_signals[i]);
        }
        sigaction(SIGCHLD, &sa, NULL);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        /* Out of launch's process group: a ^C at the caller's terminal
         * reaches launch, which passes it on once, through us. */
        setsid();

        if (st->c->tty) {
                if ((r = tty_open_master(&master, &slave, &e)) < 0)
                        child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
                if ((r = tty_send_fd(st->tty_sock[1], master)) < 0)
                        child_fail(st, r, LAUNCH_EXIT_ERROR, "passing the terminal to launch: %s",
                                   strerror(-r));
        }
        pid_t cmd = start_command(st, slave);
        if (cmd < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "starting the command: %m");
        /* Only now: the command's argv and cwd are strings of that area. */
        set_title("roost-init");
        if (master >= 0)
                close(master);
        if (st->tty_sock[1] >= 0)
                close(st->tty_sock[1]);
        if (!st->early_exit)
                close(st->err_pipe[1]);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(cmd, sig);
                        continue;
                }
                for (;;) {
                        int ws;
                        pid_t w = waitpid(-1, &ws, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w != cmd)
                                continue;
                        int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        /* Tell launch first: tearing the namespaces down
                         * (unmounting everything) is then none of its
                         * waiting. */
                        if (st->early_exit) {
                                struct child_report rep = { .status = status, .exited = true };
                                if (write(st->err_pipe[1], &rep, sizeof(rep)) < 0) {
                                        /* launch is gone; nothing to tell */
                                }
                        }
                        /* Leaving ends the namespace: the kernel kills
                         * whatever else still runs in it. */
                        _exit(status);
                }
        }
}
