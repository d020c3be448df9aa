/* An OCI image layout (image-spec v1.1, "image-layout.md"), as skopeo's
 * oci: and oci-archive:, umoci and podman save --format oci-archive write
 * it: index.json names manifests (or indexes of them, per platform), each
 * blob is blobs/sha256/<hex>. The manifest and config are stored byte for
 * byte, so the image's id is the digest skopeo inspect shows. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "exchange/import-private.h"

#define MEDIA_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* A manifest index.json leads to, with what its entries said of it. */
struct candidate {
        char hex[STORE_SHA256_HEX + 1];
        int64_t size;
        const char *platform; /* Alpine's name of the entry's platform; NULL when it gives none */
        bool foreign;         /* a platform roost has no name for, or not linux */
        const char *ref;      /* org.opencontainers.image.ref.name, the nearest one */
        const char *sig;      /* roost export's EXCHANGE_SIGNATURE, "sha256:HEX", or NULL */
        const char *arch;     /* from its config, once read */
};

struct walk {
        struct import_source *src;
        struct candidate *c;
        size_t n;
        size_t seen; /* manifests of every index, together */
        roost_error *e;
};

static int descriptor(struct import_source *src, json_t *d, const char *what, const char **ret_type,
                      char hex[STORE_SHA256_HEX + 1], int64_t *ret_size, roost_error *e)
{
        const char *type = json_string_value(json_object_get(d, "mediaType"));
        const char *digest = json_string_value(json_object_get(d, "digest"));
        json_t *size = json_object_get(d, "size");
        if (!json_is_object(d) || !digest)
                return import_fail(e, -ROOST_EFORMAT, "%s: %s is not a descriptor", src->label, what);
        if (strncmp(digest, "sha256:", 7) || !store_digest_valid(digest + 7))
                return import_fail(e, -ROOST_EFORMAT, "%s: %s's digest '%.80s' is no sha256 digest roost takes", src->label,
                                       what, digest);
        if (!json_is_integer(size) || json_integer_value(size) < 0)
                return import_fail(e, -ROOST_EFORMAT, "%s: %s has no size", src->label, what);
        memcpy(hex, digest + 7, STORE_SHA256_HEX + 1);
        *ret_size = json_integer_value(size);
        *ret_type = type;
        return 0;
}

static json_t *doc_parse(struct import_source *src, const char *text, size_t n, const char *what, roost_error *e)
{
        json_error_t err;
        json_t *o = json_loadb(text, n, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(o)) {
                json_decref(o);
                roost_error_set(e, 0, "%s: %s is not a JSON object: %s", src->label, what, o ? "" : err.text);
        }
        return json_is_object(o) ? o : NULL;
}

