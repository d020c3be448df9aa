/* OCI distribution registries as a source (distribution API v2, over
 * HTTPS only): the manifest of REPOSITORY:TAG (or @sha256:HEX), the
 * platform's from an index, each checked against its digest; the config
 * and the layers as blobs, by SHA-256 alone. The registry's manifest and
 * config are stored byte for byte, so the image's id is the registry's
 * digest. Anonymous, Bearer-token and Basic authentication, and the
 * registry's refusals, are fetch/registry-session.c's, shared with push
 * and login's check. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "fetch/registry-session.h"
#include "fetch/registry.h"
#include "fetch/source.h"
#include "store/json.h"

#define MANIFEST_MAX (4u << 20) /* distribution's own limit for a manifest */
#define CONFIG_MAX   (8u << 20)
#define LAYERS_MAX   256

struct registry {
        struct registry_ref ref;
        char *base;                /* https://HOST/v2/REPOSITORY */
        char *what;                /* the image as messages name it: "127.0.0.1:5000/team/app:1" */
        struct registry_session s; /* the credentials, the Authorization header */
        char *manifest;
        size_t manifest_len;
        char manifest_hex[STORE_SHA256_HEX + 1];
        char *config;
        size_t config_len;
        struct registry_desc config_desc;
};

static void sha256_hex(const void *buf, size_t n, char out[STORE_SHA256_HEX + 1])
{
        unsigned char md[32];
        unsigned len = 0;
        EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL);
        for (unsigned i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A tag sha256-HEX is an image pinned by its digest (store_ref_parse). */
static const char *pinned_hex(const char *tag)
{
        return strncmp(tag, "sha256-", 7) == 0 && store_digest_valid(tag + 7) ? tag + 7 : NULL;
}

/* The headers of the next request: ACCEPT (may be NULL) and the
 * credentials found so far. */
static int set_headers(struct fetch_job *j, const char *accept)
{
        struct registry *g = j->data;
        _cleanup_free_ char *a = NULL;
        const char *h[3];
        size_t n = 0;
        if (accept) {
                if (asprintf(&a, "Accept: %s", accept) < 0) {
                        a = NULL;
                        return -ENOMEM;
                }
                h[n++] = a;
        }
        if (g->s.auth)
                h[n++] = g->s.auth;
        h[n] = NULL;
        return fetch_http_set_headers(j->http, h, true);
}

/* One clear line for a request that failed with R (E has the transport's
 * "URL: HTTP 404"), from the registry's own explanation where it gave one. */
static int registry_failed(struct fetch_job *j, const char *what, int r, roost_error *e)
{
        struct registry *g = j->data;
        const struct fetch_http_response *l = fetch_http_last(j->http);
        struct registry_answer a = { l->status, l->error_body, l->error_len, l->retry_after };
        return registry_session_failed(&g->s, what, &a, r, e);
}

/* The last response was a 401: answer its challenge. */
static int authenticate(struct fetch_job *j, roost_error *e)
{
        struct registry *g = j->data;
        return registry_session_answer(&g->s, j->http, fetch_http_last(j->http)->www_authenticate, e);
}

static bool unauthorized(struct fetch_job *j, int r)
{
        return r == -ROOST_EHTTP && fetch_http_last(j->http)->status == 401 &&
               fetch_http_last(j->http)->www_authenticate;
}

/* One request of the registry's: a GET into memory (at most MAX bytes
 * into *BODY and *LEN), or a blob into the store (SINK, SIZE bytes). */
struct request {
        const char *url, *accept, *what;
        size_t max;
        char **body;
        size_t *len;
        const char *step;
        store_blob *sink;
        uint64_t size;
};

/* Q with the headers of the moment; a 401 is answered once and Q sent
 * again (the first challenge, or a token that expired during a long
 * pull). A failure is one line naming Q's what. */
static int request(struct fetch_job *j, const struct request *q, roost_error *e)
{
        for (int attempt = 0;; attempt++) {
                int r = set_headers(j, q->accept);
                if (r < 0)
                        return r;
                r = q->sink ? fetch_http_download(j->http, q->url, q->step, q->sink, q->size, e)
                            : fetch_http_get_bytes(j->http, q->url, q->max, q->body, q->len, e);
                if (r == 0)
                        return 0;
                if (attempt == 0 && unauthorized(j, r)) {
                        if ((r = authenticate(j, e)) < 0)
                                return r;
                        continue;
                }
                /* A manifest or config refused with no credentials to
                 * give says how to give them; a blob's refusal is the
                 * session's line, with the same hint. */
                const struct registry_session *s = &((struct registry *)j->data)->s;
                if (!q->sink && r == -ROOST_EHTTP && fetch_http_last(j->http)->status == 401 && !s->creds &&
                    !s->user) {
                        char hint[300];
                        return fetch_fail(e, -ROOST_EHTTP, "%s: %s wants credentials%s", q->what, s->registry,
                                          registry_session_hint(s, hint, sizeof(hint)));
                }
                return registry_failed(j, q->what, r, e);
        }
}

/* GET URL into memory. */
static int get(struct fetch_job *j, const char *url, const char *accept, size_t max, const char *what,
               char **ret, size_t *ret_len, roost_error *e)
{
        struct request q = {
                .url = url, .accept = accept, .what = what, .max = max, .body = ret, .len = ret_len
        };
        return request(j, &q, e);
}

/* A manifest (or index) by REFERENCE (a tag, or sha256:HEX), checked
 * against WANT_HEX when given, else against the Docker-Content-Digest
 * the registry sends with it. Its own sha256 goes to RET_HEX. */
static int get_manifest(struct fetch_job *j, const char *reference, const char *want_hex, char **ret,
                        size_t *ret_len, char **ret_type, char ret_hex[STORE_SHA256_HEX + 1], roost_error *e)
{
        struct registry *g = j->data;
        _cleanup_free_ char *url = NULL, *body = NULL;
        size_t len = 0;
        if (asprintf(&url, "%s/manifests/%s", g->base, reference) < 0) {
                url = NULL;
                return -ENOMEM;
        }
        int r = get(j, url, REGISTRY_ACCEPT, MANIFEST_MAX, g->what, &body, &len, e);
        if (r < 0)
                return r;
        const struct fetch_http_response *l = fetch_http_last(j->http);
        sha256_hex(body, len, ret_hex);
        const char *said = l->digest;
        if (want_hex && strcmp(want_hex, ret_hex) != 0)
                return fetch_fail(
                        e, -ROOST_EDIGEST,
                        "verifying the manifest of %s: sha256 mismatch (expected %.16s…, got %.16s…)",
                        g->what, want_hex, ret_hex);
        if (!want_hex && said && (strncmp(said, "sha256:", 7) != 0 || strcmp(said + 7, ret_hex) != 0))
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying the manifest of %s: the registry says %.23s…, the bytes are "
                                  "sha256:%.16s…",
                                  g->what, said, ret_hex);
        if (ret_type && !(*ret_type = l->content_type ? strdup(l->content_type) : NULL) && l->content_type)
                return -ENOMEM;
        *ret = TAKE_PTR(body);
        *ret_len = len;
        return 0;
}

