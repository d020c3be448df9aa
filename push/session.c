/* A push's conversation with one registry: its base URL, the scopes a
 * token is asked for (push on the destination, pull on each repository a
 * blob is mounted from), a 401's challenge answered once per request,
 * retries of what may pass. The credentials, the challenge's answer and
 * the error JSON's line are fetch/registry-session.c's, as pull's are.
 * Credentials go only to the registry's own base URL and the token realm,
 * never over plain HTTP, never into a message. */
#include "config.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/util.h"
#include "push/push-private.h"

static double env_number(const char *name, double def, double min, double max)
{
        const char *v = getenv(name);
        char *end;
        if (!v || !*v)
                return def;
        double d = strtod(v, &end);
        return *end || !isfinite(d) || d < min || d > max ? def : d;
}

int push_session_open(struct push_session *g, const char *dest, const struct push_options *o, roost_error *e)
{
        *g = (struct push_session){ .o = o };
        if (registry_ref_parse(dest, &g->dest) < 0 || !registry_ref_is_remote(dest))
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "'%s' is not a registry's repository: give REGISTRY/REPOSITORY[:TAG]", dest);
        if (g->dest.digest)
                return fetch_fail(e, -ROOST_EUSAGE, "%s: push to a tag, not a digest", dest);
        if (o->creds && (!strchr(o->creds, ':') || o->creds[0] == ':'))
                return fetch_fail(e, -ROOST_EUSAGE, "--creds: give USER:PASSWORD");
        if (o->plain_http && !registry_host_loopback(g->dest.registry))
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "--plain-http: %s is not a loopback address; plain HTTP is refused for it",
                                  g->dest.registry);
        if (asprintf(&g->base, "%s://%s", o->plain_http ? "http" : "https", g->dest.registry) < 0 ||
            asprintf(&g->what, "%s:%s", g->dest.name, g->dest.tag) < 0) {
                g->base = g->what = NULL;
                return -ENOMEM;
        }
        g->retries = o->retries >= 0 ? o->retries : (int)env_number("ROOST_RETRIES", 5, 0, 100);
        g->delay = env_number("ROOST_RETRY_DELAY", 1, 0, 3600);
        g->max_time = o->timeout > 0 ? o->timeout : env_number("ROOST_RETRY_MAX_TIME", 300, 0, 86400);
        struct fetch_http_config c = { .cacert = o->cacert, .allow_http = o->plain_http, .retries = 0,
                                       .timeout = o->timeout, .warn = o->warn, .userdata = o->userdata };
        int r = fetch_http_new(&c, &g->http, e);
        if (r < 0)
                return r;
        g->s = (struct registry_session){ .registry = g->dest.registry,
                                          .name = g->dest.name,
                                          .what = g->what,
                                          .creds = o->creds,
                                          .plain_http = o->plain_http,
                                          .push = true };
        _cleanup_free_ char *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull,push", g->dest.repository) < 0) {
                scope = NULL;
                return -ENOMEM;
        }
        return registry_session_add_scope(&g->s, scope);
}

void push_session_close(struct push_session *g)
{
        fetch_http_free(g->http);
        registry_ref_done(&g->dest);
        free(g->base);
        free(g->what);
        registry_session_done(&g->s);
        *g = (struct push_session){ 0 };
}

int push_session_add_pull_scope(struct push_session *g, const char *repository)
{
        _cleanup_free_ char *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull", repository) < 0) {
                scope = NULL;
                return -ENOMEM;
        }
        return registry_session_add_scope(&g->s, scope);
}

int push_session_failed(struct push_session *g, const char *what, const struct fetch_reply *r, roost_error *e)
{
        struct registry_answer a = { r->status, r->body, r->body_len, r->retry_after };
        return registry_session_failed(&g->s, what, &a, 0, e);
}

static void pause_for(double seconds)
{
        struct timespec ts = { .tv_sec = (time_t)seconds,
                               .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int push_session_send(struct push_session *g, struct fetch_send *s, bool retry, struct fetch_reply *ret,
                      roost_error *e)
{
        _cleanup_free_ char *url = NULL;
        const char *path = s->url;
        if (path[0] == '/') {
                if (asprintf(&url, "%s%s", g->base, path) < 0)
                        return -ENOMEM;
        } else if (!(url = strdup(path)))
                return -ENOMEM;
        /* Credentials go to the registry itself alone: an upload sent to
         * another host by a Location gets none. */
        size_t nb = strlen(g->base);
        bool ours = !strncmp(url, g->base, nb) && (url[nb] == '/' || url[nb] == 0);
        const char *const *extra = s->headers;
        double delay = g->delay;
        bool answered = false;
        for (int failures = 0;;) {
                const char *h[16];
                size_t n = 0;
                for (size_t i = 0; extra && extra[i] && n < ELEMENTSOF(h) - 2; i++)
                        h[n++] = extra[i];
                if (ours && g->s.auth)
                        h[n++] = g->s.auth;
                h[n] = NULL;
                struct fetch_send one = *s;
                one.url = url;
                one.headers = h;
                int r = fetch_http_send(g->http, &one, ret, e);
                if (r == 0 && ret->status == 401 && ours && !answered && ret->www_authenticate) {
                        /* The first 401, or a token that expired: once per request. */
                        answered = true;
                        struct fetch_reply challenge = TAKE_STRUCT(*ret);
                        r = registry_session_answer(&g->s, g->http, challenge.www_authenticate, e);
                        fetch_reply_done(&challenge);
                        if (r < 0)
                                return r;
                        continue;
                }
                bool transient = r < 0 ? ret->transient
                                       : ret->status >= 500 || ret->status == 429 || ret->status == 408;
                if (!retry || !transient || failures >= g->retries)
                        return r;
                failures++;
                double pause = delay;
                if (r == 0 && ret->status == 429 && ret->retry_after) {
                        char *end;
                        double ra = strtod(ret->retry_after, &end);
                        if (end != ret->retry_after && !*end && ra >= 0 && isfinite(ra))
                                pause = ra < g->max_time ? ra : g->max_time;
                }
                if (g->o->warn) {
                        char line[sizeof(e->msg) + 64];
                        if (r == 0)
                                snprintf(line, sizeof(line), "%s %s: HTTP %ld; retry %d of %d in %.2g s",
                                         s->method, url, ret->status, failures, g->retries, pause);
                        else
                                snprintf(line, sizeof(line), "%s; retry %d of %d in %.2g s", e->msg, failures,
                                         g->retries, pause);
                        g->o->warn(g->o->userdata, line);
                }
                fetch_reply_done(ret);
                pause_for(pause);
                delay = delay * 2 > 30 ? 30 : delay * 2;
        }
}
