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

/* What roost-init does once PID 1 is it (launch/roost-init.c), in words:
 * said before, so that the command's execve stays the last line, right
 * before the command's own output. */
static void explain_roost_init(const struct run_state *st, const struct user_ids *ids, const char *slave)
{
        const struct launch_config *c = st->c;
        explain_line("execveat(memfd \"%s\", [\"%s\"], []) — PID 1 leaves launch's binary for roost-init's "
                     "sealed copy, with an empty environment; the command's description is in a memfd",
                     INIT_NAME, INIT_NAME);
        explain_line("clone(CLONE_VM|SIGCHLD) — roost-init starts the command as its child, sharing its "
                     "memory until it execs (as posix_spawn); PID 1 stays to pass signals on and reap "
                     "orphans");
        if (!c->sandbox.privileged)
                explain_line("capset(CAP_KILL only) — PID 1, before the command may run: it keeps only "
                             "what it needs to pass signals on, so that even a command allowed to ptrace "
                             "it gains nothing");
        explain_line("-- in the command's process (roost-init's child) --");
        explain_line("setsid()%s — a session of its own%s", slave ? ", ioctl(TIOCSCTTY)" : "",
                     slave ? ", with the pseudo-terminal as its controlling terminal and stdin/out/err" : "");
        explain_line("chdir(\"%s\"), setgroups([%u%s])%s", c->cwd ? c->cwd : "/", (unsigned)ids->groups[0],
                     ids->n_groups > 1 ? ", ..." : "",
                     st->rootless ? " (refused in a rootless namespace: setgroups is \"deny\" there)" : "");
        explain_line("setresgid(%u, %u, %u), setresuid(%u, %u, %u) — the command's user%s", (unsigned)ids->gid,
                     (unsigned)ids->gid, (unsigned)ids->gid, (unsigned)ids->uid, (unsigned)ids->uid,
                     (unsigned)ids->uid,
                     ids->uid ? ": not root, so its permitted and effective capabilities empty at execve" : "");
        explain_sandbox(&c->sandbox);
        explain_line("read(gate) — the command waits until PID 1 holds nothing more than it needs");
        explain_command(c);
}

/* The command, as roost-init is to start it (launch/report.h): a memfd
 * holding struct init_params and its strings. Made before the filter is
 * loaded; -errno. */
static int command_params(const struct run_state *st, const struct user_ids *ids, char *const *env,
                          const char *slave)
{
        const struct launch_config *c = st->c;
        struct init_params p = {
                .report = st->early_exit,
                .sandboxed = !c->sandbox.privileged,
                .rootless = st->rootless,
                .uid = (uint32_t)ids->uid,
                .gid = (uint32_t)ids->gid,
                .n_groups = (uint32_t)ids->n_groups,
                .caps = sandbox_caps(&c->sandbox),
        };
        const char *cwd = c->cwd ? c->cwd : "/";
        size_t size = ids->n_groups * sizeof(uint32_t) + strlen(cwd) + 1 + strlen(slave ? slave : "") + 1;
        for (p.argc = 0; c->argv[p.argc]; p.argc++)
                size += strlen(c->argv[p.argc]) + 1;
        for (p.envc = 0; env && env[p.envc]; p.envc++)
                size += strlen(env[p.envc]) + 1;
        p.size = size;
        _cleanup_free_ char *buf = malloc(sizeof(p) + size);
        if (!buf)
                return -ENOMEM;
        char *o = buf;
        o = mempcpy(o, &p, sizeof(p));
        for (size_t i = 0; i < ids->n_groups; i++) {
                uint32_t g = (uint32_t)ids->groups[i];
                o = mempcpy(o, &g, sizeof(g));
        }
        o = stpcpy(o, cwd) + 1;
        o = stpcpy(o, slave ? slave : "") + 1;
        for (uint32_t i = 0; i < p.argc; i++)
                o = stpcpy(o, c->argv[i]) + 1;
        for (uint32_t i = 0; i < p.envc; i++)
                o = stpcpy(o, env[i]) + 1;
        int fd = memfd_create("roost-command", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, buf, sizeof(p) + size);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* PID 1 becomes roost-init, which starts the command (its parameters in
 * the memfd PARAMS) and reports on the report pipe. */
static _Noreturn void become_pid1(const struct run_state *st, int params)
{
        int r;
        int fds[] = { st->err_pipe[1], params };
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
        /* The command's description, for roost-init, before the filter. */
        int params = command_params(st, &ids, env, slave);
        if (params < 0)
                sync_fail(st->err_pipe[1], params, LAUNCH_EXIT_ERROR, "roost-init's parameters: %s",
                          strerror(-params));
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
        if (explaining())
                explain_roost_init(st, &ids, slave);
        step_mark(STEP_COMMAND);
        if (launch_step_times)
                step_report(STDERR_FILENO);
        /* The explain lines' copy of launch's stderr, the caller's terminal
         * maybe, has said all it had to: it does not stay with PID 1, where
         * a command allowed to ptrace it could open it (/proc/1/fd). */
        if (explain_fd >= 0)
                close(TAKE_FD(explain_fd));
        /* launch holds the terminal's master now. */
        if (master >= 0)
                close(master);
        /* The network launch made for us has its loopback up before
         * anything of the container runs (EOF: launch is gone, and so
         * are we soon). */
        if (st->net_by_parent) {
                struct sync_msg m;
                if (sync_recv(st->sync_pipe[0], &m) < 0 || m.kind != SYNC_NET_UP)
                        _exit(LAUNCH_EXIT_ERROR);
                close(st->sync_pipe[0]);
        }
        become_pid1(st, params);
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
