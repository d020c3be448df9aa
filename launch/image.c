/* IMAGE[:TAG] to the tree launch runs in: the reference for the
 * architecture, then its unpacked tree in the store. */
#include "config.h"
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "launch/image.h"

int launch_image_resolve(store *s, const char *image, const char *arch, char **ret_rootfs, int *ret_use_fd,
                         roost_error *e)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        struct store_ref ref = { 0 };
        int r;

        if ((r = store_ref_parse(image, "latest-stable", &name, &tag)) < 0)
                return roost_error_set(e, 0, "image '%s': not a valid NAME[:TAG]", image), -ROOST_EUSAGE;
        if (!arch)
                arch = host_alpine_arch();
        r = store_ref_read(s, name, tag, arch, &ref);
        if (r == -ENOENT || r == -ROOST_ENOTFOUND)
                return roost_error_set(e, -ROOST_ENOTFOUND,
                                       "image %s:%s (%s) is not in the store: pull it first", name, tag,
                                       arch);
        if (r < 0)
                return roost_error_set(e, r, "reading the reference %s:%s", name, tag);
        /* Marked in use before it is checked, so that rm and gc leave it
         * alone for as long as the container runs. */
        int use = store_tree_use(s, ref.sha256);
        if (use < 0) {
                r = roost_error_set(e, use, "marking %s:%s in use", name, tag);
                store_ref_done(&ref);
                return r;
        }
        if (!store_tree_exists(s, ref.sha256)) {
                close(use);
                r = roost_error_set(e, -ROOST_ENOTFOUND,
                                    "image %s:%s is pulled but not unpacked: run unpack %s:%s", name, tag,
                                    name, tag);
                store_ref_done(&ref);
                return r;
        }
        r = store_tree_path(s, ref.sha256, ret_rootfs);
        store_ref_done(&ref);
        if (r < 0)
                close(use);
        else
                *ret_use_fd = use;
        return r < 0 ? roost_error_set(e, r, "image %s:%s", name, tag) : 0;
}
