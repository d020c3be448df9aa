/* roost login's check: whether a registry takes a user name and password,
 * by its /v2/ endpoint and the challenge it answers with, as docker and
 * podman check before they write anything. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "fetch/fetch-private.h"
#include "fetch/registry.h"

#define PING_MAX  (64u << 10)
#define TOKEN_MAX (1u << 20)

/* GET URL with the one header HEADER (may be NULL); its body into
 * *RET_BODY when that is not NULL, else thrown away. */
static int ping(fetch_http *h, const char *url, const char *header, char **ret_body, size_t *ret_len,
                roost_error *e)
{
        const char *hs[] = { header, NULL };
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = fetch_http_set_headers(h, header ? hs : NULL, true);
        if (r < 0 || (r = fetch_http_get_bytes(h, url, ret_body ? TOKEN_MAX : PING_MAX, &body, &len, e)) < 0)
                return r;
        if (ret_body) {
                *ret_body = TAKE_PTR(body);
                *ret_len = len;
        }
        return 0;
}

static int refused(const char *host, const char *user, const char *by, roost_error *e)
{
        return fetch_fail(e, -ROOST_EHTTP,
                          "%s%s refused the credentials of '%s' (a wrong user name or password)", host, by,
                          user);
}

/* A Bearer challenge: a token from its realm for USER, without a scope
 * (docker login asks for none), then /v2/ again with it. */
static int bearer(fetch_http *h, const char *host, const char *url, const struct registry_challenge *c,
                  const char *basic, const char *user, roost_error *e)
{
        if (!c->realm || strncmp(c->realm, "https://", 8) != 0)
                return fetch_fail(e, -ROOST_EPROTO, "%s asks for a token from %s; only https:// is allowed",
                                  host, c->realm ? c->realm : "nowhere");
        _cleanup_free_ char *service = c->service ? registry_query_escape(c->service) : NULL;
        _cleanup_free_ char *account = registry_query_escape(user), *realm = NULL;
        if ((c->service && !service) || !account)
                return -ENOMEM;
        if (asprintf(&realm, "%s%saccount=%s%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?", account,
                     service ? "&service=" : "", service ? service : "") < 0) {
                realm = NULL;
                return -ENOMEM;
        }
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = ping(h, realm, basic, &body, &len, e);
        if (r == -ROOST_EHTTP && fetch_http_last(h)->status == 401)
                return refused(host, user, "'s token server", e);
        if (r < 0)
                return r;
        _cleanup_(secret_freep) char *token = NULL, *auth = NULL;
        r = registry_token_parse(body, len, &token);
        explicit_bzero(body, len);
        if (r < 0)
                return r == -ROOST_EFORMAT ? fetch_fail(e, r, "the token server of %s gave no token", host)
                                           : r;
        if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
                auth = NULL;
                return -ENOMEM;
        }
        if ((r = ping(h, url, auth, NULL, NULL, e)) == -ROOST_EHTTP && fetch_http_last(h)->status == 401)
                return refused(host, user, "", e);
        return r;
}

int fetch_login_check(const char *registry, const char *user, const char *pass, const struct fetch_options *o,
                      roost_error *e)
{
        /* Docker Hub's name in auth.json is docker.io; its API is elsewhere. */
        const char *host = !strcmp(registry, "docker.io") ? "registry-1.docker.io" : registry;
        if (o->plain_http && !registry_host_loopback(host))
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "--plain-http: %s is not a loopback address; other registries are reached "
                                  "over HTTPS only",
                                  host);
        struct fetch_http_config hc = {
                .cacert = o->cacert,
                .allow_http = o->plain_http,
                .retries = o->retries,
                .timeout = o->timeout,
                .warn = o->warn,
                .userdata = o->userdata,
        };
        fetch_http *h = NULL;
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s://%s/v2/", o->plain_http ? "http" : "https", host) < 0) {
                url = NULL;
                return -ENOMEM;
        }
        int r = fetch_http_new(&hc, &h, e);
        if (r < 0)
                return r;
        /* Anonymous first: the challenge says how to log in, and a registry
         * that asks for nothing takes any credentials, as docker says. */
        r = ping(h, url, NULL, NULL, NULL, e);
        const char *value = fetch_http_last(h)->www_authenticate;
        if (r == -ROOST_EHTTP && fetch_http_last(h)->status == 401) {
                _cleanup_(registry_challenge_done) struct registry_challenge c = { 0 };
                _cleanup_(secret_freep) char *basic = NULL;
                if (!value || registry_challenge_parse(value, &c) < 0 || c.scheme == REGISTRY_AUTH_NONE)
                        r = fetch_fail(e, -ROOST_EHTTP, "%s asks for authentication roost cannot give (%s)",
                                       host, value ? "an unknown scheme" : "no challenge");
                else if (o->plain_http)
                        r = fetch_fail(
                                e, -ROOST_EHTTP,
                                "%s asks for authentication, and no credential is ever sent over plain "
                                "HTTP (--plain-http)",
                                host);
                else if ((r = registry_basic_header(user, pass, &basic)) < 0)
                        ;
                else if (c.scheme == REGISTRY_AUTH_BEARER)
                        r = bearer(h, host, url, &c, basic, user, e);
                else if ((r = ping(h, url, basic, NULL, NULL, e)) == -ROOST_EHTTP &&
                         fetch_http_last(h)->status == 401)
                        r = refused(host, user, "", e);
        }
        fetch_http_free(h);
        return r;
}
