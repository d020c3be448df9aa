/* What a container is denied, and what it may use: capabilities, no_new_privs,
 * seccomp, masked /proc paths, cgroup limits, the device allow-list and the
 * user namespace's id maps. The runtime (launch/run.c) calls these at
 * fixed points of its straight line; their implementation lives in
 * launch/caps.c, launch/seccomp.c, launch/masks.c, launch/sandbox.c,
 * launch/cgroup.c, launch/cgroup-devices.c and launch/userns.c. Nothing
 * here prints or exits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"

struct sandbox_config {
        bool privileged;         /* --privileged: lift everything below */
        bool seccomp_unconfined; /* --seccomp=unconfined */
        uint64_t cap_add;        /* bit N = capability N, from --cap-add; ~0 for ALL */
        uint64_t cap_drop;       /* from --cap-drop */
        bool cap_drop_all;       /* --cap-drop ALL */
};

/* Parse "NET_ADMIN", "cap_net_admin" or "ALL" (*ret = -1), any case.
 * Unknown names give -EINVAL. */
int sandbox_parse_cap(const char *name, int *ret);
/* "CAP_NET_ADMIN" style name of capability CAP, or NULL. */
const char *sandbox_cap_name(int cap);

/* Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW,
 * SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL,
 * AUDIT_WRITE. */
uint64_t sandbox_caps_default(void);
/* The capabilities the command keeps (bounding, permitted, effective):
 * every one the kernel knows with --privileged, else the default set with
 * --cap-drop (ALL first) and then --cap-add applied. */
uint64_t sandbox_caps(const struct sandbox_config *c);

/* Inside the new root (cwd at the new root), after /proc and /sys are
 * mounted: hide and make read-only the usual /proc and /sys paths, checking
 * each target is what it claims to be (procfs, sysfs, directory or file,
 * /dev/null a 1:3 character device) and mounting relative to the checked
 * file systems (or through /proc/self/fd) so that no symlink of the rootfs
 * can redirect a mount. Also makes sure /proc is nosuid,nodev,noexec. Does
 * nothing with --privileged. EMPTY_TREE: a detached read-only mount of an
 * empty directory (sandbox_readonly_copy), attached over the first masked
 * directory and copied over the others; left to the caller to close. -1:
 * an empty tmpfs is made instead (a new superblock, slower). */
int sandbox_mask_paths(const struct sandbox_config *c, int empty_tree, roost_error *e);

/* A detached, read-only copy of the directory NAME below DIRFD and all below
 * it (open_tree_attr, or open_tree and mount_setattr), for
 * sandbox_mask_paths' EMPTY_TREE when NAME is an empty directory no image
 * can reach. Returns the fd or -errno (-ENOSYS before 5.12). */
int sandbox_readonly_copy(int dirfd, const char *name);
/* The same for the device node at PATH, devices allowed: a read-only
 * bind of a host node, whose mode and owner the container may then not
 * change. */
int sandbox_readonly_node(const char *path);

/* Cut the bounding set to the command's, which needs CAP_SETPCAP: in PID 1
 * (sandbox_init_narrow does), or in the process that execs the command
 * before it switches to a -u user. A process that already cut it to that
 * set, or whose parent did before starting it, makes no call. */
int sandbox_caps_bound(const struct sandbox_config *c, roost_error *e);
/* PID 1's part of that, done as early as the container's side likes (its
 * mounts need no capability the cut takes: it leaves the permitted and
 * effective sets alone): KILL, SETUID and SETGID kept inheritable for PID
 * 1's execve into roost-init where the command's set lacks them, then the
 * cut. Idempotent;
 * sandbox_init_narrow does it too. */
int sandbox_init_bound(const struct sandbox_config *c, roost_error *e);

/* In the container's PID 1, just before it starts the command: load the
 * seccomp filter (and set no_new_privs), refusing to go on when it cannot
 * be loaded. The command inherits it, and PID 1 stays under it too. */
int sandbox_seccomp_load(const struct sandbox_config *c, roost_error *e);

/* In PID 1 just before it starts the command: cut the bounding set to the
 * command's, set no_new_privs, become undumpable, and keep only the
 * command's capabilities and what its process needs to switch user
 * (SETUID, SETGID) and PID 1 to pass signals on (KILL). Then, once the
 * command's process exists and before it may exec, PID 1 keeps only
 * CAP_KILL, so that a command given CAP_SYS_PTRACE finds in PID 1 no
 * privilege it lacks itself: roost-init does that with raw capset
 * (launch/roost-init.c); sandbox_init_drop is the same in launch's code. */
int sandbox_init_narrow(const struct sandbox_config *c, roost_error *e);
int sandbox_init_drop(const struct sandbox_config *c, roost_error *e);

/* In the process that execs the command, as the very last step before
 * execve, under the filter PID 1 loaded: capabilities, then no_new_privs.
 * launch's command's process is roost-init's child, which does the same
 * with raw calls (launch/roost-init.c); this is the library's own.
 * For a command running as root; a -u user's permitted and effective sets
 * are emptied by the uid switch and its execve anyway. */
int sandbox_apply(const struct sandbox_config *c, roost_error *e);

/* Its first step, for tests and --explain. */
int sandbox_caps_apply(const struct sandbox_config *c, roost_error *e);
/* Size of the filter sandbox_apply would load, in BPF instructions (0 when
 * none would be loaded). */
