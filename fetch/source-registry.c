/* OCI distribution registries as a source (distribution API v2, over
 * HTTPS only): the manifest of REPOSITORY:TAG (or @sha256:HEX), the
 * platform's from an index, each checked against its digest; the config
 * and the layers as blobs, by SHA-256 alone. The registry's manifest and
 * config are stored byte for byte, so the image's id is the registry's
 * digest. Anonymous, Bearer-token and Basic authentication; credentials
 * from --creds or the auth.json podman and docker keep, and never in a
 * message, a log line or the store. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "fetch/registry.h"
#include "fetch/source.h"
#include "store/json.h"

#define MANIFEST_MAX (4u << 20) /* distribution's own limit for a manifest */
#define CONFIG_MAX   (8u << 20)
#define TOKEN_MAX    (1u << 20)
#define LAYERS_MAX   256

struct registry {
        struct registry_ref ref;
        char *base;        /* https://HOST/v2/REPOSITORY */
        char *what;        /* the image as messages name it: "127.0.0.1:5000/team/app:1" */
        char *user, *pass; /* once looked up; never in a message */
        bool creds_looked_up;
        char *auth; /* the whole "Authorization: ..." header line, or NULL */
        char *manifest;
        size_t manifest_len;
        char manifest_hex[STORE_SHA256_HEX + 1];
        char *config;
        size_t config_len;
        struct registry_desc config_desc;
};

static void secret_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

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
        if (g->auth)
                h[n++] = g->auth;
        h[n] = NULL;
        return fetch_http_set_headers(j->http, h, true);
}

/* Text from the server for a message: printable, bounded. */
static void clean(char *s, size_t max)
{
        size_t n = 0;
        for (char *p = s; *p && n < max; p++)
                s[n++] = isprint((unsigned char)*p) ? *p : ' ';
        s[n] = 0;
}

/* The registry's explanation of a refusal, {"errors":[{"code","message"}]}:
 * "MANIFEST_UNKNOWN: manifest unknown", or "" when it gave none. */
static void error_text(const struct fetch_http_response *l, char *buf, size_t n, char *code, size_t code_n)
{
        buf[0] = code[0] = 0;
        if (!l->error_body)
                return;
        _cleanup_json_ json_t *o = json_loadb(l->error_body, l->error_len, 0, NULL);
        json_t *first = json_array_get(json_object_get(o, "errors"), 0);
        const char *c = json_string_value(json_object_get(first, "code"));
        const char *m = json_string_value(json_object_get(first, "message"));
        if (!c)
                return;
        snprintf(code, code_n, "%s", c);
        clean(code, code_n - 1);
        snprintf(buf, n, "%s%s%s", code, m ? ": " : "", m ? m : "");
        clean(buf, n - 1);
}

/* What to do when REGISTRY wants credentials none gave: said in one line
 * that names the credential helper docker's or podman's file wants for it,
 * which roost does not run. */
static const char *creds_hint(struct fetch_job *j, char *buf, size_t n)
{
        struct registry *g = j->data;
        _cleanup_free_ char *helper = NULL;
        int len = (int)strcspn(g->ref.name, "/");
        if (registry_creds_helper(j->o->authfile, g->ref.registry, &helper) == 0)
                snprintf(buf, n,
                         ": its credentials are kept by %s, a credential helper roost does not run; give "
                         "--creds USER:PASS, or roost login %.*s",
                         helper, len, g->ref.name);
        else
                snprintf(buf, n, ": give --creds USER:PASS, or roost login %.*s", len, g->ref.name);
        return buf;
}

/* One clear line for a request that failed with R (E has the transport's
 * "URL: HTTP 404"), from the registry's own explanation where it gave one. */
