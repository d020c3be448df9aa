/* What launch's container side and roost-init (launch/roost-init.c, a
 * separate static program) tell each other. Plain C types only: roost-init
 * is built with another libc. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* What launch and the container's side tell each other while it starts
 * (launch/sync.h): named messages, each one write of a struct sync_msg,
 * below PIPE_BUF, so read whole or not at all. launch writes to the child
 * on the sync pipe; the child, PID 1 and roost-init write to launch on the
 * report pipe (close-on-exec but for roost-init's INIT_FD_REPORT). */
enum sync_kind {
        SYNC_GO = 1,        /* launch: the id maps are written, the cgroup joined: go on */
        SYNC_NET_READY = 2, /* launch: the network namespace it made may be joined */
        SYNC_FAILED = 3,    /* the container's side: a failure, STATUS 125, 126 or 127 */
        SYNC_EXITED = 4,    /* roost-init: the command ended with STATUS */
        SYNC_NET_UP = 5,    /* launch: the joined namespace's loopback is up */
};

struct sync_msg {
        int32_t kind; /* enum sync_kind */
        int32_t r;    /* SYNC_FAILED: the negative error */
        int32_t status;
        char msg[1024]; /* SYNC_FAILED: the one line launch prints */
};

/* The descriptors roost-init finds open when it starts as PID 1. */
enum {
        INIT_FD_REPORT = 3, /* the report pipe's write end: the command's failures, and its end */
        INIT_FD_PARAMS = 4, /* a memfd: struct init_params, then its strings */
};

/* What PID 1 writes into INIT_FD_PARAMS before it becomes roost-init: the
 * command roost-init starts, and how its process is to be set up. After
 * the header: n_groups uint32_t group ids, then NUL-terminated strings:
 * the working directory, the terminal's slave ("" for none), argc
 * arguments, envc environment entries. */
struct init_params {
        uint8_t report;    /* tell launch of the command's end (launch leaves before teardown) */
        uint8_t sandboxed; /* not --privileged: cut the command's capabilities, PID 1's to KILL */
        uint8_t rootless;  /* in a user namespace: setgroups is refused, ids may be unmapped */
        uint8_t pad;
        uint32_t uid, gid;
        uint32_t n_groups, argc, envc;
        uint64_t caps;     /* the command's capabilities (sandboxed) */
        uint64_t size;     /* the bytes that follow */
};
/* The command's PATH unless it is given one, docker's; also where the
 * search for the command looks when the environment has no PATH. */
#define LAUNCH_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* roost-init's argv[0] as PID 1. */
#define INIT_NAME "roost-init"