static int walk_index(struct walk *w, json_t *idx, const char *what, const char *ref, int depth)
{
        json_t *list = json_object_get(idx, "manifests"), *m;
        if (json_integer_value(json_object_get(idx, "schemaVersion")) != 2 || !json_is_array(list))
                return import_fail(w->e, -ROOST_EFORMAT, "%s: %s is not an OCI index (schemaVersion 2, manifests)",
                                       w->src->label, what);
        size_t i;
        json_array_foreach(list, i, m) {
                if (++w->seen > IMPORT_MANIFESTS_MAX)
                        return import_fail(w->e, -ROOST_ELIMIT, "%s: more than %d manifests: refused", w->src->label,
                                               IMPORT_MANIFESTS_MAX);
                char hex[STORE_SHA256_HEX + 1], label[64];
                const char *type;
                int64_t size;
                snprintf(label, sizeof(label), "%s's entry %zu", depth ? "a nested index" : "index.json", i + 1);
                int r = descriptor(w->src, m, label, &type, hex, &size, w->e);
                if (r < 0)
                        return r;
                const char *name = json_string_value(
                        json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
                if (!name)
                        name = ref;
                if (type && (!strcmp(type, STORE_MEDIA_INDEX) || !strcmp(type, MEDIA_DOCKER_LIST))) {
                        if (depth + 1 >= IMPORT_INDEX_DEPTH)
                                return import_fail(w->e, -ROOST_ELIMIT, "%s: indexes nested more than %d deep: refused",
                                                       w->src->label, IMPORT_INDEX_DEPTH);
                        const char *text;
                        size_t n;
                        if ((r = import_source_blob_doc(w->src, hex, size, &text, &n, w->e)) < 0)
                                return r;
                        json_t *sub = doc_parse(w->src, text, n, "a nested index", w->e);
                        if (!sub)
                                return -ROOST_EFORMAT;
                        r = walk_index(w, sub, "a nested index", name, depth + 1);
                        /* The candidates point into SUB's strings: it is
                         * kept until the walk's end by its parent's
                         * reference, so hand it to IDX. */
                        json_object_set_new(m, "roost-walked", sub);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* Anything else an index lists (an attestation, an artifact)
                 * is no image: passed over. */
                if (type && strcmp(type, STORE_MEDIA_MANIFEST) && strcmp(type, STORE_MEDIA_DOCKER_MANIFEST))
                        continue;
                struct candidate c = { .size = size, .ref = name,
                                       .sig = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                                                EXCHANGE_SIGNATURE)) };
                memcpy(c.hex, hex, sizeof(hex));
                json_t *p = json_object_get(m, "platform");
                if (json_is_object(p)) {
                        const char *os = json_string_value(json_object_get(p, "os"));
                        c.platform = store_arch_from_platform(json_string_value(json_object_get(p, "architecture")),
                                                              json_string_value(json_object_get(p, "variant")));
                        c.foreign = !c.platform || (os && strcmp(os, "linux"));
                }
                struct candidate *nc = realloc(w->c, (w->n + 1) * sizeof(*nc));
                if (!nc)
                        return -ENOMEM;
                w->c = nc;
                w->c[w->n++] = c;
        }
        return 0;
}

/* The manifest and config of C, read (verified by digest) and parsed. */
static int candidate_read(struct import_source *src, struct candidate *c, json_t **ret_manifest,
                          const char **ret_config, size_t *ret_config_n, char chex[STORE_SHA256_HEX + 1],
                          int64_t *ret_csize, roost_error *e)
{
        const char *text, *type;
        size_t n;
        int r = import_source_blob_doc(src, c->hex, c->size, &text, &n, e);
        if (r < 0)
                return r;
        json_t *m = doc_parse(src, text, n, "the manifest", e);
        if (!m)
                return -ROOST_EFORMAT;
        const char *mt = json_string_value(json_object_get(m, "mediaType"));
        if (json_integer_value(json_object_get(m, "schemaVersion")) != 2 ||
            (mt && strcmp(mt, STORE_MEDIA_MANIFEST) && strcmp(mt, STORE_MEDIA_DOCKER_MANIFEST)) ||
            !json_is_array(json_object_get(m, "layers"))) {
                json_decref(m);
                return import_fail(e, -ROOST_EFORMAT, "%s: the manifest sha256:%.12s… is not an image manifest", src->label,
                                       c->hex);
        }
        if ((r = descriptor(src, json_object_get(m, "config"), "the manifest's config", &type, chex, ret_csize, e)) <
            0) {
                json_decref(m);
                return r;
        }
        if (type && strcmp(type, STORE_MEDIA_CONFIG) && strcmp(type, MEDIA_DOCKER_CONFIG)) {
                json_decref(m);
                return import_fail(e, -EOPNOTSUPP, "%s: the manifest's config is %.100s: not a container image (an "
                                             "artifact?), which roost does not store",
                                       src->label, type);
        }
        if ((r = import_source_blob_doc(src, chex, *ret_csize, ret_config, ret_config_n, e)) < 0) {
                json_decref(m);
                return r;
        }
        *ret_manifest = m;
        return 0;
}

/* Which layer media types roost stores, and the line for those it does
 * not. */
