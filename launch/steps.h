/* launch --step-times: how long each stretch of the container's side of a
 * launch takes, from the child's start to PID 1's execve into roost-init,
 * printed as one line on launch's stderr just before it. For
 * bench/harden.sh, which sets the hardened launch's steps beside the
 * privileged one's. Off, a mark is one predictable branch. */
#pragma once
#include <stdbool.h>

enum launch_step {
        STEP_START,       /* the child may go on */
        STEP_NAMESPACES,  /* cgroup and time namespaces, hostname, loopback */
        STEP_ROOT,        /* scratch tmpfs, the tree's overlay */
        STEP_DEV,         /* /dev */
        STEP_ETC,         /* /etc/hosts, hostname, resolv.conf */
        STEP_NET_WAIT,    /* the bounding set, /proc, joining launch's network namespace */
        STEP_PROC_SYS,    /* /sys, volumes */
        STEP_PIVOT,       /* pivot_root, the old root detached */
        STEP_MASKS,       /* masked and read-only paths */
        STEP_INIT,        /* descriptors closed, PID 1 set up */
        STEP_FILTER,      /* the seccomp filter loaded */
        STEP_INIT_NARROW, /* PID 1's bounding set and capabilities cut */
        STEP_COMMAND,     /* the explain lines of roost-init's part */
        STEP_CAPS,        /* never marked: the command's process is roost-init's (0) */
        STEP__MAX,
};

extern bool launch_step_times;
void step_mark_now(enum launch_step s);
static inline void step_mark(enum launch_step s)
{
        if (__builtin_expect(launch_step_times, 0))
                step_mark_now(s);
}
/* "steps: namespaces=12.3 root=45.6 ... total=789.0" (microseconds, each
 * since the mark before it) on FD, in one write. */
void step_report(int fd);
