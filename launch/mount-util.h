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
/* Attach MFD at PATH inside ROOTFD, creating the mount point. */
int attach_at(int mfd, int rootfd, const char *path, bool dir, roost_error *e);
/* Refuse a top-level mount point NAME of the tree that is not a directory. */
int check_top_dir(int rootfd, const char *name, roost_error *e);
