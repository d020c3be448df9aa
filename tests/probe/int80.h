/* The i386 entry point, reachable from a 64-bit process through int 0x80:
 * the seccomp filter must cover it too. Shared by the static probe and the
 * sandbox's unit tests. Returns -1 with errno set on failure. */
#pragma once
#include <errno.h>

static inline long int80(long nr, long a, long b)
{
#if defined(__x86_64__)
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a), "c"(b)
                         : "memory", "r8", "r9", "r10", "r11");
        if (ret < 0 && ret > -4096) {
                errno = (int)-ret;
                return -1;
        }
        return ret;
#else
        errno = ENOSYS;
        (void)nr, (void)a, (void)b;
        return -1;
#endif
}
