/* A named container taken for a commit, and the image made of it: the
 * image it was made from (as launch recorded it in containers/NAME/image)
 * with the new layer on top. Only the new layer is stored; the parent's
 * layers are named again, not copied. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "commit/commit.h"
#include "common/util.h"

void commit_origin_done(struct commit_origin *o)
{
        free(o->digest);
        free(o->ref);
        free(o->arch);
        free(o->rootfs);
        memset(o, 0, sizeof(*o));
}

/* The value of "KEY value" in TEXT's lines, or NULL. */
static char *record_field(const char *text, const char *key)
{
        size_t klen = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (!strncmp(p, key, klen) && p[klen] == ' ') {
                        const char *v = p + klen + 1, *end = strchrnul(v, '\n');
                        return strndup(v, (size_t)(end - v));
                }
        return NULL;
}

int commit_origin_read(int dirfd, struct commit_origin *ret)
{
        struct commit_origin o = { 0 };
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_at(dirfd, "image", 4096, &text, &len);
        if (r == 0) {
                char *d = record_field(text, "digest");
                o.ref = record_field(text, "reference");
                o.arch = record_field(text, "arch");
                if (d && !strncmp(d, "sha256:", 7) && store_digest_valid(d + 7))
                        o.digest = strdup(d + 7);
                free(d);
                if (!o.digest || !o.ref || !o.arch) {
                        commit_origin_done(&o);
                        return -ROOST_EFORMAT;
                }
        } else if (r == -ENOENT) {
                /* No image: a --rootfs container, or one made before
                 * launch recorded images. origin says which trees. */
                if ((r = read_file_at(dirfd, "origin", 65536, &o.rootfs, &len)) < 0)
                        return r == -ENOENT ? -ROOST_EFORMAT : r;
                for (char *p = o.rootfs; (p = strchr(p, '\n'));)
                        *p = ':';
        } else
                return r;
        *ret = o;
        return 0;
}

int commit_container_open(store *s, const char *name, struct commit_container *ret, roost_error *e)
{
        struct commit_container c = { .lock = -1, .dirfd = -1, .upperfd = -1 };
        int r = c.lock = store_container_take(s, name, &c.dirfd);
        if (r == -ENOENT)
                return roost_error_set(e, 0, "no container %s in the store (roost containers lists them)", name),
                       -ROOST_ENOTFOUND;
        if (r == -EBUSY)
                return roost_error_set(e, 0,
                                       "container %s is running (a launch holds its layer), and roost cannot pause "
                                       "one: commit it once it has stopped",
                                       name),
                       -EBUSY;
        if (r == -EINVAL)
                return roost_error_set(e, 0, "'%s' is not a container name (lowercase letters, digits, '.', '_', '-')",
                                       name),
                       -ROOST_EUSAGE;
        if (r < 0)
                return roost_error_set(e, r, "the layer of container %s in the store", name);
        if ((r = commit_origin_read(c.dirfd, &c.origin)) < 0) {
                roost_error_set(e, r == -ROOST_EFORMAT ? 0 : r, "container %s: its record of what it was made from%s",
                                name, r == -ROOST_EFORMAT ? " cannot be read; remove it with roost rm --container" : "");
                goto fail;
        }
        /* The layer overlayfs wrote; never created here. */
        if ((c.upperfd = openat(c.dirfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = -errno;
                roost_error_set(e, r, "container %s: its layer", name);
                goto fail;
        }
        *ret = c;
        return 0;
fail:
        commit_container_done(&c);
        return r;
}

void commit_container_done(struct commit_container *c)
{
        closep(&c->upperfd);
        closep(&c->dirfd);
        closep(&c->lock);
        commit_origin_done(&c->origin);
}

int commit_image(store *s, const struct commit_origin *origin, const struct commit_layer *layer,
                 const struct commit_options *o, const char *name, const char *tag,
                 char ret_digest[STORE_SHA256_HEX + 1], roost_error *e)
{
        struct store_ref parent = { 0 };
        struct store_layer *layers = NULL;
        _cleanup_free_ char *ptext = NULL, *config = NULL;
        int64_t created = o->created ? o->created : (int64_t)time(NULL);
        int r;

        if (!origin->digest)
                return roost_error_set(e, 0,
                                       "the container was made with --rootfs %s, not from an image: there is no image "
                                       "to commit its changes on top of",
                                       origin->rootfs ? origin->rootfs : "(unknown)"),
                       -ROOST_EUSAGE;
        r = store_image_read(s, origin->digest, &parent);
        if (r == -ENOENT) {
                roost_error_set(e, 0,
                                "the image the container was made from (%s, %.12s) is no longer in the store; "
                                "pull it again",
                                origin->ref, origin->digest);
                r = -ROOST_ENOTFOUND;
                goto out;
        }
        if (r < 0 || (r = store_blob_read(s, parent.config, 4 << 20, &ptext, NULL)) < 0) {
                roost_error_set(e, r, "reading the image %s (%.12s)", origin->ref, origin->digest);
                goto out;
        }
        if ((r = commit_config_derive(ptext, o->changes, o->n_changes, o->message, layer->diff_id, created, &config,
                                      e)) < 0)
                goto out;
        if (!(layers = calloc(parent.n_layers + 1, sizeof(*layers)))) {
                r = roost_error_set(e, -ENOMEM, "the new image");
                goto out;
        }
        memcpy(layers, parent.layers, parent.n_layers * sizeof(*layers));
        layers[parent.n_layers] = (struct store_layer){
                .digest = (char *)layer->digest,
                .diff_id = (char *)layer->diff_id,
                .media_type = (char *)STORE_MEDIA_LAYER_GZIP,
                .size = layer->size,
        };
        if ((r = store_image_put_config(s, config, layers, parent.n_layers + 1, NULL, ret_digest)) < 0) {
                roost_error_set(e, r, "storing the new image");
                goto out;
        }
        struct store_ref ref = {
                .name = (char *)name,
                .tag = (char *)tag,
                .arch = origin->arch,
                .digest = ret_digest,
                .created = created,
        };
        if ((r = store_ref_write(s, &ref)) < 0)
                roost_error_set(e, r, "writing the reference %s:%s", name, tag);
out:
        free(layers);
        store_ref_done(&parent);
        return r;
}
