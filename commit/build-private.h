/* Shared by roost build's files (commit/build.c, the steps; commit/copy.c,
 * COPY and the image's files read through its layers). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "commit/commit.h"
#include "common/util.h"

static inline void strv_freep(char ***v)
{
        strv_free(*v);
}

struct build {
        store *s;
        const struct build_options *o;
        roost_error *e;
        char arch[32];
        char digest[STORE_SHA256_HEX + 1]; /* the current image */
        char *config;                      /* its config document */
        struct store_ref img;              /* its layers */
        char **args;                       /* ARG values in effect, "K=V" */
        size_t n_args;
        bool cmd_set;
        struct dockerignore ignore;
        size_t index;     /* the step being made */
        const char *text; /* as it reads, expanded */
};

/* The step's line, once whether it is cached is known, before its work. */
void build_announce(struct build *b, bool cached);
int64_t build_now(const struct build *b);
/* The config's "config" member's string KEY, or NULL (a copy). */
char *build_config_string(const struct build *b, const char *key);
/* The step's cache key (the parent, TEXT, the ARGs in effect, EXTRA). */
int build_step_key(const struct build *b, const char *text, const char *extra,
                   char ret[STORE_SHA256_HEX + 1]);
/* 1 and the build moved to the recorded image, or 0: no hit. */
int build_cache_try(struct build *b, const char *key);
/* LAYER's tree: the upper directory NAME below PARENTFD (open as UPPERFD)
 * it was written from, moved into the store; else the blob unpacked. */
int build_layer_tree(struct build *b, const struct commit_layer *layer, int parentfd, const char *name,
                     int upperfd);
/* The image of CONFIG, the current layers and LAYER (may be NULL) on top,
 * made the current one and recorded under KEY. */
int build_step_image(struct build *b, const char *config, const struct commit_layer *layer, const char *key);

/* The image's files through its layers' trees (commit/image-files.c). */
struct layers {
        int *fds; /* top first */
        size_t n;
};
int build_layers_open(struct build *b, struct layers *ret);
void build_layers_close(struct layers *l);
/* PATH ("a/b", relative, no symlink among its directories: the caller
 * resolved them) as the image shows it: the topmost layer's entry, an
 * overlay whiteout hiding it. 0 with *ST and *RET_FD (the layer's fd, not
 * owned), -ENOENT when it is not there. */
int build_image_lookup(const struct layers *l, const char *path, struct stat *st, int *ret_fd);
/* DEST (absolute, or relative to WORKDIR) resolved as the image would,
 * into *RET: "a/b/c", relative to the image's root ("" for the root). */
int build_image_resolve(const struct layers *l, const char *workdir, const char *dest, char **ret);
/* NAME's numeric id in the image's /etc/passwd or /etc/group (FILE), or a
 * number as it is. */
int build_image_id(const struct layers *l, const char *file, const char *name, unsigned *ret);

/* COPY (commit/copy.c). */
int build_step_copy(struct build *b, const struct dockerfile_step *st, char *const *vars, size_t n_vars,
                    const char *text);
