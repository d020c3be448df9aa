/* References, challenges and manifests of OCI distribution registries
 * (fetch/registry.h): text in, checked parts out, no network. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/error.h"
#include "common/util.h"
#include "fetch/registry.h"
#include "store/json.h"
#include "store/store.h"

/* ---- references ---- */

static bool is_registry_host(const char *first, size_t len)
{
        return memchr(first, '.', len) || memchr(first, ':', len) || (len == 9 && !memcmp(first, "localhost", 9));
}

bool registry_ref_is_remote(const char *text)
{
        const char *slash = strchr(text, '/');
        return slash && is_registry_host(text, (size_t)(slash - text));
}

void registry_ref_done(struct registry_ref *r)
{
        free(r->registry);
        free(r->repository);
        free(r->tag);
        free(r->digest);
        free(r->name);
        memset(r, 0, sizeof(*r));
}

int registry_image_name(const char *image, char **ret_name, char **ret_tag)
{
        _cleanup_free_ char *name = NULL, *tag = NULL;
        int r = store_ref_parse(image, NULL, &name, &tag);
        if (r < 0)
                return r == -ENOMEM ? r : -ROOST_EUSAGE;
        if (store_ref_name_remote(name)) {
                struct registry_ref rr;
                if (registry_ref_parse(image, &rr) < 0)
                        return -ROOST_EUSAGE;
                free(name);
                name = strdup(rr.name);
                registry_ref_done(&rr);
                if (!name)
                        return -ENOMEM;
        }
        *ret_name = TAKE_PTR(name);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}

int registry_ref_parse(const char *text, struct registry_ref *ret)
{
        struct registry_ref r = { 0 };
        _cleanup_free_ char *s = strdup(text);
        if (!s)
                return -ENOMEM;
        char *at = strrchr(s, '@');
        if (at) {
                *at++ = 0;
                if (strncmp(at, "sha256:", 7) || !store_digest_valid(at + 7))
                        return -EINVAL;
        }
        char *slash = strrchr(s, '/'), *colon = strrchr(slash ? slash : s, ':');
        if (colon) {
                *colon++ = 0;
                if (!store_ref_tag_valid(colon))
                        return -EINVAL;
        }
        const char *first_slash = strchr(s, '/');
        const char *host = "docker.io", *repo = s;
        _cleanup_free_ char *host_copy = NULL;
        if (first_slash && is_registry_host(s, (size_t)(first_slash - s))) {
                if (!(host_copy = strndup(s, (size_t)(first_slash - s))))
                        return -ENOMEM;
                host = host_copy;
                repo = first_slash + 1;
        }
        bool hub = !strcmp(host, "docker.io") || !strcmp(host, "index.docker.io");
        int k = 0;
        if (hub)
                k = asprintf(&r.repository, "%s%s", strchr(repo, '/') ? "" : "library/", repo);
        else
                r.repository = strdup(repo);
        if (k < 0 || !r.repository)
                goto oom;
        if (asprintf(&r.name, "%s/%s", hub ? "docker.io" : host, r.repository) < 0) {
                r.name = NULL;
                goto oom;
        }
        if (!*repo || !store_ref_name_valid(r.name)) {
                registry_ref_done(&r);
                return -EINVAL;
        }
        if (!(r.registry = strdup(hub ? "registry-1.docker.io" : host)) ||
            !(r.tag = strdup(colon ? colon : "latest")) || (at && !(r.digest = strdup(at))))
                goto oom;
        *ret = r;
        return 0;
oom:
        registry_ref_done(&r);
        return -ENOMEM;
}

/* ---- challenges ---- */

void registry_challenge_done(struct registry_challenge *c)
{
        free(c->realm);
        free(c->service);
        free(c->scope);
        memset(c, 0, sizeof(*c));
}

/* One parameter value at *P: a quoted string (with quoted pairs) or a
 * token, up to the next comma. */
static char *param_value(const char **p)
{
        const char *s = *p;
        size_t n = 0;
        char *v = malloc(strlen(s) + 1);
        if (!v)
                return NULL;
        if (*s == '"') {
                for (s++; *s && *s != '"'; s++) {
                        if (*s == '\\' && s[1])
                                s++;
                        v[n++] = *s;
                }
                if (*s != '"') {
                        free(v);
                        return NULL;
                }
                s++;
        } else
                while (*s && *s != ',' && !isspace((unsigned char)*s))
                        v[n++] = *s++;
        v[n] = 0;
        *p = s;
        return v;
}

