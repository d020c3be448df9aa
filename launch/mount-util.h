/* Mount helpers shared by launch/mount.c and launch/dev.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

struct fs_opt {
        const char *key, *value; /* value NULL: a flag */
};

/* A new detached mount of TYPE with OPTS and MOUNT_ATTR_* ATTRS. */
int fs_mount(const char *type, const struct fs_opt *opts, size_t n, unsigned attrs, int *ret, roost_error *e);
/* A detached copy of the mount at DIRFD/PATH ("" for DIRFD itself). */
int bind_tree(int dirfd, const char *path, bool recursive, uint64_t attrs, int *ret, roost_error *e);
/* Set MOUNT_ATTR_* ATTRS (none: nothing) on the detached MFD; WHAT names
 * it in the error. */
int mount_set_attrs(int mfd, bool recursive, uint64_t attrs, const char *what, roost_error *e);
/* Whether this kernel sets flags on binds (mount_setattr, Linux 5.12):
 * asked once, with arguments it refuses. A policy that denies calls it
 * does not know answers EPERM, which is a no as well. */
bool mount_have_setattr(void);
/* Attach MFD at PATH inside ROOTFD, creating the mount point. */
int attach_at(int mfd, int rootfd, const char *path, bool dir, roost_error *e);
/* Refuse a top-level mount point NAME of the tree that is not a directory. */
int check_top_dir(int rootfd, const char *name, roost_error *e);
