/* roost-init: the program the container's PID 1 and the command's process
 * become before anything of the container runs.
 *
 * Both start as forks of launch, whose /proc/PID/exe is the host's launch
 * binary. A container process allowed to ptrace PID 1 could open that
 * binary through /proc/1/exe and write it (CVE-2019-5736), and an image
 * whose /bin/sh starts with "#!/proc/self/exe" would run it inside. So
 * launch carries this small static program, copies it into a sealed memfd
 * per launch and both processes execve it from there: /proc/1/exe is then
 * a sealed copy that cannot be written and is gone with the container,
 * /proc/1/environ is empty and /proc/1/maps shows nothing of the host.
 *
 * As INIT_NAME it is PID 1: it passes signals on to the command, reaps
 * every orphan, and exits with the command's status. As INIT_EXEC_NAME it
 * is the command's process: it waits until PID 1 is roost-init, then
 * looks the command up in the container's PATH and execs it.
 *
 * Static and libc-light (built with musl where there is one), with no
 * file of the host's: everything it opens is the container's. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

static bool read_all(int fd, void *buf, size_t n)
{
        for (size_t got = 0; got < n;) {
                ssize_t k = read(fd, (char *)buf + got, n - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                got += (size_t)k;
        }
        return true;
}

static _Noreturn void pid1(void)
{
        struct init_params p;
        sigset_t set;

        /* exec made us dumpable again; a command that may not ptrace us
         * must not read our memory. Done before the gate opens. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_NAME, INIT_NAME, 0, 0, 0);
        if (!read_all(INIT_FD_PARAMS, &p, sizeof(p)))
                _exit(125);
        close(INIT_FD_PARAMS);
        if (!p.report)
                close(INIT_FD_REPORT);
        /* Launch's stdin, stdout and stderr are the caller's (its terminal,
         * even when the command has a pseudo-terminal of its own): PID 1
         * needs none of them. */
        int null = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
                if (fd != null && (null < 0 || dup2(null, fd) < 0))
                        close(fd);
        if (null > 2)
                close(null);
        /* The command may run from here on. */
        close(INIT_FD_GATE);

        /* The signals to pass on were blocked by launch's PID 1 and stay
         * blocked across execve: whatever arrived meanwhile is queued. */
        sigprocmask(SIG_BLOCK, NULL, &set);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(p.command, sig);
                        continue;
                }
                for (;;) {
                        int ws;
                        pid_t w = waitpid(-1, &ws, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w != p.command)
                                continue;
                        int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        /* Tell launch first: tearing the namespaces down
                         * is then none of its waiting. */
                        if (p.report)
                                report(status, true, 0, NULL);
                        /* Leaving ends the namespace: the kernel kills
                         * whatever else still runs in it. */
                        _exit(status);
                }
        }
}

/* execvpe's search, in the container's PATH, telling "not found" (127)
 * from "found but cannot run" (126). */
static _Noreturn void exec_command(char **argv)
{
        char full[4096];
        const char *cmd = argv[0];
        char gate;

        /* Until PID 1 is roost-init, it is launch's binary: nothing of the
         * container may run before. EOF is the signal (or PID 1's death,
         * which ends the container anyway). */
        while (read(INIT_FD_PARAMS, &gate, 1) > 0 || errno == EINTR)
                errno = 0;
        close(INIT_FD_PARAMS);
        fcntl(INIT_FD_REPORT, F_SETFD, FD_CLOEXEC);

        if (strchr(cmd, '/')) {
                execv(cmd, argv);
                int err = errno;
                fail(err == ENOENT || err == ENOTDIR ? 127 : 126, err, cmd,
                     err == ENOENT ? "command not found (no such file)" : strerror(err));
        }
        int seen = 0;
        const char *p = getenv("PATH");
        if (!p)
                p = LAUNCH_DEFAULT_PATH;
        while (*cmd) {
                const char *end = strchr(p, ':');
                if (!end)
                        end = p + strlen(p);
                int len = (int)(end - p);
                if (snprintf(full, sizeof(full), "%.*s/%s", len, len ? p : ".", cmd) < (int)sizeof(full)) {
                        execv(full, argv);
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

int main(int argc, char **argv)
{
        if (argc >= 1 && strcmp(argv[0], INIT_NAME) == 0)
                pid1();
        if (argc >= 2 && strcmp(argv[0], INIT_EXEC_NAME) == 0)
                exec_command(argv + 1);
        fprintf(stderr, "roost-init: this is the init of roost's containers; only launch starts it\n");
        return 125;
}
