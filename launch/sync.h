/* The protocol between launch (launch/run.c) and its container's side
 * (the child's set-up in run.c, PID 1 in launch/init.c, roost-init): the
 * named messages of launch/report.h, and the hand-over to PID 1. run.c and
 * init.c call into each other through this header only. */
#pragma once
#include <stddef.h>
#include "common/error.h"
#include "launch/report.h"

/* M in one write. 0, or -errno (-EPIPE when the reader is gone). */
int sync_send(int fd, const struct sync_msg *m);
/* One whole message into M: 0; -EPIPE at EOF (the writer is gone, or died
 * before it said anything); -EPROTO for a short or unknown one; -errno. */
int sync_recv(int fd, struct sync_msg *m);
/* The container's side gives up: SYNC_FAILED with R, STATUS and the
 * formatted line on the report pipe FD, then _exit(STATUS). */
_Noreturn void sync_fail(int fd, int r, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The signals launch and PID 1 pass on to the command. */
extern const int launch_forwarded_signals[];
extern const size_t launch_n_forwarded_signals;

/* The hand-over, in the child once the root is entered: PID 1 of the
 * container (init.c). Its failures are SYNC_FAILED on ST's report pipe;
 * the command's end, with an early exit, SYNC_EXITED. Never returns. */
struct run_state;
_Noreturn void init_run(const struct run_state *st);
/* In launch, before the clone: a sealed memfd holding roost-init, for PID
 * 1 and the command to execve. */
int init_memfd(roost_error *e);
