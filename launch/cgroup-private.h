/* What launch/cgroup.c (the limits, the container's cgroups and their
 * removal) and launch/cgroup-devices.c (the device allow-list and the
 * cgroup that holds it) share. Nothing outside those two includes it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "common/util.h"
#include "launch/sandbox.h"

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_N };

/* Where the container's device cgroup comes from. */
enum { DEV_V1 = 1, DEV_V2 = 2 };

struct cgroup {
        int version;      /* of the limits: 1 or 2 */
        char *path[CG_N]; /* v1: one directory per controller used; v2: path[0] */
        int lockfd[CG_N]; /* flocks held while the container runs */
        /* The device cgroup the container joins, its cgroup.procs open; and
         * when that cgroup is the launch's own, the directory above it that
         * holds its list, which cgroup_destroy removes. */
        char *dev_path;
        int dev_version; /* DEV_V1, DEV_V2 */
        int dev_fd;      /* v1: its cgroup.procs; v2: the directory, for CLONE_INTO_CGROUP */
        bool dev_moved;  /* v2, but clone3 was refused: cgroup_attach moves the child */
        bool dev_single; /* dev_path is this launch's alone (below dev_own or the v2 limits') */
        char *dev_own;
        int dev_lockfd;
};

/* DIR/NAME into BUF; -ENAMETOOLONG rather than a truncated path. */
int cgroup_join(char *buf, size_t n, const char *dir, const char *name);
/* Where a hierarchy is mounted (cgroup2 when CONTROLLER is NULL) joined
 * with the caller's cgroup in it. */
int cgroup_caller_dir(const char *controller, char **ret);
/* Remove DIR and the cgroups below it, killing what keeps them busy when
 * KILLS; whether DIR is gone. */
bool cgroup_rmdir_tree(const char *dir, bool kills);
/* ROOST (the folder of launches' cgroups) held shared while a launch
 * makes its cgroup there and locks it; cgroup_cleanup_stale holds it
 * exclusively while it sweeps, and so never takes a cgroup made a moment
 * ago, empty and not yet locked, for a dead launch's. The fd, to close
 * once the new cgroup is locked. */
int cgroup_sweep_guard(const char *roost, roost_error *e);
/* Let go of the device cgroup's names and descriptors (its directory
 * stays). */
void cgroup_dev_release(cgroup *c);

/* launch/cgroup-devices.c: find or make the device cgroup the container
 * joins, with D's allow-list above it, into C. */
int cgroup_dev_create(cgroup *c, const char *id, const struct cgroup_devices *d, roost_error *e);
