/* What launch's container side and roost-init (launch/roost-init.c, a
 * separate static program) tell each other. Plain C types only: roost-init
 * is built with another libc. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* A failure on the container's side travels to launch through a
 * close-on-exec pipe as one of these, written in one piece. */
struct child_report {
        int r;
        int status;  /* 125, 126 or 127; or the command's, when EXITED */
        bool exited; /* not a failure: init reports the command's end */
        char msg[1024];
};

/* The descriptors roost-init finds open when it starts, and what PID 1
 * writes for it into INIT_FD_PARAMS before it becomes roost-init. */
enum {
        INIT_FD_REPORT = 3, /* the report pipe's write end, or closed */
        INIT_FD_PARAMS = 4, /* PID 1: a pipe holding struct init_params; the command: the gate */
        INIT_FD_GATE = 5,   /* PID 1: the gate's write end, closed once it is roost-init */
};

struct init_params {
        int32_t command;  /* the command's pid, in the container */
        uint8_t report;   /* tell launch of the command's end (launch leaves before teardown) */
};

/* The command's PATH unless it is given one, docker's; also where the
 * search for the command looks when the environment has no PATH. */
#define LAUNCH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* argv[0] of each of roost-init's two roles. */
#define INIT_NAME "roost-init"
#define INIT_EXEC_NAME "roost-exec"
