/* Small helpers shared by every stage: cleanup attributes, fd-relative
 * file system operations and hex encoding. Nothing here logs or exits. */
#pragma once

#include <dirent.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void freep(void *p)
{
        free(*(void **)p);
}
static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* FUNCp, the cleanup function for a variable of pointer type TYPE that
 * FUNC releases, which leaves NULL alone (systemd's). Each resource type's
 * is defined once, beside its type: _cleanup_store_ in store/store.h. A
 * variable with one is initialised where it is declared, and no goto
 * jumps past its declaration to a label in its scope. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                              \
        static inline void func##p(type *p)                                                                  \
        {                                                                                                    \
                if (*p)                                                                                      \
                        func(*p);                                                                            \
        }

/* Hand ownership on: returns the value and clears the variable so that the
 * cleanup attribute no longer releases it. */
#define TAKE_PTR(p)                                                                                          \
        ({                                                                                                   \
                __typeof__(p) _p_ = (p);                                                                     \
                (p) = NULL;                                                                                  \
                _p_;                                                                                         \
        })
#define TAKE_FD(fd)                                                                                          \
        ({                                                                                                   \
                int _fd_ = (fd);                                                                             \
                (fd) = -1;                                                                                   \
                _fd_;                                                                                        \
        })
/* The same for a structure whose cleanup releases its members
 * (_cleanup_store_ref_): returns it and leaves the variable zeroed. */
#define TAKE_STRUCT(s)                                                                                       \
        ({                                                                                                   \
                __typeof__(s) _s_ = (s);                                                                     \
                memset(&(s), 0, sizeof(s));                                                                  \
                _s_;                                                                                         \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* posix_spawn attributes for a helper process: no signal blocked and every
 * disposition the default, whatever the caller blocks or catches (launch
 * blocks the signals it relays; a helper stuck on a directory service must
 * still die of ^C). Destroy with posix_spawnattr_destroy. */
int spawn_attr_clean(posix_spawnattr_t *attr);

/* Reap PID, over EINTR: 1 when it exited with status 0, 0 when it exited
 * otherwise or was killed, -errno when it could not be waited for. */
int wait_exited_ok(pid_t pid);

/* Where the sibling tool NAME is: beside this program (installed), else in
 * STAGE's folder of a build tree. PATH is never searched: an unrelated
 * program called "pull" must never run in roost's place. 0 with BUF the
 * tool's path; -ENOENT with BUF this program's folder, for a message;
 * another -errno when this program cannot be found. */
int sibling_tool(const char *name, const char *stage, char *buf, size_t n);
/* Run PATH ARGV with its standard output on our standard error (a tool's
 * progress, where ours is a container's or --json's), and return its exit
 * status, 128+N when signal N killed it; FAIL_STATUS when it could not be
 * started (said in one line), -errno when it could not be waited for. */
int run_tool_on_stderr(const char *path, char **argv, int fail_status);

/* A pipe holding SECRET (at most a pipe's buffer; a password, USER:PASS)
 * and then its end: the read end, which a child inherits (no
 * FD_CLOEXEC) to read the secret from (pull --creds-fd N), so that it is
 * never in a command line. The caller closes it once the child ran. */
int secret_pipe(const char *secret);
/* How a child pull reaches a registry as its caller would. */
struct pull_access {
        const char *creds; /* USER:PASS, or NULL */
        const char *authfile, *cacert;
        bool plain_http;
};
/* Append A's options for pull to ARGV at *N (at most 7 entries). The
 * credentials go through a secret_pipe, never the command line ps shows:
 * --creds-fd with its number in FDTEXT, the fd in *CREDS_FD (-1 without
 * credentials), which the caller closes once pull ran. 0, or a negative
 * errno when the pipe could not be made. */
int pull_access_args(const struct pull_access *a, char **argv, size_t *n, char fdtext[16], int *creds_fd);
/* A copy of the command-line argument ARG (USER:PASS), whose part after
 * the first ':' is then overwritten with '*' in place, so that ps and
 * /proc/PID/cmdline show the password only until it was read. NULL when
 * out of memory. */
char *secret_take_arg(char *arg);
/* Wipe and free *S, the whole block malloc gave it, not only up to its
 * NUL (a _cleanup_ for secrets). */
void secret_freep(char **s);
/* free() that wipes the whole block first (malloc_usable_size): for
 * buffers whose length is not at hand, and as the free of the libraries
 * that copy credentials and free the copies as they are (libcurl's
 * headers and buffers, jansson's strings). P may be NULL. */
void secret_free(void *p);
/* realloc() that never leaves the old block behind unwiped: a block that
 * must grow moves to a new one, and the old is wiped and freed. */
void *secret_realloc(void *p, size_t n);
/* A + B + C in one block of their exact size, or NULL: "USER:PASS",
 * "Authorization: Basic ...". asprintf() would leave copies behind (glibc
 * formats into a first buffer and frees it unwiped). */
char *secret_concat(const char *a, const char *b, const char *c);
/* Read all of FD (up to MAX bytes: -E2BIG past that) into *RET, without
 * one trailing newline (and a CR before it); -EINVAL for a NUL or a line
 * break inside. The caller wipes and frees it. */
int secret_read(int fd, size_t max, char **ret);

/* Remove NAME below DIRFD and everything beneath it without following
 * symlinks and without crossing into other mounts. Missing is success. */
int rm_rf_at(int dirfd, const char *name);
/* Free a NULL-terminated array of strings and the strings. */
void strv_free(char **v);

/* Open directory NAME below DIRFD for readdir without following a symlink
 * at its last component; 0 or -errno. */
int opendir_at(int dirfd, const char *name, DIR **ret);

/* mkdir that treats an existing directory as success. */
int mkdir_at_p(int dirfd, const char *name, mode_t mode);

/* fsync a directory so that renames into it survive a crash. */
int fsync_dirfd(int dirfd);

/* Write all of BUF or fail with -errno. */
int write_all(int fd, const void *buf, size_t n);

/* Read a whole small file below DIRFD (refusing anything over MAX bytes),
 * NUL-terminated. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);

/* Atomically replace NAME below DIRFD with DATA: temporary file, fsync,
 * rename, fsync of the directory. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t n, mode_t mode);

void hex_encode(const unsigned char *in, size_t n, char *out);

/* Random suffix for temporary names. */
int random_suffix(char *buf, size_t n);

/* true for a lowercase hexadecimal string of exactly LEN characters. */
bool is_hex(const char *s, size_t len);

/* The host's architecture under Alpine's name (x86_64, aarch64, armv7,
 * armhf, x86, ppc64le, s390x, riscv64, loongarch64); NULL when Alpine
 * builds none for it. */
const char *host_alpine_arch(void);
/* An architecture as launch --arch or --platform takes it, Alpine's name
 * (aarch64, armv7, x86, ...) or an OCI platform (linux/arm64,
 * linux/arm/v7, linux/386, ...), under Alpine's name; NULL when it is
 * neither. */
const char *alpine_arch_from(const char *spelling);
/* Alpine's architecture names, one for each I from 0 until NULL. */
const char *alpine_arch_nth(size_t i);
