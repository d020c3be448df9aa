/* Helpers shared by the sandbox's files, not part of its public face. */
#pragma once
#include <stddef.h>

/* Read a small kernel file (procfs, sysfs, cgroupfs report a size of 0,
 * so read_file_at's size check does not fit them) below DIRFD into BUF,
 * NUL-terminated. Returns the length or -errno. */
int sandbox_read_small_at(int dirfd, const char *name, char *buf, size_t n);