static bool registry_serves(const char *name)
{
        return store_ref_name_remote(name);
}

static int registry_begin(struct fetch_job *j, roost_error *e)
{
        struct registry *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        j->data = g;
        const char *hex = pinned_hex(j->tag);
        _cleanup_free_ char *text = NULL;
        if (!store_ref_tag_valid(j->tag))
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a valid tag", j->tag);
        if ((hex ? asprintf(&text, "%s@sha256:%s", j->name, hex)
                 : asprintf(&text, "%s:%s", j->name, j->tag)) < 0) {
                text = NULL;
                return -ENOMEM;
        }
        int r = registry_ref_parse(text, &g->ref);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || strcmp(g->ref.name, j->name) != 0)
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a registry reference roost can use%s%s",
                                  text, r < 0 ? "" : " (name it ", r < 0 ? "" : g->ref.name);
        if (j->o->plain_http && !registry_host_loopback(g->ref.registry))
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "--plain-http: %s is not a loopback address; other registries are reached "
                                  "over HTTPS only",
                                  g->ref.registry);
        j->allow_http = j->o->plain_http;
        if (asprintf(&g->base, "%s://%s/v2/%s", j->allow_http ? "http" : "https", g->ref.registry,
                     g->ref.repository) < 0) {
                g->base = NULL;
                return -ENOMEM;
        }
        g->what = TAKE_PTR(text);
        g->s = (struct registry_session){ .registry = g->ref.registry,
                                          .name = g->ref.name,
                                          .what = g->what,
                                          .repository = g->ref.repository,
                                          .creds = j->o->creds,
                                          .authfile = j->o->authfile,
                                          .plain_http = j->allow_http };
        return 0;
}

