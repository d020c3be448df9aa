/* IMAGE[:TAG] to the tree launch runs in: the stored reference it means
 * for the architecture (store_ref_resolve: a bare name is the newest
 * image of that name already stored, so that a launch after a pull works
 * offline), then its layers' unpacked trees and its config. */
#include "config.h"
#include <unistd.h>
#include <sys/xattr.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "launch/image.h"

/* Whether the layer tree at PATH hides everything below it: its root is
 * an opaque directory (".wh..wh..opq" at the top of the layer). overlayfs
 * honours opaque only below a layer's root, so the stack must end there. */
static bool tree_root_opaque(const char *path)
{
        char v[2];
        return (getxattr(path, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y') ||
               (getxattr(path, "user.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
}

/* Each layer's tree, top first, each marked in use before it is checked,
 * so that rm and gc leave it alone for as long as the container runs. */
static int image_trees(store *s, const struct store_ref *ref, struct launch_image *img, roost_error *e)
{
        size_t n = ref->n_layers;
        if (!(img->lowers = calloc(n + 1, sizeof(char *))) || !(img->use_fds = calloc(n, sizeof(int))))
                return roost_error_set(e, -ENOMEM, "image %s:%s", ref->name, ref->tag);
        for (size_t k = n; k-- > 0;) {
                const char *layer = ref->layers[k].digest;
                int use = store_tree_use(s, layer);
                if (use < 0)
                        return roost_error_set(e, use, "marking %s:%s in use", ref->name, ref->tag);
                img->use_fds[img->n_use++] = use;
                if (!store_tree_exists(s, layer))
                        return roost_error_set(e, -ROOST_ENOTFOUND,
                                               "image %s:%s is pulled but not unpacked: run unpack %s:%s",
                                               ref->name, ref->tag, ref->name, ref->tag);
                int r = store_tree_path(s, layer, &img->lowers[img->n_lowers]);
                if (r < 0)
                        return roost_error_set(e, r, "image %s:%s", ref->name, ref->tag);
                if (tree_root_opaque(img->lowers[img->n_lowers++]))
                        break;
        }
        return 0;
}

int launch_image_resolve(store *s, const char *image, const char *arch, struct launch_image *ret, roost_error *e)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        struct store_ref ref = { 0 };
        struct launch_image img = { 0 };
        int r;

        if ((r = store_ref_parse(image, NULL, &name, &tag)) < 0)
                return roost_error_set(e, 0, "image '%s': not a valid NAME[:TAG]", image), -ROOST_EUSAGE;
        if (!arch)
                arch = host_alpine_arch();
        r = store_ref_resolve(s, name, tag, arch, &ref);
        if (r == -ENOENT || r == -ROOST_ENOTFOUND)
                return roost_error_set(e, -ROOST_ENOTFOUND,
                                       "image %s (%s) is not in the store: pull it first", image, arch);
        if (r < 0)
                return roost_error_set(e, r, "reading the reference %s", image);
        if (ref.n_layers == 0)
                r = roost_error_set(e, -ROOST_EUSAGE, "image %s:%s has no layers: nothing to run", ref.name,
                                    ref.tag);
        else if ((r = image_trees(s, &ref, &img, e)) >= 0 &&
                 (r = store_image_config_read(s, ref.config, &img.config)) < 0)
                roost_error_set(e, r, "image %s:%s: reading its config", ref.name, ref.tag);
        if (r >= 0 && (!(img.arch = strdup(ref.arch)) || !(img.digest = strdup(ref.digest)) ||
                       asprintf(&img.ref, "%s:%s", ref.name, ref.tag) < 0))
                r = roost_error_set(e, -ENOMEM, "image %s:%s", ref.name, ref.tag);
        store_ref_done(&ref);
        if (r < 0) {
                launch_image_done(&img);
                return r;
        }
        *ret = img;
        return 0;
}

void launch_image_done(struct launch_image *img)
{
        for (size_t k = 0; k < img->n_lowers; k++)
                free(img->lowers[k]);
        free(img->lowers);
        for (size_t k = 0; k < img->n_use; k++)
                close(img->use_fds[k]);
        free(img->use_fds);
        store_image_config_done(&img->config);
        free(img->arch);
        free(img->ref);
        free(img->digest);
        memset(img, 0, sizeof(*img));
}

int launch_image_missing(store *s, const char *image, const char *arch, char **ret_ref, bool *ret_stored)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        struct store_ref ref = { 0 };
        int r = store_ref_parse(image, NULL, &name, &tag);
        if (r < 0)
                return r;
        if (!arch)
                arch = host_alpine_arch();
        r = store_ref_resolve(s, name, tag, arch, &ref);
        if (r < 0 && r != -ROOST_ENOTFOUND)
                return r;
        *ret_stored = r == 0;
        /* Stored: unpacking it is all that is missing, and naming its own
         * tag keeps pull (were it run) off the network. Not stored: a bare
         * name is what the mirror calls latest. */
        r = r == 0 ? asprintf(ret_ref, "%s:%s", ref.name, ref.tag)
                   : asprintf(ret_ref, "%s:%s", name,
                              tag                           ? tag
                              : store_ref_name_remote(name) ? "latest" /* a registry's, as docker's */
                                                            : "latest-stable");
        store_ref_done(&ref);
        return r < 0 ? -ENOMEM : 0;
}

int launch_image_other_arch(store *s, const char *image, const char **ret_arch, roost_error *e)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        struct store_ref ref = { 0 };
        const char *host = host_alpine_arch(), *found[16], *a;
        char list[256] = "";
        size_t n = 0, len = 0;

        *ret_arch = NULL;
        if (store_ref_parse(image, NULL, &name, &tag) < 0)
                return 0;
        if (host && store_ref_resolve(s, name, tag, host, &ref) == 0) {
                store_ref_done(&ref);
                return 0;
        }
        /* Only on the way to a pull: the few lookups cost nothing then. */
        for (size_t i = 0; (a = alpine_arch_nth(i)) && n < ELEMENTSOF(found); i++) {
                if ((host && !strcmp(a, host)) || store_ref_resolve(s, name, tag, a, &ref) < 0)
                        continue;
                store_ref_done(&ref);
                found[n++] = a;
                int k = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", a);
                if (k > 0 && (size_t)k < sizeof(list) - len)
                        len += (size_t)k;
        }
        if (n == 1)
                *ret_arch = found[0];
        if (n > 1) {
                roost_error_set(e, 0,
                                "%s is not stored for this host's %s, but for %s: choose one with --arch "
                                "(--arch %s pulls the host's)",
                                image, host ? host : "architecture", list, host ? host : "ARCH");
                return -ROOST_EUSAGE;
        }
        return 0;
}

/* "alpine:3.20 (3.20.3), alpine:edge (20250108)": what the store holds
 * of NAME for ARCH, newest first. Returns how many. */
static size_t list_stored(store *s, const char *name, const char *arch, char *buf, size_t size)
{
        struct store_ref *refs;
        size_t n, len = 0;
        buf[0] = 0;
        if (!name || !arch || store_ref_match(s, name, NULL, arch, &refs, &n) < 0)
                return 0;
        for (size_t i = 0; i < n && len < size; i++) {
                int k = i == 4 ? snprintf(buf + len, size - len, ", and %zu more (roost images)", n - i)
                               : snprintf(buf + len, size - len, "%s%s:%s (%s)", i ? ", " : "", refs[i].name,
                                          refs[i].tag, refs[i].version);
                if (k < 0)
                        break;
                len += (size_t)k;
                if (i == 4)
                        break;
        }
        store_ref_list_free(refs, n);
        return n;
}

int launch_image_pull_failed(store *s, const char *image, const char *arch, bool offline, int status,
                             roost_error *e)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        char list[512], stored[700];
        if (!arch)
                arch = host_alpine_arch();
        (void)store_ref_parse(image, NULL, &name, &tag);
        if (list_stored(s, name, arch, list, sizeof(list)))
                snprintf(stored, sizeof(stored), "stored for %s, newest first: %s", arch, list);
        else
                snprintf(stored, sizeof(stored), "no %s is stored for %s", name ? name : image, arch);
        /* pull said why on the line before; this one says what to do. */
        if (offline)
                roost_error_set(e, 0,
                                "--offline runs only stored images; without it, a missing one is pulled from "
                                "--mirror or ROOST_MIRROR (file:///PATH/alpine for a copy of the mirror); %s",
                                stored);
        else if (status == EXIT_NETWORK || status == EXIT_FAIL)
                roost_error_set(e, 0,
                                "%s could not be pulled. Without the network, pull from a copy of the mirror "
                                "(--mirror file:///PATH/alpine, or ROOST_MIRROR=file:///PATH/alpine), or "
                                "launch a stored image with --offline; %s",
                                image, stored);
        else
                roost_error_set(e, 0, "%s could not be pulled; %s", image, stored);
        return -ROOST_ENOTFOUND;
}
