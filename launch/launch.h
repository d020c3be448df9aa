/* The launch runtime: run one command in a directory tree, inside its own
 * mount, PID, UTS, IPC, cgroup (and network, user, time) namespaces, with
 * pivot_root, a fresh /proc, a small /dev, an overlay so that the tree is
 * never written, and a small init of ours as PID 1. docs/launch.md tells
 * the story; launch/run.c is the straight line. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/error.h"
#include "launch/sandbox.h"

/* Exit codes of launch's own failures, as docker's: the command's status
 * is passed through otherwise. */
enum {
        LAUNCH_EXIT_ERROR = 125,      /* launch itself failed */
        LAUNCH_EXIT_CANNOT_RUN = 126, /* command found but not executable */
        LAUNCH_EXIT_NOT_FOUND = 127,  /* command not found */
};

enum launch_net {
        LAUNCH_NET_NONE, /* private network namespace, loopback up */
        LAUNCH_NET_HOST, /* the host's network namespace */
};

enum launch_overlay {
        LAUNCH_OVERLAY_DISCARD,   /* writable layer in the scratch tmpfs, gone with it */
        LAUNCH_OVERLAY_NAMED,     /* writable layer kept in the caller's upper and work */
        LAUNCH_OVERLAY_READ_ONLY, /* no writable layer: the lowers, read-only */
};

/* -u NAME[:GROUP] or UID[:GID] as given. Names are resolved in the
 * container through the image's own /etc/passwd and /etc/group, never the
 * host's (launch/user.c). The zero value is root. */
enum { LAUNCH_USER_NAME_MAX = 64 };
struct launch_user {
        char name[LAUNCH_USER_NAME_MAX + 1];  /* "": the user is UID */
        char group[LAUNCH_USER_NAME_MAX + 1]; /* "": the group is GID, or the user's */
        uid_t uid;
        gid_t gid;
        bool has_group; /* GROUP or GID given */
};

struct launch_volume {
        char *host;      /* absolute, as given (resolved when opened) */
        char *container; /* absolute, normalised, no ".." */
        bool read_only;
};

struct launch_config {
        /* The tree to run in, as overlayfs's lower layers, top first (an
         * image's layers, or the --rootfs directories): a file of an upper
         * one hides the same path below it. At least one; none is ever
         * written. */
        const char *const *lowers;
        size_t n_lowers;
        /* Its architecture, Alpine's name; NULL: what its /bin/sh is built
         * for. Another than the host's runs through qemu-user (binfmt.c). */
        const char *arch;
        char *const *argv;  /* the command; argv[0] searched in PATH of env */
        char *const *env;   /* the command's whole environment */
        const char *cwd;    /* NULL: /; made when the image lacks it */
        struct launch_user user;
        const char *hostname;
        const char *name; /* LAUNCH_OVERLAY_NAMED: the container's name */
        const struct launch_volume *volumes;
        size_t n_volumes;
        enum launch_net net;
        enum launch_overlay overlay;
        bool chroot_only; /* --chroot: plain chroot, escapable by root */
        bool tty;         /* give the command a pseudo-terminal, relayed */
        struct sandbox_config sandbox;
        struct cgroup_limits limits;
        /* Bound of the tmpfs holding the discarded writable layer and
         * launch's /etc files, in bytes, with one inode per 16 KiB of it.
         * 0: launch_layer_size_default(). */
        uint64_t layer_size;
        /* An existing directory that the container's mount namespace (and
         * only it) covers with the scratch tmpfs (the store's tmp/): the
         * root's mount point, the discarded layer, launch's /etc files. No
         * lower may be inside it. */
        const char *scratch;
        /* LAUNCH_OVERLAY_NAMED: the kept layer's upper and work directories
         * (each made when missing, the upper with the top lower's owner
         * and mode). The caller holds the layer's lock for the whole
         * launch_run, and has checked that the layer was made over these
         * lowers (launch/container.h). */
        const char *upper, *work;
        /* Called (from the container's side too) for notes worth a line on
         * stderr, such as the pivot_root fallback; may be NULL. */
        void (*notice)(const char *msg);
        /* Whether the one-time note NAME is still to be given (the rootless
         * id map's): true the first time only. NULL: every time. */
        bool (*note_once)(const char *name);
};

