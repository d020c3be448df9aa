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

