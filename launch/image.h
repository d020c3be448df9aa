/* Image references to stored trees, for launch's main. */
#pragma once
#include <stdbool.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

/* A stored image as launch runs it. */
struct launch_image {
        char **lowers;    /* the layers' trees, absolute, top first: overlay's lowerdir order */
        size_t n_lowers;  /* fewer than the image's layers when one hides all below it */
        int *use_fds;     /* each tree's in-use mark (store_tree_use), held until done */
        size_t n_use;
        struct store_image_config config;
        char *arch;       /* the image's platform, in Alpine's name */
        char *ref;        /* the reference it was found by, NAME:TAG */
        char *digest;     /* its manifest's hex sha256: the image's id */
};

/* IMAGE's unpacked layers and config for ARCH (NULL: the host's). IMAGE
 * means what store_ref_resolve says: a bare name is the newest stored
 * image of that name. -ROOST_ENOTFOUND when it is not stored or not
 * unpacked. */
int launch_image_resolve(store *s, const char *image, const char *arch, struct launch_image *ret,
                         roost_error *e);
void launch_image_done(struct launch_image *img);
/* After launch_image_resolve said -ROOST_ENOTFOUND for the host's
 * architecture: the one other architecture IMAGE is stored for, in
 * *RET_ARCH, or NULL when the host's is stored (only not unpacked) or no
 * other is. Several: -ROOST_EUSAGE, E saying which, for --arch to choose. */
int launch_image_other_arch(store *s, const char *image, const char **ret_arch, roost_error *e);
/* After launch_image_resolve said -ROOST_ENOTFOUND: the NAME:TAG to
 * fetch, and whether it is stored already (then only unpack is missing,
 * and nothing needs the network). */
int launch_image_missing(store *s, const char *image, const char *arch, char **ret_ref, bool *ret_stored);
/* The pull launch ran for IMAGE failed with exit STATUS: E gets one line
 * that says what to do (a mirror's copy, --offline, the images of that
 * name that are stored). Returns -ROOST_ENOTFOUND. */
int launch_image_pull_failed(store *s, const char *image, const char *arch, bool offline, int status,
                             roost_error *e);

/* What launch passes on to the pull and unpack it runs: its own options of
 * the same names (NULL, false: not given). */
struct launch_pull_options {
        const char *store, *arch, *mirror, *cacert, *retries, *timeout, *authfile;
        const char *creds; /* USER:PASS, handed over by a pipe (pull --creds-fd) */
        const char *const *trust; /* --trust KEY.asc, each passed on */
        size_t n_trust;
        bool offline, quiet, allow_unsigned, plain_http;
};
/* First use of IMAGE: pull it (unless it is stored) and unpack it, with
 * their own progress output on stderr, then resolve it as
 * launch_image_resolve does. */
int launch_image_pull(store *s, const char *image, const struct launch_pull_options *o, struct launch_image *ret,
                      roost_error *e);
