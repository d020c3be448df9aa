/* commit: a named container's writable layer becomes an image layer, and
 * the image it was made from plus that layer a new image (docs/commit.md).
 *
 * The layer writer walks an overlayfs upper directory with openat and
 * O_NOFOLLOW, in sorted order, and streams it once: tar (libarchive) ->
 * SHA-256 (the diff_id) -> gzip (zlib) -> the store's blob, which hashes
 * it for its name. overlayfs' whiteouts and opaque directories become
 * OCI's ".wh.NAME" and ".wh..wh..opq". Nothing here prints or exits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "store/store.h"

/* ---- the layer writer ---- */

struct commit_layer {
        char digest[STORE_SHA256_HEX + 1];  /* the gzip blob's: its name in the store */
        char diff_id[STORE_SHA256_HEX + 1]; /* the tar's */
        uint64_t size;                      /* the blob's bytes */
        uint64_t entries;                   /* tar entries written, markers included */
        uint64_t whiteouts, opaques;
};

/* Write the overlayfs upper directory UPPERFD as an OCI layer
 * (application/vnd.oci.image.layer.v1.tar+gzip) into the store, its
 * diff_id recorded. Never follows a symlink of the tree; the same tree
 * gives the same bytes (entries sorted, times and owners the files'). A
 * directory overlayfs redirects or a metacopy-only file (features roost's
 * overlays do not turn on) is refused: the upper alone does not hold it. */
int commit_layer_write(store *s, int upperfd, struct commit_layer *ret, roost_error *e);

/* Make the upper directory UPPERFD, whose layer commit_layer_write has
 * written, the tree unpack would make of that layer (overlayfs' form:
 * whiteouts as 0/0 devices, opaque directories marked "y"), so that it can
 * be published as the layer's tree instead of extracting the blob again:
 * overlay's bookkeeping of the container (origin, impure, uuid, ...) and
 * sockets are removed. Root's overlays only (trusted.overlay.*). */
int commit_upper_settle(int upperfd);

/* ---- a container's origin ---- */

/* What launch recorded of the image a named container was made from
 * (containers/NAME/image); all NULL for a --rootfs container. */
struct commit_origin {
        char *digest; /* hex sha256 of the image's manifest */
        char *ref;    /* NAME:TAG it was launched as */
        char *arch;
        char *rootfs; /* a --rootfs container: its lowers as recorded, ':'-joined; else NULL */
};
void commit_origin_done(struct commit_origin *o);

/* A named container's layer, taken for a commit: its lock held (no launch
 * starts on it meanwhile), its upper directory open. */
struct commit_container {
        int lock;
        int dirfd;   /* containers/NAME */
        int upperfd; /* containers/NAME/upper */
        struct commit_origin origin;
};
/* -ROOST_ENOTFOUND (no such container), -EBUSY (a launch uses it: roost
 * cannot pause one), -EINVAL (not a container name), with E filled. */
int commit_container_open(store *s, const char *name, struct commit_container *ret, roost_error *e);
void commit_container_done(struct commit_container *c);

/* Read a container's origin without taking it (roost containers). */
int commit_origin_read(int dirfd, struct commit_origin *ret);

/* ---- the image ---- */

/* One --change: "CMD ...", "ENTRYPOINT ...", "ENV K=V ...", "WORKDIR /d",
 * "USER u", "LABEL k=v ...", as a Dockerfile says them (CMD and
 * ENTRYPOINT in the JSON-array form, or else the shell form, run by
 * /bin/sh -c). Apply CHANGES in order to the config document PARENT (an
 * OCI image config, JSON), add DIFF_ID to its rootfs and a history entry
 * "roost commit" (with COMMENT when not NULL) created CREATED, and return
 * the new config with sorted keys and no whitespace in *RET. A bad change
 * is -ROOST_EUSAGE with E saying which. */
int commit_config_derive(const char *parent, char *const *changes, size_t n_changes, const char *comment,
                         const char *diff_id, int64_t created, char **ret, roost_error *e);

/* One build step's config (roost build): PARENT's, with CHANGE (as one
 * --change; NULL for none) applied, DIFF_ID added to its rootfs when not
 * NULL (else the history entry says "empty_layer"), and a history entry
 * CREATED_BY created CREATED. *CMD_SET carries docker's ENTRYPOINT rule
 * from one step to the next. */
int commit_config_step(const char *parent, const char *change, bool *cmd_set, const char *diff_id,
                       const char *created_by, int64_t created, char **ret, roost_error *e);

struct commit_options {
        char *const *changes; /* --change, in order */
        size_t n_changes;
        const char *message;  /* -m */
        int64_t created;      /* 0: now */
};

/* The image ORIGIN (a stored manifest) with LAYER on top, configured as
 * its parent with O's changes: its config and manifest stored, and the
 * reference NAME:TAG written for ORIGIN's architecture. *RET_DIGEST: the
 * new manifest's hex. -ROOST_ENOTFOUND when the parent is no longer
 * stored. */
