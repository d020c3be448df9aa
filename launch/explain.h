/* launch --explain: one line on the caller's stderr for each step a launch
 * takes, naming the system call, its arguments and why. Off by default and
 * then free: every call site tests explaining() before it formats anything,
 * so the default path makes no extra system call. The lines go to a
 * close-on-exec copy of the caller's stderr taken at start-up, which the
 * container's processes inherit and lose at the command's execve: they
 * reach the caller even when the command's stderr is a terminal of ours. */
#pragma once
#include <stddef.h>
#include <stdint.h>

extern int explain_fd; /* -1: off */

#define explaining() __builtin_expect(explain_fd >= 0, 0)
#define EXPLAIN(...)                                                                                         \
        do {                                                                                                 \
                if (explaining())                                                                            \
                        explain_line(__VA_ARGS__);                                                           \
        } while (0)

/* Start explaining on a close-on-exec copy of FD. */
int explain_start(int fd);
/* "explain: " + the line + "\n", in one write. */
void explain_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flag words spelled by name ("CLONE_NEWNS|CLONE_NEWPID"); unknown bits in
 * hex. BUF of at least EXPLAIN_FLAGS_MAX bytes; returns BUF. */
enum { EXPLAIN_FLAGS_MAX = 512 };
const char *explain_clone_flags(char *buf, uint64_t flags);
const char *explain_mount_attrs(char *buf, uint64_t attrs);
const char *explain_ms_flags(char *buf, uint64_t flags);

/* One line for a mount made with the new mount API: a new file system of
 * TYPE with OPTS ("mode=0755,size=64k" or NULL), or (explain_bind) a copy
 * of the mount at SOURCE, given ATTRS and attached at TARGET. */
void explain_fs(const char *type, const char *opts, uint64_t attrs, const char *target, const char *why);
void explain_bind(const char *source, int recursive, uint64_t attrs, const char *target, const char *why);