static int layer_type(struct import_source *src, size_t i, const char *type, json_t *d, bool *ret_gzip,
                      roost_error *e)
{
        if (type && json_object_get(d, "urls") == NULL &&
            (!strcmp(type, STORE_MEDIA_LAYER_GZIP) || !strcmp(type, STORE_MEDIA_DOCKER_LAYER) ||
             !strcmp(type, STORE_MEDIA_LAYER_TAR))) {
                *ret_gzip = strcmp(type, STORE_MEDIA_LAYER_TAR) != 0;
                return 0;
        }
        if (type && strstr(type, "zstd"))
                return import_fail(e, -EOPNOTSUPP, "%s: layer %zu is zstd-compressed (%s): roost stores gzip and plain tar "
                                             "layers; convert with skopeo copy --dest-compress-format gzip",
                                       src->label, i + 1, type);
        if ((type && (strstr(type, "foreign") || strstr(type, "nondistributable"))) || json_object_get(d, "urls"))
                return import_fail(e, -EOPNOTSUPP, "%s: layer %zu is a foreign layer (%s): its bytes are not in the file, "
                                             "and roost fetches nothing for an import",
                                       src->label, i + 1, type ? type : "urls");
        return import_fail(e, -EOPNOTSUPP, "%s: layer %zu has the media type %.100s, which roost does not store", src->label,
                               i + 1, type ? type : "(none)");
}

/* One of the candidates, for O's platform: those whose entry names it,
 * and those that name none and whose config does; several only when the
 * layout holds several images under their own names, one of which the
 * tag given picks. */
static int choose(struct import_source *src, struct walk *w, const struct exchange_import_options *o,
                  struct candidate **ret, roost_error *e)
{
        struct candidate *pick = NULL;
        size_t n_pick = 0;
        char seen[256] = "";
        for (size_t i = 0; i < w->n; i++) {
                struct candidate *c = &w->c[i];
                if (!c->platform && !c->foreign) {
                        json_t *m;
                        const char *cfg;
                        size_t cn;
                        char chex[STORE_SHA256_HEX + 1];
                        int64_t cs;
                        int r = candidate_read(src, c, &m, &cfg, &cn, chex, &cs, e);
                        if (r < 0)
                                return r;
                        json_decref(m);
                        if (!(c->arch = import_config_arch(cfg, src->label, e)))
                                return -ROOST_EFORMAT;
                } else
                        c->arch = c->platform;
                if (c->arch && !strstr(seen, c->arch) && strlen(seen) + strlen(c->arch) + 3 < sizeof(seen))
                        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s", *seen ? ", " : "", c->arch);
        }
        /* One image of one platform, that says so only in its config, is
         * taken as it is unless --arch asked for another (docker load
         * takes any). */
        if (w->n == 1 && !w->c[0].platform && w->c[0].arch && !o->arch_given) {
                *ret = &w->c[0];
                return 0;
        }
        for (size_t i = 0; i < w->n; i++)
                if (w->c[i].arch && !w->c[i].foreign && !strcmp(w->c[i].arch, o->arch)) {
                        n_pick++;
                        if (!pick)
                                pick = &w->c[i];
                }
        if (!pick)
                return import_fail(e, -ROOST_ENOTFOUND, "%s: no image for %s in it (it has: %s)%s", src->label, o->arch,
                                       *seen ? seen : "none roost can run",
                                       *seen ? "; choose one with --arch" : "");
        if (n_pick > 1) {
                /* Several images: the one whose own name carries the tag
                 * asked for. */
                struct candidate *tagged = NULL;
                size_t n_tagged = 0;
                for (size_t i = 0; o->tag && i < w->n; i++) {
                        const char *ref = w->c[i].ref, *colon;
                        if (!w->c[i].arch || strcmp(w->c[i].arch, o->arch) || !ref)
                                continue;
                        colon = strrchr(ref, ':');
                        if (!strcmp(ref, o->tag) || (colon && !strchr(colon, '/') && !strcmp(colon + 1, o->tag))) {
                                tagged = &w->c[i];
                                n_tagged++;
                        }
                }
                if (n_tagged != 1)
                        return import_fail(e, -ROOST_EUSAGE, "%s: it holds %zu images for %s: give the tag of the one to "
                                                     "import (NAME:TAG, as index.json names it)",
                                               src->label, n_pick, o->arch);
                pick = tagged;
        }
        *ret = pick;
        return 0;
}

