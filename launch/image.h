/* Image references to stored trees, for launch's main. */
#pragma once
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

/* The absolute path of IMAGE's unpacked tree for ARCH (NULL: the host's). */
int launch_image_resolve(store *s, const char *image, const char *arch, char **ret_rootfs, int *ret_use_fd,
                         roost_error *e);