static int registry_failed(struct fetch_job *j, const char *what, int r, roost_error *e)
{
        struct registry *g = j->data;
        const struct fetch_http_response *l = fetch_http_last(j->http);
        char text[300], code[64], hint[300];
        if (r != -ROOST_ENOTFOUND && r != -ROOST_EHTTP && r != -ROOST_ENETWORK)
                return r;
        error_text(l, text, sizeof(text), code, sizeof(code));
        if (!text[0])
                return r; /* the transport's message says what is known */
        if (!strcmp(code, "MANIFEST_UNKNOWN") || !strcmp(code, "NAME_UNKNOWN") ||
            !strcmp(code, "BLOB_UNKNOWN"))
                return fetch_fail(e, -ROOST_ENOTFOUND, "%s: not found on %s (%s)", what, g->ref.registry,
                                  text);
        if (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED"))
                return fetch_fail(
                        e, -ROOST_EHTTP, "%s: %s refused access (%s)%s", what, g->ref.registry, text,
                        g->user ? ": the credentials are not accepted" : creds_hint(j, hint, sizeof(hint)));
        if (!strcmp(code, "TOOMANYREQUESTS"))
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s asks to slow down (%s)%s%s%s", what,
                                  g->ref.registry, text, l->retry_after ? "; retry after " : "",
                                  l->retry_after ? l->retry_after : "", l->retry_after ? " s" : "");
        return fetch_fail(e, r, "%s: %s answered %s", what, g->ref.registry, text);
}

static int creds_get(struct fetch_job *j, roost_error *e)
{
        struct registry *g = j->data;
        if (g->creds_looked_up)
                return 0;
        g->creds_looked_up = true;
        const char *c = j->o->creds;
        if (c) {
                const char *colon = strchr(c, ':');
                if (!colon || colon == c)
                        return fetch_fail(e, -ROOST_EUSAGE, "--creds: give USER:PASSWORD");
                if (!(g->user = strndup(c, (size_t)(colon - c))) || !(g->pass = strdup(colon + 1)))
                        return -ENOMEM;
                return 0;
        }
        int r = registry_creds_lookup(j->o->authfile, g->ref.registry, &g->user, &g->pass);
        if (r == -ROOST_EFORMAT)
                return fetch_fail(e, r, "the credentials for %s in auth.json cannot be read",
                                  g->ref.registry);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EACCES)
                return roost_error_set(e, r, "reading the credentials for %s", g->ref.registry);
        return 0;
}

/* A Bearer challenge: ask its realm for a token (with Basic credentials
 * when there are any), and send that from now on. */
