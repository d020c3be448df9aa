/* OCI distribution registries: the parts of the registry source that need
 * no network, each a pure function over text (tests/unit/test-registry.c):
 * docker's reference rules, the WWW-Authenticate challenge, the
 * credentials podman and docker keep, and the choice of a platform's
 * manifest from an index. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

/* ---- references: [REGISTRY/]REPOSITORY[:TAG][@sha256:HEX] ---- */

struct registry_ref {
        char *registry;   /* the host to talk to: "registry-1.docker.io", "127.0.0.1:5000" */
        char *repository; /* "library/alpine", "team/app" */
        char *tag;        /* "3.22", or "latest" when neither tag nor digest is given */
        char *digest;     /* "sha256:HEX", or NULL */
        char *name;       /* the store's name for it: "docker.io/library/alpine", "127.0.0.1:5000/team/app" */
};

/* Whether TEXT names a registry's image by docker's rule: its first
 * '/'-separated component holds a '.' or a ':', or is "localhost". A bare
 * "alpine" is the Alpine mirror's, not Docker Hub's. */
bool registry_ref_is_remote(const char *text);
/* Split TEXT. docker.io (and index.docker.io) is talked to as
 * registry-1.docker.io, and a one-component repository there gets
 * "library/", as docker does. -EINVAL for anything docker would refuse
 * (an invalid name, tag or digest, a digest not sha256). */
int registry_ref_parse(const char *text, struct registry_ref *ret);
void registry_ref_done(struct registry_ref *r);
/* IMAGE ("alpine:3.20", "docker.io/alpine:3.22") as the store names it:
 * *RET_NAME, and *RET_TAG or NULL when none is given. A registry's image
 * gets the registry's own name (docker.io/alpine is
 * docker.io/library/alpine). -ROOST_EUSAGE for anything else. */
int registry_image_name(const char *image, char **ret_name, char **ret_tag);

/* ---- a 401's challenge ---- */

enum registry_scheme {
        REGISTRY_AUTH_NONE = 0,
        REGISTRY_AUTH_BASIC,
        REGISTRY_AUTH_BEARER,
};

struct registry_challenge {
        enum registry_scheme scheme;
        char *realm, *service, *scope; /* each may be NULL */
};

/* Parse a WWW-Authenticate header's value (RFC 7235: a scheme, then
 * comma-separated key="value" pairs with quoted-pair escapes). An unknown
 * scheme is REGISTRY_AUTH_NONE; -EINVAL for what cannot be read. */
int registry_challenge_parse(const char *value, struct registry_challenge *ret);
void registry_challenge_done(struct registry_challenge *c);

/* ---- credentials, in the files podman and docker write ---- */

/* From here on, every block jansson frees is wiped first (secret_free):
 * auth.json and a token server's answer become jansson's strings, which
 * it would free as they are. Process-wide, for all of a program's JSON:
 * the tools that handle credentials call it before anything else. */
void registry_json_wipe_freed(void);

/* The name auth.json keeps REGISTRY's credentials under: HOST[:PORT],
 * from that or a URL (https://HOST[:PORT]/); Docker Hub's names are
 * "docker.io". -EINVAL for anything else (a repository's path). */
int registry_login_name(const char *text, char **ret);
/* Where roost login writes, as podman chooses: $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json, else
 * /run/containers/UID/auth.json. */
int registry_auth_file(char **ret);
/* docker's file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json;
 * -ENOENT when neither variable is set. */
int registry_docker_file(char **ret);
/* USER and PASS for REGISTRY from the auths of the file FILE (NULL: in
 * podman's order, the one registry_auth_file names, then, unless
 * $REGISTRY_AUTH_FILE is set, ${XDG_CONFIG_HOME:-~/.config}/containers/
 * auth.json and docker's): -ENOENT when none holds it. "docker.io" is also
 * found under docker's "https://index.docker.io/v1/". */
int registry_creds_lookup(const char *file, const char *registry, char **ret_user, char **ret_pass);
/* The credential helper ("docker-credential-NAME") the same files name
 * for REGISTRY in credHelpers, else in credsStore: roost runs none, but
 * says which one holds what it would need. -ENOENT when none does. */
int registry_creds_helper(const char *file, const char *registry, char **ret_helper);
/* 0 when FILE is missing or a JSON object registry_creds_store can add
 * to; -ROOST_EFORMAT when it is not, another -errno when it cannot be
 * read. */
int registry_creds_file_check(const char *file);
/* Write REGISTRY's USER and PASS into FILE's auths (base64 "user:pass"),
 * keeping what else it holds; made with mode 0600 in a folder made 0700,
 * replaced atomically. -EINVAL for a USER with a ':'. */
int registry_creds_store(const char *file, const char *registry, const char *user, const char *pass);
/* Remove REGISTRY from FILE's auths: -ENOENT when it had none. */
int registry_creds_remove(const char *file, const char *registry);
/* Empty FILE's auths, keeping its other keys: -ENOENT when it had none. */
int registry_creds_remove_all(const char *file);

/* ---- talking to a registry, no network here ---- */

/* HOST[:PORT] on a loopback address: 127.0.0.0/8, [::1] or localhost,
 * where docker too allows plain HTTP. */
bool registry_host_loopback(const char *registry);
/* "Authorization: Basic base64(USER:PASS)" into *RET, for the caller to
 * free with secret_freep. */
int registry_basic_header(const char *user, const char *pass, char **ret);
/* S with everything but RFC 3986's unreserved characters %XX-escaped;
 * NULL when out of memory. */
char *registry_query_escape(const char *s);
/* The token of a token server's answer BODY ({"token"}, else
 * {"access_token"}), a copy in *RET for the caller to free with
 * secret_freep; -ROOST_EFORMAT for none, or one that could not go in a
 * header. */
int registry_token_parse(const char *body, size_t n, char **ret);

/* ---- manifests ---- */

#define REGISTRY_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
/* What a pull asks for, most wanted first: an Accept header's value. */
#define REGISTRY_ACCEPT                                                                                      \
        STORE_MEDIA_INDEX ", " STORE_MEDIA_MANIFEST ", " REGISTRY_MEDIA_DOCKER_LIST ", "                     \
                STORE_MEDIA_DOCKER_MANIFEST

struct registry_desc {
        char *media_type;
        char hex[STORE_SHA256_HEX + 1];
        uint64_t size;
};

/* Whether the document JSON (whose Content-Type was MEDIA_TYPE, may be
 * NULL: its own mediaType decides) is an index (an OCI index or a docker
 * manifest list) rather than one image's manifest. -EINVAL when it is
 * neither, or not JSON. */
int registry_is_index(const char *json, size_t n, const char *media_type, bool *ret);
/* From the index JSON, the manifest of ARCH (Alpine's name, mapped to OCI's
 * platform: store_arch_to_platform) for linux. -ROOST_ENOTFOUND when the
 * index lists none; its platforms then go to *RET_LIST ("linux/amd64,
 * linux/arm64/v8"), which the caller frees. */
int registry_index_pick(const char *json, size_t n, const char *arch, struct registry_desc *ret, char **ret_list);
/* An image manifest's config and layers (bottom first). Layers must be
 * tar or tar+gzip (OCI's or docker's types); anything else (zstd, foreign
 * layers) is -EOPNOTSUPP; more than MAX layers -E2BIG. */
int registry_manifest_parse(const char *json, size_t n, size_t max, struct registry_desc *ret_config,
                            struct registry_desc **ret_layers, size_t *ret_n);
void registry_desc_free(struct registry_desc *d, size_t n);
