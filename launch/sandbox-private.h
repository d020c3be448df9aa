/* Helpers shared by the sandbox's files, not part of its public face. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include "common/error.h"

/* Read a small kernel file (procfs, sysfs, cgroupfs report a size of 0,
 * so read_file_at's size check does not fit them) below DIRFD into BUF,
 * NUL-terminated. Returns the length or -errno. */
int sandbox_read_small_at(int dirfd, const char *name, char *buf, size_t n);

/* The default filter, compiled at build time by launch/seccomp-gen into
 * launch/seccomp-default.c. */
extern const struct sock_filter sandbox_seccomp_default[];
extern const size_t sandbox_seccomp_default_len;

/* Keep at most KEEP of this process's permitted and effective
 * capabilities (never more than it holds: capset would refuse), and
 * empty its inheritable set. */
int sandbox_caps_limit(uint64_t keep, roost_error *e);
/* Keep the permitted set, make the inheritable one INH (within it). */
int sandbox_caps_inherit(uint64_t inh, roost_error *e);

struct sandbox_config;
/* Compile the filter for C with libseccomp now, never the precompiled one,
 * and write it to FD as raw BPF. */
int sandbox_seccomp_export_built(const struct sandbox_config *c, int fd, roost_error *e);

/* Tests: make the masks use mount(2) through /proc/self/fd, the path for
 * kernels without open_tree and move_mount. */
extern bool sandbox_legacy_mounts;
/* Tests: make read-only copies with open_tree and mount_setattr, as on
 * kernels without open_tree_attr (before 6.15). */
extern bool sandbox_no_open_tree_attr;

struct cgroup_devices;
/* launch/cgroup-devices.c: the allow-list (the defaults and D's devices,
 * D may be NULL) spelled "c 1:3 rwm, ..." into BUF; returns BUF. */
const char *cgroup_devices_list(const struct cgroup_devices *d, char *buf, size_t n);
/* Write it into the v1 devices cgroup DIR: devices.deny "a", then each
 * entry to devices.allow. DIR must have no child cgroup yet. */
int cgroup_devices_v1_write(const char *dir, const struct cgroup_devices *d, roost_error *e);
/* Load the list as a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it
 * to the cgroup2 directory CGFD (DIR, for messages): it then holds for
 * every cgroup below. */
int cgroup_devices_bpf_attach(int cgfd, const char *dir, const struct cgroup_devices *d, roost_error *e);
