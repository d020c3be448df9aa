/* Writing an image's config and manifest (oci.c reads them). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

static json_t *strv_json(char *const *v)
{
        _cleanup_json_ json_t *a = json_array();
        for (size_t i = 0; a && v && v[i]; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

static int dump_put(store *s, json_t *o, char ret[STORE_SHA256_HEX + 1], uint64_t *ret_size)
{
        if (!o)
                return -ENOMEM;
        char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        size_t n = strlen(text);
        int r = store_blob_put(s, text, n, ret);
        free(text);
        if (ret_size)
                *ret_size = n;
        return r;
}

static json_t *descriptor(const char *media_type, const char *hex, uint64_t size)
{
        return json_pack("{s:s, s:s+, s:I}", "mediaType", media_type, "digest", "sha256:", hex, "size",
                         (json_int_t)size);
}

int store_manifest_put(store *s, const char *config, uint64_t config_size, const struct store_layer *layers,
                       size_t n_layers, const char *version, char ret_digest[STORE_SHA256_HEX + 1])
{
        if (!store_digest_valid(config))
                return -EINVAL;
        json_t *ls = json_array();
        for (size_t i = 0; ls && i < n_layers; i++) {
                if (!store_digest_valid(layers[i].digest) || !layers[i].media_type) {
                        json_decref(ls);
                        return -EINVAL;
                }
                json_array_append_new(ls, descriptor(layers[i].media_type, layers[i].digest, layers[i].size));
        }
        json_t *m = ls ? json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", STORE_MEDIA_MANIFEST,
                                   "config", descriptor(STORE_MEDIA_CONFIG, config, config_size), "layers", ls)
                       : NULL;
        if (m && version)
                json_object_set_new(m, "annotations", json_pack("{s:s}", "org.opencontainers.image.version", version));
        return dump_put(s, m, ret_digest, NULL);
}

int store_image_put(store *s, const char *arch, const struct store_layer *layers, size_t n_layers,
                    const struct store_image_config *cfg, const char *version,
                    char ret_digest[STORE_SHA256_HEX + 1])
{
        const char *oarch, *variant;
        char when[32] = "";
        if (store_arch_to_platform(arch, &oarch, &variant) < 0)
                return -ROOST_EUSAGE;
        if (cfg->created && store_time_format(cfg->created, when, sizeof(when)) < 0)
                return -EINVAL;
        _cleanup_json_ json_t *c = json_object(), *run = json_object(), *diff = json_array();
        _cleanup_json_ json_t *hist =
                json_pack("{s:s}", "created_by", cfg->created_by ? cfg->created_by : "");
        int r;
        if (!c || !run || !diff || !hist)
                return -ENOMEM;
        if (when[0])
                json_object_set_new(hist, "created", json_string(when));
        for (size_t i = 0; i < n_layers; i++) {
                if (!store_digest_valid(layers[i].digest) || !store_digest_valid(layers[i].diff_id) ||
                    !layers[i].media_type)
                        return -EINVAL;
                json_array_append_new(diff, json_pack("s+", "sha256:", layers[i].diff_id));
        }
        if (cfg->env)
                json_object_set_new(run, "Env", strv_json(cfg->env));
        if (cfg->entrypoint)
                json_object_set_new(run, "Entrypoint", strv_json(cfg->entrypoint));
        if (cfg->cmd)
                json_object_set_new(run, "Cmd", strv_json(cfg->cmd));
        if (cfg->workdir)
                json_object_set_new(run, "WorkingDir", json_string(cfg->workdir));
        if (cfg->user)
                json_object_set_new(run, "User", json_string(cfg->user));
        json_object_set_new(c, "architecture", json_string(oarch));
        if (variant)
                json_object_set_new(c, "variant", json_string(variant));
        json_object_set_new(c, "os", json_string("linux"));
        if (when[0])
                json_object_set_new(c, "created", json_string(when));
        json_object_set_new(c, "config", TAKE_PTR(run));
        json_object_set_new(c, "rootfs", json_pack("{s:s, s:o}", "type", "layers", "diff_ids", TAKE_PTR(diff)));
        json_object_set_new(c, "history", json_pack("[o]", TAKE_PTR(hist)));
        char chex[STORE_SHA256_HEX + 1];
        uint64_t csize;
        if ((r = dump_put(s, TAKE_PTR(c), chex, &csize)) < 0)
                return r;
        return store_manifest_put(s, chex, csize, layers, n_layers, version, ret_digest);
}

int store_image_put_rootfs(store *s, const char *arch, const char *layer, const char *diff_id, uint64_t size,
                           const char *version, int64_t created, const char *created_by,
                           char ret_digest[STORE_SHA256_HEX + 1])
{
        static char path[] = "PATH=" STORE_DEFAULT_PATH, sh[] = "/bin/sh", gz[] = STORE_MEDIA_LAYER_GZIP;
        char *env[] = { path, NULL }, *cmd[] = { sh, NULL };
        struct store_layer l = { .digest = (char *)layer, .diff_id = (char *)diff_id,
                                 .media_type = gz, .size = size };
        struct store_image_config c = { .env = env, .cmd = cmd, .created = created, .created_by = (char *)created_by };
        return store_image_put(s, arch, &l, 1, &c, version, ret_digest);
}

int store_image_put_config(store *s, const char *config, const struct store_layer *layers, size_t n_layers,
                           const char *version, char ret_digest[STORE_SHA256_HEX + 1])
{
        /* The config is kept as its writer made it, byte for byte; what
         * the manifest says of the layers must agree with it. */
        json_t *c = json_loads(config, JSON_REJECT_DUPLICATES, NULL);
        json_t *diff = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
        int r = json_is_object(c) && json_is_array(diff) && json_array_size(diff) == n_layers ? 0 : -ROOST_EFORMAT;
        for (size_t i = 0; r == 0 && i < n_layers; i++) {
                const char *d = json_string_value(json_array_get(diff, i));
                if (!store_digest_valid(layers[i].digest) || !layers[i].media_type || !layers[i].diff_id ||
                    !d || strncmp(d, "sha256:", 7) != 0 || strcmp(d + 7, layers[i].diff_id) != 0)
                        r = -EINVAL;
                else if (!store_blob_exists(s, layers[i].digest))
                        r = -ENOENT;
        }
        json_decref(c);
        if (r < 0)
                return r;
        char chex[STORE_SHA256_HEX + 1];
        size_t n = strlen(config);
        if ((r = store_blob_put(s, config, n, chex)) < 0)
                return r;
        return store_manifest_put(s, chex, n, layers, n_layers, version, ret_digest);
}

int store_image_read(store *s, const char *digest, struct store_ref *ret)
{
        struct store_ref ref = { 0 };
        int r = store_manifest_read(s, digest, &ref);
        for (size_t i = 0; r == 0 && i < ref.n_layers; i++) {
                char diff[STORE_SHA256_HEX + 1];
                struct store_layer *l = &ref.layers[i];
                if ((r = store_layer_diff_id(s, l->digest, store_layer_gzip(l), diff)) == 0 &&
                    !(l->diff_id = strdup(diff)))
                        r = -ENOMEM;
        }
        if (r < 0) {
                store_ref_done(&ref);
                return r;
        }
        *ret = ref;
        return 0;
}
