/* launch --step-times; see launch/steps.h. */
#include "config.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "launch/steps.h"

bool launch_step_times;
/* Written by the container's PID 1 and by the command's process, which
 * shares its memory until it execs (or has a copy of it after a fork). */
static double marks[STEP__MAX];

static const char *const names[STEP__MAX] = {
        [STEP_NAMESPACES] = "namespaces",
        [STEP_ROOT] = "root",
        [STEP_DEV] = "dev",
        [STEP_ETC] = "etc",
        [STEP_NET_WAIT] = "net_wait",
        [STEP_PROC_SYS] = "proc_sys",
        [STEP_PIVOT] = "pivot",
        [STEP_MASKS] = "masks",
        [STEP_INIT] = "init",
        [STEP_FILTER] = "filter",
        [STEP_INIT_NARROW] = "init_narrow",
        [STEP_COMMAND] = "command",
        [STEP_CAPS] = "caps",
};

void step_mark_now(enum launch_step s)
{
        struct timespec t;
        /* The vDSO's clock: no system call to distort what is measured. */
        clock_gettime(CLOCK_MONOTONIC, &t);
        marks[s] = (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

void step_report(int fd)
{
        char line[512];
        size_t n = (size_t)snprintf(line, sizeof(line), "steps:");
        /* A step not reached (a path that skips it) counts as none. */
        double last = marks[STEP_START];
        for (int s = STEP_START + 1; s < STEP__MAX && n < sizeof(line); s++) {
                double d = marks[s] > 0 ? marks[s] - last : 0;
                if (marks[s] > 0)
                        last = marks[s];
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%.1f", names[s], d);
        }
        if (n < sizeof(line))
                n += (size_t)snprintf(line + n, sizeof(line) - n, " total=%.1f\n", last - marks[STEP_START]);
        if (write(fd, line, n < sizeof(line) ? n : sizeof(line)) < 0) {
                /* nobody to tell */
        }
}