static int registry_resolve(struct fetch_job *j, roost_error *e)
{
        struct registry *g = j->data;
        _cleanup_free_ char *body = NULL, *type = NULL, *list = NULL, *digest_ref = NULL;
        size_t len = 0;
        char hex[STORE_SHA256_HEX + 1], what[300];
        const char *pinned = pinned_hex(j->tag);
        int r;
        snprintf(what, sizeof(what), "resolving %s (%s)", g->what, j->arch);
        fetch_job_step(j, what, 0, 0);
        if ((r = fetch_job_connect(j, false, e)) < 0)
                return r;
        if (pinned && asprintf(&digest_ref, "sha256:%s", pinned) < 0) {
                digest_ref = NULL;
                return -ENOMEM;
        }
        if ((r = get_manifest(j, pinned ? digest_ref : j->tag, pinned, &body, &len, &type, hex, e)) < 0)
                return r;
        bool index;
        if (registry_is_index(body, len, type, &index) < 0)
                return fetch_fail(e, -ROOST_EFORMAT,
                                  "%s: the registry's manifest is neither an image's nor an index (%s)",
                                  g->what, type ? type : "no media type");
        if (index) {
                struct registry_desc d = { 0 };
                r = registry_index_pick(body, len, j->arch, &d, &list);
                if (r == -ROOST_ENOTFOUND)
                        return fetch_fail(e, r, "%s has no image for %s (it has %s)", g->what, j->arch,
                                          list && *list ? list : "none");
                if (r < 0)
                        return fetch_fail(e, -ROOST_EFORMAT, "%s: the registry's index cannot be read",
                                          g->what);
                free(body);
                free(type);
                body = type = NULL;
                free(digest_ref);
                if (asprintf(&digest_ref, "sha256:%s", d.hex) < 0) {
                        digest_ref = NULL;
                        free(d.media_type);
                        return -ENOMEM;
                }
                free(d.media_type);
                char want[STORE_SHA256_HEX + 1];
                memcpy(want, d.hex, sizeof(want));
                if ((r = get_manifest(j, digest_ref, want, &body, &len, &type, hex, e)) < 0)
                        return r;
                bool again;
                if (registry_is_index(body, len, type, &again) < 0 || again)
                        return fetch_fail(e, -ROOST_EFORMAT,
                                          "%s: the index's entry for %s is not an image's manifest", g->what,
                                          j->arch);
        }
        struct registry_desc *layers = NULL;
        size_t n = 0;
        r = registry_manifest_parse(body, len, LAYERS_MAX, &g->config_desc, &layers, &n);
        if (r == -EOPNOTSUPP)
                return fetch_fail(
                        e, -ROOST_EFORMAT,
                        "%s: a layer is neither tar nor tar+gzip (zstd and foreign layers are not supported)",
                        g->what);
        if (r == -E2BIG)
                return fetch_fail(e, -ROOST_ELIMIT, "%s: more than %d layers", g->what, LAYERS_MAX);
        if (r < 0)
                return r == -ENOMEM ? r
                                    : fetch_fail(e, -ROOST_EFORMAT, "%s: the image's manifest cannot be read",
                                                 g->what);
        memcpy(g->manifest_hex, hex, sizeof(hex));
        g->manifest = TAKE_PTR(body);
        g->manifest_len = len;
        if (n == 0 || (r = fetch_image_layers(&j->image, n)) < 0) {
                registry_desc_free(layers, n);
                return n == 0 ? fetch_fail(e, -ROOST_EFORMAT, "%s: the image has no layers", g->what) : r;
        }
        for (size_t i = 0; i < n; i++) {
                struct fetch_desc *d = &j->image.layers[i];
                d->gzip = strcmp(layers[i].media_type, STORE_MEDIA_LAYER_TAR) != 0;
                d->size = layers[i].size;
                if (asprintf(&d->name, "%s layer %zu of %zu (sha256:%.12s)", g->ref.repository, i + 1, n,
                             layers[i].hex) < 0 ||
                    asprintf(&d->url, "%s/blobs/sha256:%s", g->base, layers[i].hex) < 0 ||
                    !(d->sha256 = strdup(layers[i].hex))) {
                        registry_desc_free(layers, n);
                        return -ENOMEM;
                }
        }
        registry_desc_free(layers, n);
        if (asprintf(&j->image.source, "%s/manifests/sha256:%s", g->base, g->manifest_hex) < 0) {
                j->image.source = NULL;
                return -ENOMEM;
        }

        /* The config, small: into memory, checked against its digest, and
         * for the architecture asked (a tag that names one image only). */
        _cleanup_free_ char *url = NULL;
        if (g->config_desc.size > CONFIG_MAX)
                return fetch_fail(e, -ROOST_ELIMIT, "%s: a config of %llu bytes is too large", g->what,
                                  (unsigned long long)g->config_desc.size);
        if (asprintf(&url, "%s/blobs/sha256:%s", g->base, g->config_desc.hex) < 0) {
                url = NULL;
                return -ENOMEM;
        }
        /* Stored already (another tag of the image, --refresh): the store
         * verified it when it was written. */
        r = store_blob_read(j->s, g->config_desc.hex, CONFIG_MAX, &g->config, &g->config_len);
        if (r < 0 && (r = get(j, url, NULL, CONFIG_MAX, g->what, &g->config, &g->config_len, e)) < 0)
                return r;
        sha256_hex(g->config, g->config_len, hex);
        if (strcmp(hex, g->config_desc.hex) != 0 || g->config_len != g->config_desc.size)
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying the config of %s: sha256 mismatch (expected %.16s…, got %.16s…)",
                                  g->what, g->config_desc.hex, hex);
        _cleanup_json_ json_t *cfg = json_loadb(g->config, g->config_len, 0, NULL);
        const char *a = json_string_value(json_object_get(cfg, "architecture"));
        const char *v = json_string_value(json_object_get(cfg, "variant"));
        const char *alpine = a ? store_arch_from_platform(a, v) : NULL;
        if (!json_is_object(cfg))
                return fetch_fail(e, -ROOST_EFORMAT, "%s: the image's config is not JSON", g->what);
        if (alpine && strcmp(alpine, j->arch) != 0)
                return fetch_fail(e, -ROOST_ENOTFOUND,
                                  "%s is an image for %s, not %s (choose it with --arch %s)", g->what, alpine,
                                  j->arch, alpine);
        return 0;
}

