/* What a container is denied, and what it may use: capabilities, no_new_privs,
 * seccomp, masked /proc paths, cgroup limits and the user namespace's id
 * maps. The runtime (launch/run.c) calls these at fixed points of its
 * straight line; their implementation lives in launch/sandbox*.c,
 * launch/cgroup.c and launch/userns.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"

struct sandbox_config {
        bool privileged;         /* --privileged: lift everything below */
        bool seccomp_unconfined; /* --seccomp=unconfined */
        uint64_t cap_add;        /* bit N = capability N, from --cap-add */
        uint64_t cap_drop;       /* from --cap-drop */
        bool cap_drop_all;       /* --cap-drop ALL */
};

/* Parse "NET_ADMIN", "cap_net_admin" or "ALL" (*ret = -1). */
int sandbox_parse_cap(const char *name, int *ret);

/* Inside the new root, after /proc and /sys are mounted and before the
 * old root is gone from view of nothing: hide and make read-only the usual
 * /proc and /sys paths, checking each target is what it claims to be. */
int sandbox_mask_paths(const struct sandbox_config *c, roost_error *e);

/* In the process that execs the command, as the very last step before
 * execve: capabilities, no_new_privs, then the seccomp filter. */
int sandbox_apply(const struct sandbox_config *c, roost_error *e);

struct cgroup_limits {
        uint64_t memory; /* bytes, 0 = none */
        uint64_t pids;   /* 0 = none */
        double cpus;     /* 0 = none */
};
typedef struct cgroup cgroup;

/* Parent side: make the container's cgroup (unified hierarchy where the host
 * has the controllers, v1 otherwise) before the child runs. *ret is NULL
 * when no limit was asked for. */
int cgroup_create(const char *id, const struct cgroup_limits *l, cgroup **ret, roost_error *e);
int cgroup_attach(cgroup *c, pid_t pid, roost_error *e);
/* After the container exited: kill what is left in it and remove it. */
void cgroup_destroy(cgroup *c);

/* Parent side of a rootless launch: write setgroups "deny" and the uid/gid
 * maps of the child's new user namespace, mapping the caller to root
 * inside (a range through newuidmap/newgidmap where subordinate ids are
 * configured). */
int userns_map(pid_t child, roost_error *e);