int sandbox_seccomp_instructions(const struct sandbox_config *c, size_t *ret, roost_error *e);
/* Write the filter as raw BPF to FD (nothing for none). */
int sandbox_seccomp_export(const struct sandbox_config *c, int fd, roost_error *e);

struct cgroup_limits {
        uint64_t memory; /* bytes, 0 = none */
        uint64_t pids;   /* 0 = none */
        double cpus;     /* 0 = none */
};
/* A device the container may open besides the default ones (null, zero,
 * full, random, urandom, tty, ptmx and its own terminals): a device
 * volume's. */
struct cgroup_device {
        char type; /* 'c' or 'b' */
        unsigned major, minor;
};
/* The device allow-list of a root launch that is not --privileged. */
struct cgroup_devices {
        const struct cgroup_device *extra;
        size_t n_extra;
        /* The container keeps CAP_SYS_ADMIN: it may mount the cgroup file
         * system and rewrite the list of the cgroup it sits in (up to what
         * that cgroup's parent allows), so it gets a cgroup of its own
         * rather than the one containers share. */
        bool sys_admin;
};
typedef struct cgroup cgroup;

/* Parse "32M", "1g", "1048576" (bytes; k, m, g, t suffixes in 1024s) and
 * "0.5" for --cpus. -EINVAL for anything else. */
int cgroup_parse_size(const char *s, uint64_t *ret);
int cgroup_parse_cpus(const char *s, double *ret);

/* Parent side: make the container's cgroups before the child runs. With
 * limits: roost/ID below the caller's own cgroup (unified hierarchy where
 * the host has the controllers, v1 otherwise). With D (NULL: none): a
 * device cgroup whose parent holds D's allow-list, below the caller's
 * cgroup: a BPF device program on the unified hierarchy where it is
 * mounted, the v1 devices controller otherwise; the cgroup containers
 * share (roost/dev/shared, made once and kept), or, with device volumes,
 * CAP_SYS_ADMIN or v2 limits, one of the launch's own
 * (roost/ID/container, its list on roost/ID). *ret is NULL when there is
 * nothing to join. Without the right to create cgroups (rootless without
 * delegation) a limit fails with one line saying so; so does a device
 * cgroup for a container keeping CAP_SYS_ADMIN, where the host has
 * neither way or launch may not use them. Without CAP_SYS_ADMIN the
 * launch goes on without one: nodev (launch/dev.c) keeps the nodes it
 * could make from opening. */
int cgroup_create(const char *id, const struct cgroup_limits *l, const struct cgroup_devices *d, cgroup **ret,
                  roost_error *e);
/* The cgroup2 directory the child must be born in, for clone3's
 * CLONE_INTO_CGROUP, or -1: a device cgroup on the unified hierarchy is
 * joined that way, at no cost of cgroup_attach's. */
int cgroup_clone_fd(const cgroup *c);
/* clone3 failed with ENOSYS (an outer runtime's seccomp filter, as
 * docker's, refuses it so): cgroup_attach moves the child instead. */
void cgroup_clone_refused(cgroup *c);
/* After the clone, before the child runs anything: move it into the
 * cgroups it was not born in. */
int cgroup_attach(cgroup *c, pid_t pid, roost_error *e);
/* Whether cgroup_destroy has cgroups of this launch to remove: launch must
 * then wait for the container's end. */
bool cgroup_owned(const cgroup *c);
/* After the container exited: kill what is left in its own cgroups and
 * remove them (the shared device cgroup stays). */
void cgroup_destroy(cgroup *c);
/* Directory of the container's cgroup for CONTROLLER ("memory", "pids",
 * "cpu"; any for v2; "devices" for the one it joins for its allow-list),
 * or NULL if that controller is not used. */
const char *cgroup_path(const cgroup *c, const char *controller);
/* "v1" or "v2". */
const char *cgroup_version(const cgroup *c);
/* Remove the roost/ cgroups below the caller's cgroup whose processes are
 * all gone (left by a launch that was killed), and the cgroups a container
 * made below its own. Returns how many were removed. */
int cgroup_cleanup_stale(void);

/* Parent side of a rootless launch: map the caller to root inside the
 * child's new user namespace: through newuidmap/newgidmap with ids 1..N
 * from /etc/subuid and /etc/subgid where the caller has a range, else the
 * single id (writing "deny" to setgroups first, as the kernel requires). */
int userns_map(pid_t child, roost_error *e);
/* Parent side of a root launch that needs a user namespace (a tree of
 * another architecture, launch/binfmt.c): every id mapped to itself, so
 * that the tree's files keep their owners; setgroups stays allowed. */
int userns_map_identity(pid_t child, roost_error *e);
/* After userns_map: NULL when a range was mapped, else one line saying why
 * only one id was mapped and how to get a range, for the main to print. */
const char *userns_map_note(void);
/* The lowest range of COUNT ids from 100000 on, in steps of COUNT, that no
 * entry of the subordinate-id files FILES (/etc/subuid, /etc/subgid)
 * overlaps: what to suggest to usermod --add-subuids/--add-subgids. */
int userns_free_range(const char *const *files, size_t n, unsigned long count, unsigned long *ret);
/* When creating a user namespace failed with R (-EPERM, -ENOSPC, -EACCES,
 * -EINVAL), name the host setting that forbids it and how to allow it, in
 * E. Returns R. */
int userns_diagnose(int r, roost_error *e);
/* The same, reading the sysctls below the directory SYSCTL_DIRFD (which
 * stands for /proc/sys); for tests. */
int userns_diagnose_at(int sysctl_dirfd, int r, roost_error *e);