static int registry_fetch_blob(struct fetch_job *j, const struct fetch_desc *d, const char *step,
                               store_blob *sink, roost_error *e)
{
        struct request q = { .url = d->url, .what = d->name, .step = step, .sink = sink, .size = d->size };
        return request(j, &q, e);
}

static int registry_prepare_blobs(struct fetch_job *j, roost_error *e)
{
        (void)e;
        return set_headers(j, NULL);
}

/* The manifest and config as the registry sent them, after the layers:
 * each layer's diff_id (computed by the store as it arrived) must be the
 * one the config lists. */
static int registry_publish(struct fetch_job *j, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e)
{
        struct registry *g = j->data;
        _cleanup_json_ json_t *cfg = json_loadb(g->config, g->config_len, 0, NULL);
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        char hex[STORE_SHA256_HEX + 1];
        int r;
        if (!json_is_array(ids) || json_array_size(ids) != j->image.n_layers)
                return fetch_fail(e, -ROOST_EFORMAT, "%s: the config lists %zu diff_ids for %zu layers",
                                  g->what, json_array_size(ids), j->image.n_layers);
        for (size_t i = 0; i < j->image.n_layers; i++) {
                const struct fetch_desc *d = &j->image.layers[i];
                const char *want = json_string_value(json_array_get(ids, i));
                r = store_layer_diff_id(j->s, d->sha256, d->gzip, hex);
                if (r < 0) {
                        if (r == -ROOST_EFORMAT || r == -EIO)
                                return fetch_fail(e, -ROOST_EARCHIVE, "%s: not a whole gzip stream", d->name);
                        return roost_error_set(e, r, "storing %s", d->name);
                }
                if (!want || strncmp(want, "sha256:", 7) != 0 || strcmp(want + 7, hex) != 0)
                        return fetch_fail(
                                e, -ROOST_EDIGEST,
                                "verifying %s: its diff_id is sha256:%.16s…, the config says %.23s…", d->name,
                                hex, want ? want : "none");
        }
        if ((r = store_blob_put(j->s, g->config, g->config_len, hex)) < 0)
                return roost_error_set(e, r, "storing the config of %s", g->what);
        if ((r = store_blob_put(j->s, g->manifest, g->manifest_len, hex)) < 0)
                return roost_error_set(e, r, "storing the manifest of %s", g->what);
        memcpy(ret_digest, g->manifest_hex, STORE_SHA256_HEX + 1);
        return 0;
}

static void registry_done(struct fetch_job *j)
{
        struct registry *g = j->data;
        if (!g)
                return;
        registry_ref_done(&g->ref);
        free(g->base);
        free(g->what);
        registry_session_done(&g->s);
        free(g->manifest);
        free(g->config);
        free(g->config_desc.media_type);
        free(g);
        j->data = NULL;
}

const struct fetch_source fetch_source_registry = {
        .default_tag = "latest",
        .by_digest = true,
        .serves = registry_serves,
        .begin = registry_begin,
        .resolve = registry_resolve,
        .fetch_blob = registry_fetch_blob,
        .prepare_blobs = registry_prepare_blobs,
        .publish = registry_publish,
        .done = registry_done,
};