/* The detached signature SIG ("sha256:HEX") that a roost export carried
 * for the image's one layer LAYER: its bytes, for import.c to check again
 * over the stored layer. Only read here, never believed. */
static int signature_read(struct import_source *src, const char *sig, const char *layer, struct import_image *ret,
                          roost_error *e)
{
        char path[96];
        uint64_t size;
        const char *text;
        size_t n;
        if (strncmp(sig, "sha256:", 7) || !store_digest_valid(sig + 7))
                return import_fail(e, -ROOST_EFORMAT, "%s: its %s annotation is no sha256 digest", src->label,
                                   EXCHANGE_SIGNATURE);
        snprintf(path, sizeof(path), "blobs/sha256/%s", sig + 7);
        int r = import_source_stat(src, path, &size, e);
        if (r == -ROOST_ENOTFOUND)
                return import_fail(e, -ROOST_EFORMAT, "%s: the signature it names (sha256:%.12s…) is not in it",
                                   src->label, sig + 7);
        if (r < 0)
                return r;
        if (size > IMPORT_SIGNATURE_MAX)
                return import_fail(e, -ROOST_ELIMIT, "%s: its signature is larger than %d bytes: refused", src->label,
                                   IMPORT_SIGNATURE_MAX);
        if ((r = import_source_blob_doc(src, sig + 7, (int64_t)size, &text, &n, e)) < 0)
                return r;
        if (!(ret->sig = malloc(n ? n : 1)))
                return -ENOMEM;
        memcpy(ret->sig, text, n);
        ret->sig_len = n;
        memcpy(ret->layer, layer, sizeof(ret->layer));
        return 0;
}

int import_oci(struct import_source *src, store *s, const struct exchange_import_options *o,
               struct import_image *ret, char **ret_name, char **ret_tag, roost_error *e)
{
        const char *text;
        size_t n;
        json_t *layout = NULL, *idx = NULL, *m = NULL;
        struct walk w = { .src = src, .e = e };
        struct import_want *wants = NULL;
        struct store_layer *layers = NULL;
        size_t n_layers = 0;
        int r;

        if ((r = import_source_doc(src, "oci-layout", &text, &n, e)) < 0)
                goto out;
        const char *version = NULL;
        if (!(layout = doc_parse(src, text, n, "oci-layout", e)) ||
            !(version = json_string_value(json_object_get(layout, "imageLayoutVersion"))) ||
            strncmp(version, "1.", 2)) {
                if (layout)
                        roost_error_set(e, 0, "%s: oci-layout says imageLayoutVersion %.20s, not 1.x", src->label,
                                        version ? version : "nothing");
                r = -ROOST_EFORMAT;
                goto out;
        }
        if ((r = import_source_doc(src, "index.json", &text, &n, e)) < 0)
                goto out;
        if (!(idx = doc_parse(src, text, n, "index.json", e))) {
                r = -ROOST_EFORMAT;
                goto out;
        }
        if ((r = walk_index(&w, idx, "index.json", NULL, 0)) < 0)
                goto out;
        struct candidate *c;
        if ((r = choose(src, &w, o, &c, e)) < 0)
                goto out;