int commit_image(store *s, const struct commit_origin *origin, const struct commit_layer *layer,
                 const struct commit_options *o, const char *name, const char *tag,
                 char ret_digest[STORE_SHA256_HEX + 1], roost_error *e);

/* Bytes a directory tree uses (st_blocks), walked without following
 * symlinks; what cannot be read is left out. */
uint64_t commit_tree_usage(int dirfd);

/* ---- the Dockerfile subset (roost build; commit/dockerfile.c) ---- */

enum dockerfile_kind {
        DF_FROM,
        DF_RUN,
        DF_COPY,
        DF_ENV,
        DF_ARG,
        DF_WORKDIR,
        DF_USER,
        DF_CMD,
        DF_ENTRYPOINT,
        DF_LABEL,
};
const char *dockerfile_kind_name(enum dockerfile_kind k);

struct dockerfile_step {
        enum dockerfile_kind kind;
        unsigned line; /* where it starts, from 1 */
        char *text;    /* "RUN echo hi": the instruction, continuations joined */
        char *args;    /* what follows the keyword and flags, trimmed */
        char **argv;   /* RUN, CMD, ENTRYPOINT: the exec form's array, else NULL;
                        * COPY: its sources then its destination */
        char *chown;   /* COPY --chown=, else NULL */
};
struct dockerfile {
        struct dockerfile_step *steps;
        size_t n;
};
/* Read TEXT: comments, empty lines and '\' continuations; FROM (once,
 * first, but for ARGs), RUN, COPY [--chown=U:G], ENV, ARG, WORKDIR, USER,
 * CMD, ENTRYPOINT, LABEL. Anything else is -ROOST_EUSAGE with E saying
 * "line N: " and the instruction's name. */
int dockerfile_parse(const char *text, struct dockerfile *ret, roost_error *e);
void dockerfile_done(struct dockerfile *df);
/* IN with $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word} replaced from
 * VARS ("K=V", the last of a name winning; an unset one is empty), not
 * within single quotes; \$ is a '$'. -EINVAL for a malformed ${...}. */
int dockerfile_expand(const char *in, char *const *vars, size_t n_vars, char **ret);

/* A .dockerignore: patterns in order, "!" ones keeping again what an
 * earlier one excluded. */
struct dockerignore {
        char **patterns;
        bool *exclude;
        size_t n;
        bool any_keep; /* some "!" pattern: an excluded directory is still walked */
};
int dockerignore_parse(const char *text, struct dockerignore *ret);
void dockerignore_done(struct dockerignore *di);
/* Whether PATH (relative to the context, '/'-separated) is left out. */
bool dockerignore_excluded(const struct dockerignore *di, const char *path);

/* ---- roost build (commit/build.c) ---- */

struct build_step_report {
        size_t index, total; /* from 0, of TOTAL */
        const char *text;    /* the instruction with its variables expanded */
        bool cached;         /* the image is the build cache's */
};

struct build_options {
        int ctxfd;                /* the build context, DIR */
        const char *dockerignore; /* its .dockerignore's text, or NULL */
        char *const *build_args;  /* --build-arg K=V */
        size_t n_build_args;
        bool no_cache;   /* neither read the cache nor trust it (it is still written) */
        bool net_none;   /* RUN with a private network (default: the host's, as docker build) */
        const char *arch;        /* NULL: the host's */
        const char *launch;      /* the launch binary RUN runs */
        const char *store_root;  /* passed to launch --store */
        int out_fd;              /* RUN's standard output */
        int64_t created;         /* 0: now */
        size_t total;            /* steps, for the report */
        /* Called as each step starts, once it is known to be cached or not. */
        void (*step)(void *userdata, const struct build_step_report *r);
        /* FROM an image not stored: pull (and unpack) it. */
        int (*pull)(void *userdata, const char *image, roost_error *e);
        /* A layer (blob hex) whose tree is missing: unpack it. */
        int (*unpack)(void *userdata, const char *layer, roost_error *e);
        void *userdata;
};

/* Build DF in S, as O says, and name the result NAME:TAG. 0 with
 * RET_DIGEST (the image's manifest hex); a RUN that failed is its exit
 * status (1..255: launch's own failures are 125..127), E saying which
 * line, and no reference is written; negative on any other failure. Each
 * step's image is in the build cache (store_cache_write) under the SHA-256
 * of its parent image, its instruction with variables expanded, the ARG
 * values in effect and, for COPY, its sources' names, modes, contents and
 * --chown. RUN runs O->launch with --name, the parent's layers as
 * --rootfs, the config's Env (and ARGs), WorkingDir and User; its
 * container is removed whatever happens. */
int build_run(store *s, const struct dockerfile *df, const struct build_options *o, const char *name,
              const char *tag, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e);
