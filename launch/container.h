/* The store's side of a named container (--name), taken by launch's tool
 * before launch_run, which itself knows no store: the layer's lock, the
 * record of the lowers it was made over, and its upper and work paths. */
#pragma once
#include <stddef.h>
#include "common/error.h"
#include "launch/image.h"
#include "store/store.h"

struct launch_container {
        int lock;    /* containers/NAME/lock, held until launch_container_done */
        char *upper; /* for launch_config.upper and .work */
        char *work;
};

/* Lock the layer of container NAME in S and check that it was made over
 * LOWERS (top first, resolved here), recording them when it is new: a
 * layer only makes sense over the stack it was made on, as a docker
 * container keeps its image. IMAGE (NULL for --rootfs) is recorded too,
 * when nothing is yet, for roost commit: "image" holds the lines
 *   digest sha256:<hex of its manifest>
 *   reference NAME:TAG
 *   arch <Alpine's arch name>
 * The lock file's modification time says when the layer was last used.
 * -EBUSY (another launch uses it), -EEXIST (made over other lowers) or
 * -EROFS (a read-only store), with E filled. */
int launch_container_open(store *s, const char *name, const char *const *lowers, size_t n_lowers,
                          const struct launch_image *image, struct launch_container *ret, roost_error *e);
void launch_container_done(struct launch_container *c);