        const char *config;
        size_t config_n;
        char chex[STORE_SHA256_HEX + 1];
        int64_t csize;
        if ((r = candidate_read(src, c, &m, &config, &config_n, chex, &csize, e)) < 0)
                goto out;
        const char *arch = import_config_arch(config, src->label, e);
        if (!arch) {
                r = -ROOST_EFORMAT;
                goto out;
        }
        if (c->platform && strcmp(c->platform, arch)) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: index.json says the image is for %s, its config says %s: refused",
                                    src->label, c->platform, arch);
                goto out;
        }
        if (o->arch_given && strcmp(arch, o->arch)) {
                r = import_fail(e, -ROOST_ENOTFOUND, "%s: no image for %s in it (it has: %s)", src->label, o->arch, arch);
                goto out;
        }
        json_t *ls = json_object_get(m, "layers"), *d;
        n_layers = json_array_size(ls);
        if (n_layers > IMPORT_LAYERS_MAX) {
                r = import_fail(e, -ROOST_ELIMIT, "%s: %zu layers, more than the %d roost takes", src->label, n_layers,
                                    IMPORT_LAYERS_MAX);
                goto out;
        }
        /* Named before anything is stored: a refusal leaves nothing. */
        if ((r = import_pick_name(o, c->ref, ret_name, ret_tag, e)) < 0) {
                char why[sizeof(e->msg)];
                snprintf(why, sizeof(why), "%s", e->msg);
                roost_error_set(e, 0, "%s: %s", src->label, why);
                goto out;
        }
        wants = calloc(n_layers + 2, sizeof(*wants));
        layers = calloc(n_layers ? n_layers : 1, sizeof(*layers));
        char (*paths)[96] = calloc(n_layers + 2, sizeof(*paths));
        char (*whats)[32] = calloc(n_layers + 2, sizeof(*whats));
        if (!wants || !layers || !paths || !whats) {
                free(paths);
                free(whats);
                r = -ENOMEM;
                goto out;
        }
        size_t i;
        json_array_foreach(ls, i, d) {
                const char *type;
                int64_t size;
                snprintf(whats[i], sizeof(whats[i]), "layer %zu", i + 1);
                if ((r = descriptor(src, d, whats[i], &type, wants[i].sha256, &size, e)) < 0 ||
                    (r = layer_type(src, i, type, d, &wants[i].gzip, e)) < 0)
                        break;
                wants[i].size = size;
                wants[i].layer = true;
                layers[i] = (struct store_layer){ .digest = wants[i].sha256, .media_type = (char *)type,
                                                  .size = (uint64_t)size };
        }
        if (r == 0) {
                snprintf(whats[n_layers], sizeof(whats[0]), "the config");
                memcpy(wants[n_layers].sha256, chex, sizeof(chex));
                wants[n_layers].size = csize;
                snprintf(whats[n_layers + 1], sizeof(whats[0]), "the manifest");
                memcpy(wants[n_layers + 1].sha256, c->hex, sizeof(c->hex));
                wants[n_layers + 1].size = c->size;
        }
        for (i = 0; r == 0 && i < n_layers + 2; i++) {
                uint64_t have;
                snprintf(paths[i], sizeof(paths[i]), "blobs/sha256/%s", wants[i].sha256);
                wants[i].path = paths[i];
                wants[i].what = whats[i];
                /* Every blob is there before any is stored. */
                if ((r = import_source_stat(src, paths[i], &have, e)) == -ROOST_ENOTFOUND)
                        r = import_fail(e, -ROOST_EFORMAT, "%s: the manifest names %s (sha256:%.12s…), which is not in it",
                                            src->label, whats[i], wants[i].sha256);
        }
        if (r == 0)
                r = import_source_store(src, s, wants, n_layers + 2, e);
        /* The bytes matched their digests; the layers must also unpack to
         * what the config says they hold. */
        if (r == 0)
                r = import_check_diff_ids(s, src->label, config, layers, n_layers, e);
        free(paths);
        free(whats);
        if (r < 0)
                goto out;
        memcpy(ret->digest, c->hex, sizeof(ret->digest));
        ret->arch = arch;
        ret->n_layers = n_layers;
        if (c->sig && n_layers == 1)
                r = signature_read(src, c->sig, layers[0].digest, ret, e);
out:
        if (r < 0 && *ret_name) {
                free(*ret_name);
                free(*ret_tag);
                *ret_name = *ret_tag = NULL;
        }
        free(wants);
        free(layers);
        free(w.c);
        json_decref(m);
        json_decref(idx);
        json_decref(layout);
        return r;
}