int registry_challenge_parse(const char *value, struct registry_challenge *ret)
{
        struct registry_challenge c = { 0 };
        const char *p = value;
        while (isspace((unsigned char)*p))
                p++;
        size_t len = strcspn(p, " \t");
        if (len == 6 && !strncasecmp(p, "bearer", 6))
                c.scheme = REGISTRY_AUTH_BEARER;
        else if (len == 5 && !strncasecmp(p, "basic", 5))
                c.scheme = REGISTRY_AUTH_BASIC;
        else if (len == 0)
                return -EINVAL;
        p += len;
        for (;;) {
                while (isspace((unsigned char)*p) || *p == ',')
                        p++;
                if (!*p)
                        break;
                size_t klen = strcspn(p, "= \t,");
                if (p[klen] != '=' || klen == 0) {
                        registry_challenge_done(&c);
                        return -EINVAL;
                }
                const char *key = p;
                p += klen + 1;
                char *v = param_value(&p);
                if (!v) {
                        registry_challenge_done(&c);
                        return -EINVAL;
                }
                char **slot = klen == 5 && !strncasecmp(key, "realm", 5)     ? &c.realm
                              : klen == 7 && !strncasecmp(key, "service", 7) ? &c.service
                              : klen == 5 && !strncasecmp(key, "scope", 5)   ? &c.scope
                                                                             : NULL;
                if (slot) {
                        free(*slot);
                        *slot = v;
                } else
                        free(v);
        }
        *ret = c;
        return 0;
}

/* ---- talking to a registry ---- */

bool registry_host_loopback(const char *registry)
{
        char host[256];
        const char *end = registry[0] == '[' ? strchr(registry, ']') : strchr(registry, ':');
        size_t n = end ? (size_t)(end - registry) + (registry[0] == '[') : strlen(registry);
        if (n >= sizeof(host))
                return false;
        memcpy(host, registry, n);
        host[n] = 0;
        struct in_addr a4;
        if (inet_pton(AF_INET, host, &a4) == 1)
                return (ntohl(a4.s_addr) >> 24) == 127;
        return !strcmp(host, "localhost") || !strcmp(host, "[::1]");
}

int registry_basic_header(const char *user, const char *pass, char **ret)
{
        _cleanup_(secret_freep) char *plain = secret_concat(user, ":", pass);
        if (!plain)
                return -ENOMEM;
        size_t n = strlen(plain);
        _cleanup_(secret_freep) char *b64 = malloc((n + 2) / 3 * 4 + 1);
        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)n);
        return (*ret = secret_concat("Authorization: Basic ", b64, "")) ? 0 : -ENOMEM;
}

char *registry_query_escape(const char *s)
{
        char *out = malloc(3 * strlen(s) + 1), *q = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
                        *q++ = (char)c;
                else
                        q += sprintf(q, "%%%02X", c);
        }
        *q = 0;
        return out;
}

int registry_token_parse(const char *body, size_t n, char **ret)
{
        _cleanup_json_ json_t *o = json_loadb(body, n, 0, NULL);
        const char *token = json_string_value(json_object_get(o, "token"));
        if (!token || !*token)
                token = json_string_value(json_object_get(o, "access_token"));
        if (!token || !*token || strpbrk(token, "\r\n"))
                return -ROOST_EFORMAT;
        return (*ret = strdup(token)) ? 0 : -ENOMEM;
}

/* ---- manifests ---- */

void registry_desc_free(struct registry_desc *d, size_t n)
{
        for (size_t i = 0; d && i < n; i++)
                free(d[i].media_type);
        free(d);
}

static int desc_read(json_t *o, struct registry_desc *ret)
{
        const char *type = json_string_value(json_object_get(o, "mediaType"));
        const char *digest = json_string_value(json_object_get(o, "digest"));
        json_t *size = json_object_get(o, "size");
        if (!type || !digest || strncmp(digest, "sha256:", 7) || !store_digest_valid(digest + 7) ||
            !json_is_integer(size) || json_integer_value(size) < 0)
                return -ROOST_EFORMAT;
        if (!(ret->media_type = strdup(type)))
                return -ENOMEM;
        memcpy(ret->hex, digest + 7, STORE_SHA256_HEX + 1);
        ret->size = (uint64_t)json_integer_value(size);
        return 0;
}

