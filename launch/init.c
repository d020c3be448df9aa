/* PID 1 of the container. The kernel gives PID 1 no default signal
 * actions and makes it the parent of every orphan: a shell or a server
 * started as PID 1 would ignore SIGTERM and leave zombies. So our init
 * starts the command as its child, passes the usual signals on, reaps
 * everything, and exits with the command's status (128+N for signal N). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/steps.h"
#include "launch/sync.h"


static const char *env_path(char *const *env)
{
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], "PATH=", 5) == 0)
                        return env[i] + 5;
        return LAUNCH_DEFAULT_PATH;
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

/* The explain line for the command's execve: the path roost-init's
 * search will take, the first candidate in the container's PATH that
 * exists. The search itself is roost-init's. */
static void explain_command(const struct launch_config *c)
{
        const char *cmd = c->argv[0];
        char full[PATH_MAX];
        if (strchr(cmd, '/')) {
                explain_exec(cmd, c->argv);
                return;
        }
        for (const char *p = env_path(c->env); *cmd;) {
                const char *end = strchrnul(p, ':');
                int len = (int)(end - p);
                if (snprintf(full, sizeof(full), "%.*s/%s", len, len ? p : ".", cmd) < (int)sizeof(full) &&
                    access(full, F_OK) == 0) {
                        explain_exec(full, c->argv);
                        return;
                }
                if (!*end)
                        break;
                p = end + 1;
        }
        explain_exec(cmd, c->argv);
}

/* Put each of FROM at the descriptor numbers 3, 4, ... (-1: leave that
 * one closed), without close-on-exec; every other stays close-on-exec. */
static int place_fds(const int *from, size_t n)
{
        int high[8];
        for (size_t i = 0; i < n; i++)
                if (from[i] >= 0 && (high[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 16)) < 0)
                        return -errno;
        for (size_t i = 0; i < n; i++) {
                int to = INIT_FD_REPORT + (int)i;
                if (from[i] < 0)
                        close(to);
                else if (dup2(high[i], to) < 0)
                        return -errno;
        }
        for (size_t i = 0; i < n; i++)
                if (from[i] >= 0)
                        close(high[i]);
        return 0;
}

