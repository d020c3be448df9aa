/* The store's images are OCI image-spec v1.1 documents: a config and a
 * manifest around the layers, and an index per reference listing the
 * platforms present. This file writes and reads those JSON documents;
 * ref.c keeps the references that name them. Everything is written with
 * sorted keys and no whitespace, so that the same image is the same bytes
 * (and digest) wherever it is made. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

static const struct {
        const char *alpine, *arch, *variant;
} platforms[] = {
        { "x86_64", "amd64", NULL },     { "x86", "386", NULL },          { "aarch64", "arm64", NULL },
        { "armv7", "arm", "v7" },        { "armhf", "arm", "v6" },        { "ppc64le", "ppc64le", NULL },
        { "s390x", "s390x", NULL },      { "riscv64", "riscv64", NULL },  { "loongarch64", "loong64", NULL },
};

int store_arch_to_platform(const char *arch, const char **ret_arch, const char **ret_variant)
{
        for (size_t i = 0; i < ELEMENTSOF(platforms); i++)
                if (!strcmp(platforms[i].alpine, arch)) {
                        *ret_arch = platforms[i].arch;
                        *ret_variant = platforms[i].variant;
                        return 0;
                }
        return -ROOST_ENOTFOUND;
}

const char *store_arch_from_platform(const char *architecture, const char *variant)
{
        if (!architecture)
                return NULL;
        /* arm64's variant is v8 when given at all; plain "arm" is v7's
         * Alpine name unless v6 (or older) is named. */
        for (size_t i = 0; i < ELEMENTSOF(platforms); i++)
                if (!strcmp(platforms[i].arch, architecture) &&
                    (!platforms[i].variant || !variant || !strcmp(platforms[i].variant, variant)))
                        return platforms[i].alpine;
        return NULL;
}

void store_image_config_done(struct store_image_config *c)
{
        if (!c)
                return;
        strv_free(c->env);
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        free(c->workdir);
        free(c->user);
        free(c->created_by);
        memset(c, 0, sizeof(*c));
}

int store_time_format(int64_t t, char *buf, size_t n)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
                return -EINVAL;
        return 0;
}

int store_time_parse(const char *s, int64_t *ret)
{
        struct tm tm = { 0 };
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (!end)
                return -ROOST_EFORMAT;
        /* RFC 3339 as others write it: fractions, then Z or an offset. */
        if (*end == '.')
                for (end++; *end >= '0' && *end <= '9'; end++)
                        ;
        long off = 0;
        if (*end == 'Z' && !end[1])
                ;
        else if ((*end == '+' || *end == '-') && strlen(end) == 6 && end[3] == ':')
                off = (end[0] == '-' ? -1 : 1) * (strtol(end + 1, NULL, 10) * 3600 + strtol(end + 4, NULL, 10) * 60);
        else
                return -ROOST_EFORMAT;
        *ret = (int64_t)timegm(&tm) - off;
        return 0;
}

static int strv_from_json(json_t *a, char ***ret)
{
        if (!a || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return -ROOST_EFORMAT;
        size_t n = json_array_size(a);
        char **v = calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *t = json_string_value(json_array_get(a, i));
                if (!t || !(v[i] = strdup(t))) {
                        strv_free(v);
                        return t ? -ENOMEM : -ROOST_EFORMAT;
                }
        }
        *ret = v;
        return 0;
}

static int str_from_json(json_t *v, char **ret)
{
        const char *t = json_string_value(v);
        if (!v || json_is_null(v) || (t && !*t))
                return 0;
        if (!t)
                return -ROOST_EFORMAT;
        return (*ret = strdup(t)) ? 0 : -ENOMEM;
}

