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
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/steps.h"

static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *env_path(char *const *env)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        return env[i] + 5;
        return default_path;
}

static void explain_exec(const char *path, char *const *argv)
{
        if (!explaining())
                return;
        char args[1024];
        size_t n = 0;
        args[0] = 0;
        for (size_t i = 0; argv[i] && n < sizeof(args) - 1; i++)
                n += (size_t)snprintf(args + n, sizeof(args) - n, "%s\"%s\"", i ? ", " : "", argv[i]);
        explain_line("execve(\"%s\", [%s], env) — the command replaces this process; the explain fd "
                     "is close-on-exec and goes with it",
                     path, args);
}

/* execvpe's search, but in the container's PATH rather than launch's, and
 * telling "not found" (127) from "found but cannot run" (126). */
static _Noreturn void exec_search(const struct run_state *st)
{
        const struct launch_config *c = st->c;
        const char *cmd = c->argv[0];
        if (strchr(cmd, '/')) {
                explain_exec(cmd, c->argv);
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
                        /* Only the candidate that exists gets a line, not
                         * every miss of the PATH search. */
                        if (explaining() && access(full, F_OK) == 0)
                                explain_exec(full, c->argv);
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

/* What sandbox_seccomp_load does in PID 1, in words. */
static void explain_filter(const struct sandbox_config *sb)
{
        if (sb->privileged) {
                explain_line("seccomp: skipped (--privileged): no filter");
                return;
        }
        if (sb->seccomp_unconfined) {
                explain_line("seccomp: skipped (--seccomp=unconfined): no filter");
                return;
        }
        size_t insns = 0;
        roost_error e = { "" };
        if (sandbox_seccomp_instructions(sb, &insns, &e) < 0)
                explain_line("seccomp(SECCOMP_SET_MODE_FILTER) — the default filter (its size: %s)", e.msg);
        else
                explain_line("seccomp(SECCOMP_SET_MODE_FILTER) — a filter of %zu BPF instructions, loaded by "
                             "PID 1 and inherited by the command: the system calls a container has no "
                             "business making (mount, kexec, bpf, ...) fail",
                             insns);
}

/* What sandbox_apply (and sandbox_caps_bound before it) does, in words. */
static void explain_sandbox(const struct sandbox_config *sb)
{
        char names[EXPLAIN_FLAGS_MAX * 2];
        size_t n = 0;
        int kept = 0;
        if (sb->privileged) {
                explain_line("capabilities: all kept, skipped (--privileged)");
                explain_line("prctl(PR_SET_NO_NEW_PRIVS): skipped (--privileged)");
                return;
        }
        uint64_t keep = sandbox_caps(sb);
        names[0] = 0;
        for (int cap = 0; cap < 64; cap++) {
                const char *name = sandbox_cap_name(cap);
                if (!(keep & (UINT64_C(1) << cap)) || !name)
                        continue;
                kept++;
                if (n < sizeof(names) - 1)
                        n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? " " : "", name);
        }
        explain_line("capset() — capabilities kept (%d): %s; every other one (CAP_SYS_ADMIN among them) "
                     "is dropped from the permitted, effective and inheritable sets, and was from the "
                     "bounding set by PID 1",
                     kept, kept ? names : "none");
        explain_line("prctl(PR_SET_NO_NEW_PRIVS, 1) — no execve can ever grant more privileges (setuid "
                     "bits and file capabilities are ignored)");
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

        EXPLAIN("-- in the command's process (pid %d in the container) --", (int)getpid());
        /* Its own session: job control for a shell, and a terminal of its own. */
        EXPLAIN("setsid()%s — a session of its own%s", slave ? ", ioctl(TIOCSCTTY)" : "",
                slave ? ", with the pseudo-terminal as its controlling terminal and stdin/out/err" : "");
        if (setsid() < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "setsid: %m");
        if (slave && (r = tty_make_controlling(slave)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "attaching the terminal %s: %s", slave, strerror(-r));
        if (chdir(c->cwd ? c->cwd : "/") < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "working directory %s: %m", c->cwd ? c->cwd : "/");
        /* Supplementary groups are refused in a rootless namespace
         * (setgroups is "deny" there): nothing to drop then. */
        gid_t g = c->gid;
        EXPLAIN("chdir(\"%s\"), setgroups([%u])%s", c->cwd ? c->cwd : "/", (unsigned)g,
                st->rootless ? " (refused in a rootless namespace: setgroups is \"deny\" there)" : "");
        if (setgroups(1, &g) < 0 && errno != EPERM)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "setgroups: %m");
        /* PID 1 cut the bounding set already (sandbox_init_narrow), and
         * this finds it so. Were it not, it could only be cut before the
         * switch to a -u user takes CAP_SETPCAP away. */
        if (c->uid != 0 && (r = sandbox_caps_bound(&c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        EXPLAIN("setresgid(%u, %u, %u), setresuid(%u, %u, %u) — the command's user%s", (unsigned)c->gid,
                (unsigned)c->gid, (unsigned)c->gid, (unsigned)c->uid, (unsigned)c->uid, (unsigned)c->uid,
                c->uid ? ": not root, so its permitted and effective capabilities empty at execve" : "");
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
        if (explaining())
                explain_sandbox(&c->sandbox);
        step_mark(STEP_COMMAND);
        if ((r = sandbox_apply(&c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_CAPS);
        if (launch_step_times)
                step_report(STDERR_FILENO);
        exec_search(st);
}

/* Our command line is launch's, with host paths (store, mirror, volumes) in
 * it: show the container a plain name instead. The kernel reads
 * /proc/1/cmdline from the bytes between arg_start and arg_end, our own
 * memory, which we may overwrite: launch's argv strings, which main hands
 * us (none when launch was started without arguments: nothing to hide). */
static void set_title(const struct launch_config *c, const char *title)
{
        char *area = c->cmdline_area;
        size_t n = c->cmdline_size;
        if (!area || n < 2)
                return;
        memset(area, 0, n);
        memcpy(area, title, strlen(title) < n - 1 ? strlen(title) : n - 1);
        /* A last byte that is not NUL tells the kernel the title was
         * rewritten (setproctitle's way): /proc/1/cmdline then ends at the
         * title's NUL instead of showing the rest of the area as NULs. */
        if (strlen(title) + 1 < n)
                area[n - 1] = ' ';
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

/* PID 1's own copies of the command's strings; never freed (PID 1 only
 * ever leaves through _exit). */
static int copy_command(struct launch_config *c)
{
        size_t n = 0;
        while (c->argv[n])
                n++;
        char **argv = calloc(n + 1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(argv[i] = strdup(c->argv[i])))
                        return -ENOMEM;
        c->argv = argv;
        if (c->cwd && !(c->cwd = strdup(c->cwd)))
                return -ENOMEM;
        return 0;
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
        EXPLAIN("-- PID 1 becomes roost's init --");
        /* The title overwrites launch's argv area, which holds the
         * command's argv and -w directory: copy those first, so that the
         * title is in place before the command runs (one reading
         * /proc/1/cmdline at once must see it). */
        struct launch_config own_c = *st->c;
        struct run_state own = *st;
        own.c = &own_c;
        if (copy_command(&own_c) < 0)
                child_fail(st, -ENOMEM, LAUNCH_EXIT_ERROR, "copying the command line");
        set_title(st->c, "roost-init");
        /* A filter that cannot be loaded is a refusal to start, never a
         * silent run without it. */
        if (explaining())
                explain_filter(&st->c->sandbox);
        if (!st->c->sandbox.privileged)
                EXPLAIN("prctl(PR_CAPBSET_DROP) for each capability the command may not have, "
                        "prctl(PR_SET_NO_NEW_PRIVS, 1), prctl(PR_SET_DUMPABLE, 0), capset() — PID 1 keeps "
                        "only the command's capabilities and what switching user takes (its process "
                        "inherits the bounding set)");
        step_mark(STEP_INIT);
        if ((r = sandbox_seccomp_load(&st->c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_FILTER);
        if ((r = sandbox_init_narrow(&st->c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_INIT_NARROW);
        if (explaining()) {
                char fb[EXPLAIN_FLAGS_MAX];
                explain_line("clone(%s) — PID 1 starts the command as its child (as posix_spawn does); "
                             "it stays to pass signals on and reap orphans",
                             explain_clone_flags(fb, CLONE_VM | CLONE_VFORK | SIGCHLD));
        }
        /* Said before the command starts, so that its execve stays the last
         * line, right before the command's own output. */
        if (!st->c->sandbox.privileged)
                EXPLAIN("capset(CAP_KILL only) — done by PID 1 once the command runs: it keeps only what it "
                        "needs to pass signals on, so that even a command allowed to ptrace it gains "
                        "nothing");
        pid_t cmd = start_command(&own, slave);
        if (cmd < 0)
                child_fail(st, -errno, LAUNCH_EXIT_ERROR, "starting the command: %m");
        /* The explain lines' copy of launch's stderr, the caller's terminal
         * maybe, has said all it had to: it does not stay with PID 1, where
         * a command allowed to ptrace it could open it (/proc/1/fd). First
         * thing: the command runs from here on. */
        if (explain_fd >= 0)
                close(TAKE_FD(explain_fd));
        /* The command has exec'd (or failed): PID 1 needs no privilege of
         * its own from here on. */
        if ((r = sandbox_init_drop(&st->c->sandbox, &e)) < 0)
                child_fail(st, r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        if (master >= 0)
                close(master);
        if (st->tty_sock[1] >= 0)
                close(st->tty_sock[1]);
        /* PID 1 lets go of the pipes that stand for the caller's terminal,
         * so that the command's end is their end (EOF for launch once it
         * and its children are gone, EPIPE when it closes stdin). */
        for (int i = 0; i < 3; i++)
                if (st->pipes.inner[i] >= 0)
                        close(st->pipes.inner[i]);
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