int registry_is_index(const char *json, size_t n, const char *media_type, bool *ret)
{
        _cleanup_json_ json_t *o = json_loadb(json, n, 0, NULL);
        if (!json_is_object(o))
                return -EINVAL;
        const char *own = json_string_value(json_object_get(o, "mediaType"));
        const char *t = own ? own : media_type;
        if (t && (!strcmp(t, STORE_MEDIA_INDEX) || !strcmp(t, REGISTRY_MEDIA_DOCKER_LIST)))
                *ret = true;
        else if (t && (!strcmp(t, STORE_MEDIA_MANIFEST) || !strcmp(t, STORE_MEDIA_DOCKER_MANIFEST)))
                *ret = false;
        else if (!t) /* OCI allows leaving mediaType out: what it holds decides */
                *ret = json_is_array(json_object_get(o, "manifests"));
        else
                return -EINVAL;
        return 0;
}

int registry_index_pick(const char *json, size_t n, const char *arch, struct registry_desc *ret, char **ret_list)
{
        const char *want_arch, *want_variant;
        if (store_arch_to_platform(arch, &want_arch, &want_variant) < 0)
                return -EINVAL;
        _cleanup_json_ json_t *o = json_loadb(json, n, 0, NULL);
        json_t *ms = json_object_get(o, "manifests"), *m;
        if (!json_is_array(ms))
                return -ROOST_EFORMAT;
        size_t i;
        char list[512] = "";
        size_t len = 0;
        json_array_foreach(ms, i, m) {
                json_t *p = json_object_get(m, "platform");
                const char *os = json_string_value(json_object_get(p, "os"));
                const char *a = json_string_value(json_object_get(p, "architecture"));
                const char *v = json_string_value(json_object_get(p, "variant"));
                if (!os || !a)
                        continue;
                if (len < sizeof(list)) {
                        int k = snprintf(list + len, sizeof(list) - len, "%s%s/%s%s%s", len ? ", " : "", os, a,
                                         v ? "/" : "", v ? v : "");
                        if (k > 0)
                                len += (size_t)k;
                }
                /* store_arch_from_platform applies the variant rules (arm64's
                 * v8 given or not, plain arm as v7). */
                const char *alpine = store_arch_from_platform(a, v);
                if (strcmp(os, "linux") || !alpine || strcmp(alpine, arch))
                        continue;
                return desc_read(m, ret);
        }
        if (ret_list && !(*ret_list = strdup(list)))
                return -ENOMEM;
        return -ROOST_ENOTFOUND;
}

static bool layer_type_ok(const char *t)
{
        return !strcmp(t, STORE_MEDIA_LAYER_GZIP) || !strcmp(t, STORE_MEDIA_LAYER_TAR) ||
               !strcmp(t, STORE_MEDIA_DOCKER_LAYER);
}

int registry_manifest_parse(const char *json, size_t n, size_t max, struct registry_desc *ret_config,
                            struct registry_desc **ret_layers, size_t *ret_n)
{
        _cleanup_json_ json_t *o = json_loadb(json, n, 0, NULL);
        json_t *ls = json_object_get(o, "layers"), *l;
        if (!json_is_object(o) || !json_is_array(ls))
                return -ROOST_EFORMAT;
        if (json_array_size(ls) > max)
                return -E2BIG;
        struct registry_desc config = { 0 }, *layers = calloc(json_array_size(ls) + 1, sizeof(*layers));
        if (!layers)
                return -ENOMEM;
        int r = desc_read(json_object_get(o, "config"), &config);
        size_t i;
        json_array_foreach(ls, i, l) {
                if (r < 0)
                        break;
                if ((r = desc_read(l, &layers[i])) == 0 && !layer_type_ok(layers[i].media_type))
                        r = -EOPNOTSUPP;
        }
        if (r < 0) {
                free(config.media_type);
                registry_desc_free(layers, json_array_size(ls));
                return r;
        }
        *ret_config = config;
        *ret_layers = layers;
        *ret_n = json_array_size(ls);
        return 0;
}
