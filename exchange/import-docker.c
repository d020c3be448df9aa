/* docker save's archive (and podman save's, skopeo's docker-archive:):
 * manifest.json lists images, each a Config path, RepoTags and Layers
 * paths; layers are plain tars (<hex>.tar, <id>/layer.tar, maybe a link to
 * another entry) or, rarely, gzip. There is no OCI manifest: the config is
 * stored as it came and a manifest written around it (store_manifest_put).
 * A plain layer's digest is its diff_id, so the config says what each must
 * hash to before it is read; a gzip one is hashed first, then checked
 * against its diff_id as the store inflates it. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "exchange/import-private.h"

struct image {
        json_t *o;
        const char *config_path;
        const char *config;
        size_t config_n;
        const char *arch;
        json_t *tags;
};

static int image_read(struct import_source *src, json_t *o, size_t i, struct image *ret, roost_error *e)
{
        json_t *layers = json_object_get(o, "Layers"), *tags = json_object_get(o, "RepoTags");
        const char *cfg = json_string_value(json_object_get(o, "Config"));
        if (!json_is_object(o) || !cfg || !json_is_array(layers) || (tags && !json_is_array(tags) && !json_is_null(tags)))
                return import_fail(e, -ROOST_EFORMAT, "%s: manifest.json's entry %zu is not an image (Config, RepoTags, Layers)",
                                       src->label, i + 1);
        if (json_object_get(o, "LayerSources"))
                return import_fail(e, -EOPNOTSUPP, "%s: the image has foreign layers (LayerSources): their bytes are not in "
                                             "the file, and roost fetches nothing for an import",
                                       src->label);
        if (!import_path_safe(cfg))
                return import_fail(e, -ROOST_EUNSAFE, "%s: manifest.json names the config '%.200s', outside the archive: refused "
                                             "as hostile",
                                       src->label, cfg);
        int r = import_source_doc(src, cfg, &ret->config, &ret->config_n, e);
        if (r == -ROOST_ENOTFOUND)
                return import_fail(e, -ROOST_EFORMAT, "%s: manifest.json names the config %.200s, which is not in it",
                                       src->label, cfg);
        if (r < 0)
                return r;
        if (!(ret->arch = import_config_arch(ret->config, src->label, e)))
                return -ROOST_EFORMAT;
        ret->o = o;
        ret->config_path = cfg;
        ret->tags = json_is_array(tags) ? tags : NULL;
        return 0;
}

static bool image_tagged(const struct image *m, const char *name, const char *tag)
{
        size_t i;
        json_t *t;
        char want[512];
        snprintf(want, sizeof(want), "%s:%s", name ? name : "", tag);
        json_array_foreach(m->tags, i, t) {
                const char *s = json_string_value(t), *colon = s ? strrchr(s, ':') : NULL;
                if (s && (name ? !strcmp(s, want) : colon && !strchr(colon, '/') && !strcmp(colon + 1, tag)))
                        return true;
        }
        return false;
}

int import_docker(struct import_source *src, store *s, const struct exchange_import_options *o,
                  struct import_image *ret, char **ret_name, char **ret_tag, roost_error *e)
{
        const char *text;
        size_t n;
        json_error_t err;
        struct image *imgs = NULL, *pick = NULL;
        struct import_want *wants = NULL;
        struct store_layer *layers = NULL;
        char(*diffs)[STORE_SHA256_HEX + 1] = NULL;
        char(*whats)[32] = NULL;
        json_t *cfg = NULL;
        int r = import_source_doc(src, "manifest.json", &text, &n, e);
        if (r < 0)
                return r;
        json_t *list = json_loadb(text, n, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_array(list) || json_array_size(list) == 0) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: manifest.json is not docker's list of images%s%s", src->label,
                                    list ? "" : ": ", list ? "" : err.text);
                goto out;
        }
        size_t n_imgs = json_array_size(list);
        if (n_imgs > IMPORT_MANIFESTS_MAX) {
                r = import_fail(e, -ROOST_ELIMIT, "%s: more than %d images: refused", src->label, IMPORT_MANIFESTS_MAX);
                goto out;
        }
        if (!(imgs = calloc(n_imgs, sizeof(*imgs)))) {
                r = -ENOMEM;
                goto out;
        }
        char seen[256] = "";
        size_t n_pick = 0;
        for (size_t i = 0; i < n_imgs; i++) {
                if ((r = image_read(src, json_array_get(list, i), i, &imgs[i], e)) < 0)
                        goto out;
                if (!strstr(seen, imgs[i].arch) && strlen(seen) + strlen(imgs[i].arch) + 3 < sizeof(seen))
                        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s", *seen ? ", " : "",
                                 imgs[i].arch);
                /* One image is taken whatever its platform unless --arch
                 * asked for another, as docker load does. */
                if ((n_imgs == 1 && !o->arch_given) || !strcmp(imgs[i].arch, o->arch)) {
                        n_pick++;
                        if (!pick)
                                pick = &imgs[i];
                }
        }
        if (!pick) {
                r = import_fail(e, -ROOST_ENOTFOUND, "%s: no image for %s in it (it has: %s); choose one with --arch", src->label,
                                    o->arch, seen);
                goto out;
        }
        if (n_pick > 1) {
                struct image *tagged = NULL;
                size_t n_tagged = 0;
                for (size_t i = 0; o->tag && i < n_imgs; i++)
                        if (!strcmp(imgs[i].arch, o->arch) && image_tagged(&imgs[i], o->name, o->tag)) {
                                tagged = &imgs[i];
                                n_tagged++;
                        }
                if (n_tagged != 1) {
                        r = import_fail(e, -ROOST_EUSAGE, "%s: it holds %zu images for %s: give the NAME:TAG of the one to "
                                                  "import, as its RepoTags name it",
                                            src->label, n_pick, o->arch);
                        goto out;
                }
                pick = tagged;
        }
        const char *own = json_string_value(json_array_get(pick->tags, 0));
        if ((r = import_pick_name(o, own, ret_name, ret_tag, e)) < 0) {
                char why[sizeof(e->msg)];
                snprintf(why, sizeof(why), "%s", e->msg);
                roost_error_set(e, 0, "%s: %s", src->label, why);
                goto out;
        }

        json_t *ls = json_object_get(pick->o, "Layers"), *l;
        size_t n_layers = json_array_size(ls);
        cfg = json_loads(pick->config, 0, NULL);
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (n_layers > IMPORT_LAYERS_MAX) {
                r = import_fail(e, -ROOST_ELIMIT, "%s: %zu layers, more than the %d roost takes", src->label, n_layers,
                                    IMPORT_LAYERS_MAX);
                goto out;
        }
        wants = calloc(n_layers + 1, sizeof(*wants));
        layers = calloc(n_layers ? n_layers : 1, sizeof(*layers));
        diffs = calloc(n_layers ? n_layers : 1, sizeof(*diffs));
        whats = calloc(n_layers + 1, sizeof(*whats));
        if (!wants || !layers || !diffs || !whats) {
                r = -ENOMEM;
                goto out;
        }
        if (!json_is_array(ids) || json_array_size(ids) != n_layers) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: the config lists %zu diff_ids for %zu layers", src->label,
                                    json_is_array(ids) ? json_array_size(ids) : 0, n_layers);
                goto out;
        }
        size_t i;
        json_array_foreach(ls, i, l) {
                const char *path = json_string_value(l), *id = json_string_value(json_array_get(ids, i));
                snprintf(whats[i], sizeof(whats[i]), "layer %zu", i + 1);
                if (!id || strncmp(id, "sha256:", 7) || !store_digest_valid(id + 7)) {
                        r = import_fail(e, -ROOST_EFORMAT, "%s: the config's diff_id %zu is no sha256 digest", src->label, i + 1);
                        goto out;
                }
                memcpy(diffs[i], id + 7, sizeof(diffs[i]));
                if (!path || !import_path_safe(path)) {
                        r = import_fail(e, -ROOST_EUNSAFE, "%s: manifest.json names layer %zu '%.200s', outside the archive: "
                                                  "refused as hostile",
                                            src->label, i + 1, path ? path : "(none)");
                        goto out;
                }
                const struct import_entry *x = import_source_find(src, path);
                if (!x) {
                        r = import_fail(e, -ROOST_EFORMAT, "%s: manifest.json names layer %zu %.200s, which is not in it",
                                            src->label, i + 1, path);
                        goto out;
                }
                const unsigned char *mg = x->magic;
                bool gzip = x->n_magic >= 2 && mg[0] == 0x1f && mg[1] == 0x8b;
                if (x->n_magic >= 4 && ((mg[0] == 0x28 && mg[1] == 0xb5 && mg[2] == 0x2f && mg[3] == 0xfd) ||
                                        (mg[0] == 0xfd && mg[1] == '7') || (mg[0] == 'B' && mg[1] == 'Z'))) {
                        r = import_fail(e, -EOPNOTSUPP, "%s: layer %zu is compressed with other than gzip: roost stores gzip "
                                                  "and plain tar layers",
                                            src->label, i + 1);
                        goto out;
                }
                wants[i] = (struct import_want){ .path = path, .size = (int64_t)x->size, .layer = true, .gzip = gzip,
                                                 .what = whats[i] };
                /* A plain layer is its own diff_id: what it must hash to is
                 * known before a byte is read. */
                if (!gzip)
                        memcpy(wants[i].sha256, diffs[i], sizeof(diffs[i]));
                layers[i] = (struct store_layer){ .digest = wants[i].sha256, .diff_id = diffs[i],
                                                  .media_type = (char *)(gzip ? STORE_MEDIA_LAYER_GZIP
                                                                              : STORE_MEDIA_LAYER_TAR),
                                                  .size = x->size };
        }
        /* The config: its digest is that of the bytes read, which the
         * store checks again as it writes them. */
        snprintf(whats[n_layers], sizeof(whats[0]), "the config");
        wants[n_layers] = (struct import_want){ .path = pick->config_path, .size = (int64_t)pick->config_n,
                                                .what = whats[n_layers] };
        store_hash *h;
        if ((r = store_hash_new(&h)) < 0)
                goto out;
        if ((r = store_hash_update(h, pick->config, pick->config_n)) == 0)
                r = store_hash_peek(h, wants[n_layers].sha256, NULL);
        store_hash_free(h);
        if (r < 0 || (r = import_source_hash(src, wants, n_layers + 1, e)) < 0 ||
            (r = import_source_store(src, s, wants, n_layers + 1, e)) < 0 ||
            (r = import_check_diff_ids(s, src->label, pick->config, layers, n_layers, e)) < 0)
                goto out;
        if ((r = store_manifest_put(s, wants[n_layers].sha256, pick->config_n, layers, n_layers, NULL, ret->digest)) <
            0) {
                roost_error_set(e, r, "writing the image's manifest");
                goto out;
        }
        ret->arch = pick->arch;
        ret->n_layers = n_layers;
out:
        if (r < 0 && *ret_name) {
                free(*ret_name);
                free(*ret_tag);
                *ret_name = *ret_tag = NULL;
        }
        free(imgs);
        free(wants);
        free(layers);
        free(diffs);
        free(whats);
        json_decref(cfg);
        json_decref(list);
        return r;
}