/* Become roost-init's ROLE from the sealed memfd (launch/roost-init.c). */
static int become_init(const struct run_state *st, char *const *argv, char *const *env)
{
        syscall(SYS_execveat, st->init_fd, "", argv, env, AT_EMPTY_PATH);
        return -errno;
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

struct command_args {
        const struct run_state *st;
        const char *slave;
        int gate;          /* read end: EOF once PID 1 is roost-init */
        char *const *argv; /* roost-init's: INIT_EXEC_NAME, then the command's */
        char *const *env;  /* the command's, with HOME */
        const struct user_ids *ids;
};

static _Noreturn void exec_command(const struct command_args *a)
{
        const struct run_state *st = a->st;
        const char *slave = a->slave;
        const struct launch_config *c = st->c;
        const struct user_ids *ids = a->ids;
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
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "setsid: %m");
        if (slave && (r = tty_make_controlling(slave)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "attaching the terminal %s: %s", slave, strerror(-r));
        if (chdir(c->cwd ? c->cwd : "/") < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "working directory %s: %m", c->cwd ? c->cwd : "/");
        /* Supplementary groups are refused in a rootless namespace
         * (setgroups is "deny" there): nothing to drop then. */
        EXPLAIN("chdir(\"%s\"), setgroups([%u%s])%s", c->cwd ? c->cwd : "/", (unsigned)ids->groups[0],
                ids->n_groups > 1 ? ", ..." : "",
                st->rootless ? " (refused in a rootless namespace: setgroups is \"deny\" there)" : "");
        if (setgroups(ids->n_groups, ids->groups) < 0 && errno != EPERM)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "setgroups: %m");
        /* PID 1 cut the bounding set already (sandbox_init_narrow), and
         * this finds it so. Were it not, it could only be cut before the
         * switch to a -u user takes CAP_SETPCAP away. */
        if (ids->uid != 0 && (r = sandbox_caps_bound(&c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        EXPLAIN("setresgid(%u, %u, %u), setresuid(%u, %u, %u) — the command's user%s", (unsigned)ids->gid,
                (unsigned)ids->gid, (unsigned)ids->gid, (unsigned)ids->uid, (unsigned)ids->uid,
                (unsigned)ids->uid,
                ids->uid ? ": not root, so its permitted and effective capabilities empty at execve" : "");
        if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "group %u: %m%s", (unsigned)ids->gid,
                           st->rootless ? " (not mapped in the user namespace)" : "");
        if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "user %u: %m%s", (unsigned)ids->uid,
                           st->rootless ? " (not mapped in the user namespace)" : "");
        /* Whatever launch's caller leaked to us stays outside: only 0, 1
         * and 2 survive the exec. */
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "close_range: %m");
        if (explaining())
                explain_sandbox(&c->sandbox);
        step_mark(STEP_COMMAND);
        if ((r = sandbox_apply(&c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_CAPS);
        if (launch_step_times)
                step_report(STDERR_FILENO);
        if (explaining()) {
                explain_line("execveat(memfd \"%s\", [\"%s\", ...]) — this process leaves launch's binary "
                             "for roost-init's sealed copy, which waits until PID 1 is roost-init too",
                             INIT_NAME, INIT_EXEC_NAME);
                explain_command(c);
        }
        int fds[] = { st->err_pipe[1], a->gate };
        if ((r = place_fds(fds, ELEMENTSOF(fds))) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "passing descriptors to roost-init: %s", strerror(-r));
        r = become_init(st, a->argv, a->env);
        sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "starting roost-init: %s", strerror(-r));
}

#if !defined(__SANITIZE_ADDRESS__)
static int command_main(void *userdata)
{
        exec_command(userdata);
}

#endif

/* The command is started as posix_spawn does, sharing our memory on a
 * stack of its own until it execs (CLONE_VM | CLONE_VFORK): copying the
 * page tables for a fork costs more than everything the child does before
 * its execve (docs/launch.md). Its failures only write to the
 * report pipe and _exit. AddressSanitizer cannot follow a thread-less
 * CLONE_VM child: a plain fork there. */
static pid_t start_command(struct command_args *a)
{
#if defined(__SANITIZE_ADDRESS__)
        pid_t pid = fork();
        if (pid == 0)
                exec_command(a);
        return pid;
#else
        static char stack[512 * 1024] __attribute__((aligned(16)));
        return clone(command_main, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, a);
#endif
}

/* roost-init's argv as the command's process: INIT_EXEC_NAME, then the
 * command's. Never freed (PID 1 only ever leaves through execve or
 * _exit). */
static char **exec_argv(const struct launch_config *c)
{
        size_t n = 0;
        while (c->argv[n])
                n++;
        char **argv = calloc(n + 2, sizeof(char *));
        if (!argv)
                return NULL;
        argv[0] = (char *)INIT_EXEC_NAME;
        memcpy(argv + 1, c->argv, n * sizeof(char *));
        return argv;
}

/* PID 1 becomes roost-init, telling it the command's pid; the command's
 * process goes on once the gate's write end is closed by it. */
static _Noreturn void become_pid1(const struct run_state *st, pid_t cmd, int gate)
{
        struct init_params p = { .command = cmd, .report = st->early_exit };
        int params[2], r;
        if (pipe2(params, O_CLOEXEC) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "creating a pipe for roost-init: %m");
        if (write(params[1], &p, sizeof(p)) != sizeof(p))
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "writing roost-init's parameters: %m");
        int fds[] = { st->early_exit ? st->err_pipe[1] : -1, params[0], gate };
        if ((r = place_fds(fds, ELEMENTSOF(fds))) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "passing descriptors to roost-init: %s", strerror(-r));
        char *argv[] = { (char *)INIT_NAME, NULL }, *env[] = { NULL };
        r = become_init(st, argv, env);
        sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "starting roost-init: %s", strerror(-r));
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

        /* The root is the image's now: -u's names mean what its files say.
         * The working directory is that root (mount_enter_root). */
        struct user_ids ids;
        if ((r = user_resolve(&st->c->user, AT_FDCWD, &ids, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        char *const *env = user_env(st->c->env, ids.home);
        if (!env)
                sync_fail(st->err_pipe[1], -ENOMEM, LAUNCH_EXIT_ERROR, "the command's environment");
        if (explaining())
                explain_line(
                        "openat2(\"/etc/passwd\", \"/etc/group\", RESOLVE_IN_ROOT) — the command's user, "
                        "from the image's own files: uid %u, gid %u, %zu group%s, HOME %s%s",
                        (unsigned)ids.uid, (unsigned)ids.gid, ids.n_groups, ids.n_groups == 1 ? "" : "s",
                        ids.home, env == st->c->env ? " (the environment's own HOME is kept)" : "");

        if (st->c->tty) {
                if ((r = tty_open_master(&master, &slave, &e)) < 0)
                        sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
                if ((r = tty_send_fd(st->tty_sock[1], master)) < 0)
                        sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "passing the terminal to launch: %s",
                                   strerror(-r));
        }
        EXPLAIN("-- PID 1 becomes roost's init --");
        char **argv = exec_argv(st->c);
        int gate[2];
        if (!argv)
                sync_fail(st->err_pipe[1], -ENOMEM, LAUNCH_EXIT_ERROR, "copying the command line");
        if (pipe2(gate, O_CLOEXEC) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "creating a pipe: %m");
        /* A filter that cannot be loaded is a refusal to start, never a
         * silent run without it. */
        if (explaining())
                explain_filter(&st->c->sandbox);
        if (!st->c->sandbox.privileged)
                EXPLAIN("prctl(PR_SET_NO_NEW_PRIVS, 1), prctl(PR_SET_DUMPABLE, 0), capset() — PID 1 keeps "
                        "only the command's capabilities and what switching user takes (its process "
                        "inherits the bounding set)");
        step_mark(STEP_INIT);
        if ((r = sandbox_seccomp_load(&st->c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_FILTER);
        if ((r = sandbox_init_narrow(&st->c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
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
        struct command_args a = { st, slave, gate[0], argv, env, &ids };
        pid_t cmd = start_command(&a);
        if (cmd < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "starting the command: %m");
        /* The explain lines' copy of launch's stderr, the caller's terminal
         * maybe, has said all it had to: it does not stay with PID 1, where
         * a command allowed to ptrace it could open it (/proc/1/fd). */
        if (explain_fd >= 0)
                close(TAKE_FD(explain_fd));
        /* The command's process is roost-init now, waiting at the gate:
         * PID 1 needs no privilege of its own from here on, and its
         * execve cannot gain any back (no_new_privs). */
        if ((r = sandbox_init_drop(&st->c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        if (master >= 0)
                close(master);
        /* PID 1 lets go of the pipes that stand for the caller's terminal,
         * so that the command's end is their end (EOF for launch once it
         * and its children are gone, EPIPE when it closes stdin). */
        for (int i = 0; i < 3; i++)
                if (st->pipes.inner[i] >= 0)
                        close(st->pipes.inner[i]);
        become_pid1(st, cmd, gate[1]);
}

/* roost-init's bytes, built from launch/roost-init.c and carried inside
 * launch (launch/init-blob.S): no file of the host's is ever executed in
 * the container, and nothing can be swapped under launch's feet. */
extern const unsigned char roost_init_start[], roost_init_end[];

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int init_memfd(roost_error *e)
{
        size_t n = (size_t)(roost_init_end - roost_init_start);
        /* MFD_EXEC says so to kernels (6.3 and later) that can make a
         * memfd non-executable by default; older ones refuse the flag. */
        int fd = memfd_create(INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create(INIT_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return roost_error_set(e, -errno, "creating roost-init's memfd");
        for (size_t done = 0; done < n;) {
                ssize_t k = write(fd, roost_init_start + done, n - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        int r = roost_error_set(e, k < 0 ? -errno : -EIO, "writing roost-init's memfd");
                        close(fd);
                        return r;
                }
                done += (size_t)k;
        }
        /* Sealed: no write, no resize, no new seal. A container process
         * that opens /proc/1/exe gets this copy and cannot change it. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
                int r = roost_error_set(e, -errno, "sealing roost-init's memfd");
                close(fd);
                return r;
        }
        return fd;
}