/* What an image says of how it is run (its OCI config's Env, Entrypoint,
 * Cmd, WorkingDir, User). Every field may be NULL (or "" for the strings):
 * ENV is NULL-terminated "KEY=VALUE", ENTRYPOINT and CMD NULL-terminated
 * argv lists. */
struct launch_image_config {
        char *const *env;
        char *const *entrypoint;
        char *const *cmd;
        const char *workdir;
        const char *user;
};

/* What launch's command line says of the same, and launch's own defaults. */
struct launch_command_options {
        char *const *args;      /* after the image, NULL-terminated; NULL or empty: none */
        const char *entrypoint; /* --entrypoint: NULL not given, "" clears the image's */
        char *const *env;       /* --env-file's then -e's KEY=VALUE, in order: the last wins */
        const char *workdir;    /* -w, absolute; NULL: the image's */
        const char *user;       /* -u as given; NULL: the image's */
        const char *hostname;   /* HOSTNAME's value */
        const char *term;       /* TERM's value, with -t; NULL: no TERM */
};

/* What runs: the command line, the whole environment, the working
 * directory (NULL: /) and the user spec for launch_user_parse (NULL: root). */
struct launch_command {
        char **argv; /* NULL-terminated; its strings are the inputs' own */
        char **env;  /* NULL-terminated, owned */
        size_t n_env;
        const char *cwd;
        const char *user;
};

/* docker's precedence, as a pure function: the arguments after the image
 * replace Cmd; --entrypoint replaces Entrypoint (one word, never split)
 * and drops Cmd, so that only the arguments follow it; the command is
 * Entrypoint + (arguments or Cmd). The environment starts from the
 * image's Env; launch's defaults (PATH when the image sets none,
 * container=roost, HOSTNAME, TERM with -t) override it, then O->env.
 * -w overrides WorkingDir, -u User. No command at all, an empty command
 * name or a WorkingDir that is not absolute is -ROOST_EUSAGE with E filled;
 * -ENOMEM. RET is launch_command_done's to free. */
int launch_command_resolve(const struct launch_image_config *img, const struct launch_command_options *o,
                           struct launch_command *ret, roost_error *e);
void launch_command_done(struct launch_command *c);
/* Set KV ("KEY=VALUE") in the NULL-terminated *ENV of *N entries: it
 * replaces the entry of that KEY, else is appended. A copy is kept. */
int launch_env_set(char ***env, size_t *n, const char *kv);
/* -e's "KEY=VALUE", or "KEY" alone: our own value passed on, or nothing
 * when we have none (docker's habit). -EINVAL for an empty KEY. */
int launch_env_add(char ***env, size_t *n, const char *s);
/* docker's --env-file PATH (launch/env-file.c): one KEY=VALUE or KEY a
 * line, the value verbatim to the line's end, lines starting with '#' and
 * blank ones skipped, each added as launch_env_add does. A line of at most
 * 128 KiB, a file of at most 4 MiB. -ROOST_EUSAGE (E naming the line) for
 * a malformed line, -errno when the file cannot be read. */
int launch_env_file_read(const char *path, char ***env, size_t *n, roost_error *e);

/* Run C. On success (the command ran, whatever it returned) returns 0 and
 * sets *ret_status to the exit code launch should exit with: the command's
 * status, or 128+N when it was killed by signal N. On failure returns a
 * negative error, fills E, and sets *ret_status to 125, 126 or 127. */
int launch_run(const struct launch_config *c, int *ret_status, roost_error *e);

/* The discarded layer is held in memory: without a size a tmpfs may grow
 * to half of RAM, for each container, charged to no cgroup. Its bound when
 * none is given: 1 GiB, or a quarter of RAM when that is less. */
uint64_t launch_layer_size_default(void);
/* --layer-size: "512m", "2g", bytes (k, m, g, t in 1024s), at least 1 MiB.
 * -EINVAL for anything else. */
int launch_layer_size_parse(const char *s, uint64_t *ret);

/* "NAME[:GROUP]" or "UID[:GID]" (or a mix) into U. -ROOST_EUSAGE with E
 * filled when it is malformed; whether the names exist is for the image's
 * files to say, in the container. */
int launch_user_parse(const char *spec, struct launch_user *u, roost_error *e);

/* "HOST:CONTAINER[:ro|:rw]" into V. -ROOST_EUSAGE with E filled when the
 * spec is malformed; the host path is not checked here. */
int launch_volume_parse(const char *spec, struct launch_volume *v, roost_error *e);
void launch_volume_done(struct launch_volume *v);
