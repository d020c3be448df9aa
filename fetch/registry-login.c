/* roost login's check: whether a registry takes a user name and password,
 * by its /v2/ endpoint and the challenge it answers with, as docker and
 * podman check before they write anything; the challenge is answered by
 * fetch/registry-session.c, as pull's and push's are. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "fetch/fetch-private.h"
#include "fetch/registry-session.h"
#include "fetch/registry.h"

#define PING_MAX (64u << 10)

/* GET URL with the one header HEADER (may be NULL), its body thrown away. */
static int ping(fetch_http *h, const char *url, const char *header, roost_error *e)
{
        const char *hs[] = { header, NULL };
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        int r = fetch_http_set_headers(h, header ? hs : NULL, true);
        return r < 0 ? r : fetch_http_get_bytes(h, url, PING_MAX, &body, &len, e);
}

static int refused(const char *host, const char *user, const char *by, roost_error *e)
{
        return fetch_fail(e, -ROOST_EHTTP,
                          "%s%s refused the credentials of '%s' (a wrong user name or password)", host, by,
                          user);
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
         * that asks for nothing takes any credentials, as docker says. A
         * token is asked without a scope, as docker login asks. */
        struct registry_session s = { .registry = host, .account = user, .plain_http = o->plain_http };
        r = registry_session_set_creds(&s, user, pass);
        if (r == 0)
                r = ping(h, url, NULL, e);
        if (r == -ROOST_EHTTP && fetch_http_last(h)->status == 401) {
                r = registry_session_answer(&s, h, fetch_http_last(h)->www_authenticate, e);
                if (r < 0 && s.token_refused)
                        r = refused(host, user, "'s token server", e);
                else if (r == 0 && (r = ping(h, url, s.auth, e)) == -ROOST_EHTTP &&
                         fetch_http_last(h)->status == 401)
                        r = refused(host, user, "", e);
        }
        registry_session_done(&s);
        fetch_http_free(h);
        return r;
}