int store_image_config_read(store *s, const char *config, struct store_image_config *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = store_blob_read(s, config, STORE_DOC_MAX, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *o = json_loads(text, 0, NULL);
        if (!json_is_object(o))
                return -ROOST_EFORMAT;
        struct store_image_config c = { 0 };
        json_t *run = json_object_get(o, "config");
        if (run && !json_is_object(run) && !json_is_null(run))
                r = -ROOST_EFORMAT;
        if (r >= 0 && json_is_object(run) && (r = strv_from_json(json_object_get(run, "Env"), &c.env)) >= 0 &&
            (r = strv_from_json(json_object_get(run, "Entrypoint"), &c.entrypoint)) >= 0 &&
            (r = strv_from_json(json_object_get(run, "Cmd"), &c.cmd)) >= 0 &&
            (r = str_from_json(json_object_get(run, "WorkingDir"), &c.workdir)) >= 0)
                r = str_from_json(json_object_get(run, "User"), &c.user);
        const char *when = json_string_value(json_object_get(o, "created"));
        if (r >= 0 && when && store_time_parse(when, &c.created) < 0)
                c.created = 0;
        if (r < 0) {
                store_image_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static bool layer_type_known(const char *t, bool *gzip)
{
        *gzip = !strcmp(t, STORE_MEDIA_LAYER_GZIP) || !strcmp(t, STORE_MEDIA_DOCKER_LAYER);
        return *gzip || !strcmp(t, STORE_MEDIA_LAYER_TAR);
}

static int digest_hex(const char *d, const char **ret)
{
        if (!d || strncmp(d, "sha256:", 7) != 0 || !store_digest_valid(d + 7))
                return -ROOST_EFORMAT;
        *ret = d + 7;
        return 0;
}

int store_manifest_read(store *s, const char *digest, struct store_ref *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = store_blob_read(s, digest, STORE_DOC_MAX, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *o = json_loads(text, 0, NULL);
        json_t *config, *layers;
        const char *mt = NULL, *chex = NULL;
        json_int_t schema = 0;
        if (!o ||
            json_unpack(o, "{s:I, s?s, s:o, s:o}", "schemaVersion", &schema, "mediaType", &mt, "config",
                        &config, "layers", &layers) < 0 ||
            schema != 2 ||
            (mt && strcmp(mt, STORE_MEDIA_MANIFEST) && strcmp(mt, STORE_MEDIA_DOCKER_MANIFEST)) ||
            !json_is_array(layers) ||
            digest_hex(json_string_value(json_object_get(config, "digest")), &chex) < 0)
                return -ROOST_EFORMAT;
        size_t n = json_array_size(layers);
        struct store_layer *ls = calloc(n ? n : 1, sizeof(*ls));
        r = ls ? 0 : -ENOMEM;
        uint64_t total = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_t *l = json_array_get(layers, i);
                const char *lt = json_string_value(json_object_get(l, "mediaType")), *hex;
                json_int_t size = json_integer_value(json_object_get(l, "size"));
                bool gzip;
                if (!lt || !layer_type_known(lt, &gzip) ||
                    digest_hex(json_string_value(json_object_get(l, "digest")), &hex) < 0 || size < 0)
                        r = -ROOST_EFORMAT;
                else if (!(ls[i].digest = strdup(hex)) || !(ls[i].media_type = strdup(lt)))
                        r = -ENOMEM;
                ls[i].size = (uint64_t)size;
                total += (uint64_t)size;
        }
        if (r == 0) {
                json_t *ann = json_object_get(o, "annotations");
                const char *v = json_string_value(json_object_get(ann, "org.opencontainers.image.version"));
                ret->config = strdup(chex);
                ret->digest = strdup(digest);
                if (v && !ret->version)
                        ret->version = strdup(v);
                if (!ret->config || !ret->digest)
                        r = -ENOMEM;
        }
        ret->layers = ls;
        ret->n_layers = ls ? n : 0;
        ret->size = total;
        return r;
}

bool store_layer_gzip(const struct store_layer *l)
{
        bool gzip;
        return layer_type_known(l->media_type, &gzip) && gzip;
}
