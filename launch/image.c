/* IMAGE[:TAG] to the tree launch runs in: the reference for the
 * architecture, then its unpacked tree in the store. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "launch/image.h"

int launch_image_resolve(store *s, const char *image, const char *arch, char **ret_rootfs, roost_error *e)
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
        if (!store_tree_exists(s, ref.sha256)) {
                r = roost_error_set(e, -ROOST_ENOTFOUND,
                                    "image %s:%s is pulled but not unpacked: run unpack %s:%s", name, tag,
                                    name, tag);
                store_ref_done(&ref);
                return r;
        }
        r = store_tree_path(s, ref.sha256, ret_rootfs);
        store_ref_done(&ref);
        return r < 0 ? roost_error_set(e, r, "image %s:%s", name, tag) : 0;
}