static int bearer(struct fetch_job *j, const struct registry_challenge *c, roost_error *e)
{
        struct registry *g = j->data;
        if (!c->realm || strncmp(c->realm, "https://", 8) != 0)
                return fetch_fail(e, -ROOST_EPROTO,
                                  "%s: %s asks for a token from %s; only https:// is allowed", g->what,
                                  g->ref.registry, c->realm ? c->realm : "nowhere");
        _cleanup_free_ char *scope_default = NULL, *service = NULL, *scope = NULL, *url = NULL, *body = NULL;
        if (asprintf(&scope_default, "repository:%s:pull", g->ref.repository) < 0) {
                scope_default = NULL;
                return -ENOMEM;
        }
        if (!(scope = registry_query_escape(c->scope ? c->scope : scope_default)) ||
            (c->service && !(service = registry_query_escape(c->service))))
                return -ENOMEM;
        if (asprintf(&url, "%s%sscope=%s%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?", scope,
                     service ? "&service=" : "", service ? service : "") < 0) {
                url = NULL;
                return -ENOMEM;
        }
        _cleanup_free_ char *basic = NULL;
        if (g->user && registry_basic_header(g->user, g->pass, &basic) < 0)
                return -ENOMEM;
        const char *h[] = { basic, NULL };
        int r = fetch_http_set_headers(j->http, basic ? h : NULL, true);
        size_t len = 0;
        if (basic)
                explicit_bzero(basic, strlen(basic));
        /* The realm's URL holds no secret: the credentials travel in the
         * header, and only the URL reaches a message. */
        if (r < 0 || (r = fetch_http_get(j->http, url, TOKEN_MAX, &body, &len, e)) < 0) {
                if (r == -ROOST_EHTTP || r == -ROOST_ENOTFOUND) {
                        char text[300], code[64], hint[300];
                        error_text(fetch_http_last(j->http), text, sizeof(text), code, sizeof(code));
                        return fetch_fail(
                                e, -ROOST_EHTTP, "%s: the token server of %s refused %s (%s)%s", g->what,
                                g->ref.registry, g->user ? "the credentials" : "an anonymous pull",
                                text[0] ? text : e->msg, g->user ? "" : creds_hint(j, hint, sizeof(hint)));
                }
                return r;
        }
        _cleanup_(secret_freep) char *token = NULL;
        r = registry_token_parse(body, len, &token);
        explicit_bzero(body, len);
        if (r == -ROOST_EFORMAT)
                return fetch_fail(e, r, "%s: the token server of %s gave no token", g->what, g->ref.registry);
        if (r < 0)
                return r;
        secret_free(g->auth);
        r = asprintf(&g->auth, "Authorization: Bearer %s", token);
        if (r < 0) {
                g->auth = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* The last response was a 401: answer its challenge. */
static int authenticate(struct fetch_job *j, roost_error *e)
{
        struct registry *g = j->data;
        const char *value = fetch_http_last(j->http)->www_authenticate;
        _cleanup_(registry_challenge_done) struct registry_challenge c = { 0 };
        if (!value || registry_challenge_parse(value, &c) < 0 || c.scheme == REGISTRY_AUTH_NONE)
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s asks for authentication roost cannot give (%s)",
                                  g->what, g->ref.registry, value ? "an unknown scheme" : "no challenge");
        if (j->allow_http)
                return fetch_fail(e, -ROOST_EHTTP,
                                  "%s: %s asks for authentication, and no credential is ever sent over plain "
                                  "HTTP (--plain-http)",
                                  g->what, g->ref.registry);
        int r = creds_get(j, e);
        if (r < 0)
                return r;
        if (c.scheme == REGISTRY_AUTH_BEARER)
                return bearer(j, &c, e);
        char hint[300];
        if (!g->user)
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s asks for a user name and password%s", g->what,
                                  g->ref.registry, creds_hint(j, hint, sizeof(hint)));
        secret_free(g->auth);
        g->auth = NULL;
        return registry_basic_header(g->user, g->pass, &g->auth);
}

static bool unauthorized(struct fetch_job *j, int r)
{
        return r == -ROOST_EHTTP && fetch_http_last(j->http)->status == 401 &&
               fetch_http_last(j->http)->www_authenticate;
}

/* GET URL into memory, answering one challenge. */
static int get(struct fetch_job *j, const char *url, const char *accept, size_t max, const char *what,
               char **ret, size_t *ret_len, roost_error *e)
{
        for (int attempt = 0;; attempt++) {
                int r = set_headers(j, accept);
                if (r < 0)
                        return r;
                r = fetch_http_get_bytes(j->http, url, max, ret, ret_len, e);
                if (r == 0)
                        return 0;
                if (attempt == 0 && unauthorized(j, r)) {
                        if ((r = authenticate(j, e)) < 0)
                                return r;
                        continue;
                }
                if (r == -ROOST_EHTTP && fetch_http_last(j->http)->status == 401 && !j->o->creds &&
                    !((struct registry *)j->data)->user) {
                        char hint[300];
                        return fetch_fail(e, -ROOST_EHTTP, "%s: %s wants credentials%s", what,
                                          ((struct registry *)j->data)->ref.registry,
                                          creds_hint(j, hint, sizeof(hint)));
                }
                return registry_failed(j, what, r, e);
        }
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
        for (int attempt = 0;; attempt++) {
                int r = set_headers(j, NULL);
                if (r < 0)
                        return r;
                r = fetch_http_download(j->http, d->url, step, sink, d->size, e);
                if (r == 0)
                        return 0;
                /* A token may expire during a long pull: ask again once. */
                if (attempt == 0 && unauthorized(j, r)) {
                        if ((r = authenticate(j, e)) < 0)
                                return r;
                        continue;
                }
                return registry_failed(j, d->name, r, e);
        }
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
        secret_free(g->user);
        secret_free(g->pass);
        secret_free(g->auth);
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
