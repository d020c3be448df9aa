/* The i386 entry point, reachable from a 64-bit process through int 0x80:
 * the seccomp filter must cover it too. Shared by the static probe and the
 * sandbox's unit tests. Returns -1 with errno set on failure. */
#pragma once
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

static inline long int80(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a), "c"(b), "d"(c)
                         : "memory", "r8", "r9", "r10", "r11");
        if (ret < 0 && ret > -4096) {
                errno = (int)-ret;
                return -1;
        }
        return ret;
#else
        errno = ENOSYS;
        (void)nr, (void)a, (void)b, (void)c;
        return -1;
#endif
}

/* Whether this kernel has the i386 entry point at all. Some hypervisors'
 * guests (and kernels booted with ia32_emulation=false) answer int 0x80
 * with SIGSEGV: there is then no such way in for a filter to cover, and
 * the checks that use it must say they were skipped. Tried in a child,
 * which the signal may kill. */
static inline bool int80_works(void)
{
        static int known = -1;
        if (known < 0) {
                int status = 0;
                pid_t pid = fork();
                if (pid == 0) {
                        /* Die of it: a test runner's SIGSEGV handler
                         * would carry on running tests in this child. */
                        signal(SIGSEGV, SIG_DFL);
                        _exit(int80(20 /* i386 getpid */, 0, 0, 0) > 0 ? 0 : 1);
                }
                known = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                        WEXITSTATUS(status) == 0;
        }
        return known;
}
