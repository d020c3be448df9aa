/* A push's conversation with one registry: its base URL, the scopes a
 * token is asked for (push on the destination, pull on each repository a
 * blob is mounted from), the credentials (--creds, else auth.json or
 * docker's config.json, as pull finds them), a 401's challenge answered
 * once per request (Bearer or Basic), retries of what may pass, and the
 * registry's error JSON turned into one line. Credentials go only to the
 * registry's own base URL and the token realm, never over plain HTTP,
 * never into a message. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "common/util.h"
#include "push/push-private.h"
#include "store/json.h"

#define TOKEN_MAX (1u << 20)

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
        struct fetch_http_config c = { .cacert = o->cacert, .allow_http = o->plain_http, .retries = 0,
                                       .timeout = o->timeout, .warn = o->warn, .userdata = o->userdata };
        int r = fetch_http_new(&c, &g->http, e);
        if (r < 0)
                return r;
        _cleanup_free_ char *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull,push", g->dest.repository) < 0)
                return -ENOMEM;
        if (!(g->scopes = calloc(1, sizeof(char *))))
                return -ENOMEM;
        g->scopes[g->n_scopes++] = TAKE_PTR(scope);
        return 0;
}

void push_session_close(struct push_session *g)
{
        fetch_http_free(g->http);
        registry_ref_done(&g->dest);
        free(g->base);
        free(g->what);
        for (size_t i = 0; i < g->n_scopes; i++)
                free(g->scopes[i]);
        free(g->scopes);
        secret_freep(&g->user);
        secret_freep(&g->pass);
        secret_freep(&g->auth);
        *g = (struct push_session){ 0 };
}

int push_session_add_pull_scope(struct push_session *g, const char *repository)
{
        _cleanup_free_ char *scope = NULL;
        if (asprintf(&scope, "repository:%s:pull", repository) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_scopes; i++)
                if (!strcmp(g->scopes[i], scope))
                        return 0;
        char **n = realloc(g->scopes, (g->n_scopes + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        g->scopes = n;
        g->scopes[g->n_scopes++] = TAKE_PTR(scope);
        return 0;
}

/* Text from the server for a message: printable, bounded. */
static void clean(char *s)
{
        for (char *p = s; *p; p++)
                if (!isprint((unsigned char)*p))
                        *p = ' ';
}

/* {"errors":[{"code","message"}]}: "CODE: message" into TEXT, CODE alone
 * into CODE; both "" when the body says none. */
static void error_text(const struct fetch_reply *r, char *text, size_t n, char *code, size_t code_n)
{
        text[0] = code[0] = 0;
        if (!r->body)
                return;
        _cleanup_json_ json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
        json_t *first = json_array_get(json_object_get(o, "errors"), 0);
        const char *c = json_string_value(json_object_get(first, "code"));
        const char *m = json_string_value(json_object_get(first, "message"));
        if (!c)
                return;
        snprintf(code, code_n, "%s", c);
        snprintf(text, n, "%s%s%s", c, m ? ": " : "", m ? m : "");
        clean(code);
        clean(text);
}

int push_session_failed(struct push_session *g, const char *what, const struct fetch_reply *r, roost_error *e)
{
        static const char *const verify[] = { "DIGEST_INVALID", "SIZE_INVALID", "MANIFEST_INVALID",
                                              "MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN" };
        char text[300], code[64];
        error_text(r, text, sizeof(text), code, sizeof(code));
        const char *reg = g->dest.registry;
        /* A HEAD's refusal has no body to explain it. */
        if (!text[0])
                snprintf(text, sizeof(text), "HTTP %ld%s", r->status,
                         r->status == 401   ? ", unauthorized"
                         : r->status == 403 ? ", denied"
                         : r->status == 404 ? ", not found"
                                            : "");
        if (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED") || r->status == 401 || r->status == 403)
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s refused access (%s)%s", what, reg, text,
                                  g->user ? ": the credentials are not accepted, or allow no push there"
                                          : ": give --creds USER:PASS, or roost login");
        if (!strcmp(code, "TOOMANYREQUESTS") || r->status == 429)
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s asks to slow down (%s)%s%s%s", what, reg, text,
                                  r->retry_after ? "; retry after " : "", r->retry_after ? r->retry_after : "",
                                  r->retry_after ? " s" : "");
        if (!strcmp(code, "NAME_UNKNOWN"))
                return fetch_fail(e, -ROOST_ENOTFOUND, "%s: %s does not know the repository %s (%s)", what, reg,
                                  g->dest.repository, text);
        for (size_t i = 0; i < ELEMENTSOF(verify); i++)
                if (!strcmp(code, verify[i]))
                        return fetch_fail(e, -ROOST_EDIGEST,
                                          "%s: %s refused it (%s): the store's copy may be damaged "
                                          "(roost verify)",
                                          what, reg, text);
        return fetch_fail(e, r->status >= 500 ? -ROOST_ENETWORK : -ROOST_EHTTP, "%s: %s answered %s", what, reg,
                          text);
}

static int creds_get(struct push_session *g, roost_error *e)
{
        if (g->creds_looked_up)
                return 0;
        g->creds_looked_up = true;
        const char *c = g->o->creds;
        if (c) {
                const char *colon = strchr(c, ':');
                if (!colon || colon == c)
                        return fetch_fail(e, -ROOST_EUSAGE, "--creds: give USER:PASSWORD");
                if (!(g->user = strndup(c, (size_t)(colon - c))) || !(g->pass = strdup(colon + 1)))
                        return -ENOMEM;
                return 0;
        }
        int r = registry_creds_lookup(NULL, g->dest.registry, &g->user, &g->pass);
        if (r == -ROOST_EFORMAT)
                return fetch_fail(e, r, "the credentials for %s in auth.json cannot be read", g->dest.registry);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EACCES)
                return roost_error_set(e, r, "reading the credentials for %s", g->dest.registry);
        return 0;
}

/* A Bearer challenge: a token from its realm for every scope the push
 * needs (whatever scope the challenge named: a HEAD's asks for pull
 * alone), with Basic credentials when there are any. */
static int bearer(struct push_session *g, const struct registry_challenge *c, roost_error *e)
{
        if (!c->realm || strncmp(c->realm, "https://", 8) != 0)
                return fetch_fail(e, -ROOST_EPROTO, "%s: %s asks for a token from %s; only https:// is allowed",
                                  g->what, g->dest.registry, c->realm ? c->realm : "nowhere");
        size_t len = strlen(c->realm) + 16 + (c->service ? 3 * strlen(c->service) + 10 : 0);
        for (size_t i = 0; i < g->n_scopes; i++)
                len += 3 * strlen(g->scopes[i]) + 8;
        _cleanup_free_ char *url = malloc(len), *basic = NULL;
        if (!url)
                return -ENOMEM;
        char *p = url + sprintf(url, "%s", c->realm);
        char sep = strchr(c->realm, '?') ? '&' : '?';
        for (size_t i = 0; i < g->n_scopes; i++) {
                _cleanup_free_ char *q = registry_query_escape(g->scopes[i]);
                if (!q)
                        return -ENOMEM;
                p += sprintf(p, "%cscope=%s", sep, q);
                sep = '&';
        }
        if (c->service) {
                _cleanup_free_ char *q = registry_query_escape(c->service);
                if (!q)
                        return -ENOMEM;
                sprintf(p, "%cservice=%s", sep, q);
        }
        if (g->user && registry_basic_header(g->user, g->pass, &basic) < 0)
                return -ENOMEM;
        const char *h[] = { basic, NULL };
        struct fetch_send s = { .method = "GET", .url = url, .headers = h, .keep_body = TOKEN_MAX };
        struct fetch_reply rep;
        int r = fetch_http_send(g->http, &s, &rep, e);
        if (basic)
                explicit_bzero(basic, strlen(basic));
        if (r == 0 && rep.status != 200) {
                char text[300], code[64];
                error_text(&rep, text, sizeof(text), code, sizeof(code));
                r = fetch_fail(e, -ROOST_EHTTP, "%s: the token server of %s refused %s (%s)", g->what,
                               g->dest.registry, g->user ? "the credentials" : "an anonymous push",
                               text[0] ? text : "no reason given");
        }
        _cleanup_json_ json_t *o = r == 0 && rep.body ? json_loadb(rep.body, rep.body_len, 0, NULL) : NULL;
        const char *token = json_string_value(json_object_get(o, "token"));
        if (!token || !*token)
                token = json_string_value(json_object_get(o, "access_token"));
        if (r == 0 && (!token || !*token || strpbrk(token, "\r\n")))
                r = fetch_fail(e, -ROOST_EFORMAT, "%s: the token server of %s gave no token", g->what,
                               g->dest.registry);
        if (r == 0) {
                secret_freep(&g->auth);
                if (asprintf(&g->auth, "Authorization: Bearer %s", token) < 0) {
                        g->auth = NULL;
                        r = -ENOMEM;
                }
        }
        fetch_reply_done(&rep);
        return r;
}

/* R was a 401: answer its challenge. */
static int authenticate(struct push_session *g, const struct fetch_reply *rep, roost_error *e)
{
        _cleanup_(registry_challenge_done) struct registry_challenge c = { 0 };
        if (!rep->www_authenticate || registry_challenge_parse(rep->www_authenticate, &c) < 0 ||
            c.scheme == REGISTRY_AUTH_NONE)
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s asks for authentication roost cannot give (%s)",
                                  g->what, g->dest.registry,
                                  rep->www_authenticate ? "an unknown scheme" : "no challenge");
        if (g->o->plain_http)
                return fetch_fail(e, -ROOST_EHTTP,
                                  "%s: %s asks for authentication, and no credential is ever sent over plain "
                                  "HTTP (--plain-http)",
                                  g->what, g->dest.registry);
        int r = creds_get(g, e);
        if (r < 0)
                return r;
        if (c.scheme == REGISTRY_AUTH_BEARER)
                return bearer(g, &c, e);
        if (!g->user)
                return fetch_fail(e, -ROOST_EHTTP,
                                  "%s: %s asks for a user name and password: give --creds USER:PASS, or roost "
                                  "login",
                                  g->what, g->dest.registry);
        secret_freep(&g->auth);
        g->auth = NULL;
        return registry_basic_header(g->user, g->pass, &g->auth);
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
                if (ours && g->auth)
                        h[n++] = g->auth;
                h[n] = NULL;
                struct fetch_send one = *s;
                one.url = url;
                one.headers = h;
                int r = fetch_http_send(g->http, &one, ret, e);
                if (r == 0 && ret->status == 401 && ours && !answered && ret->www_authenticate) {
                        /* The first 401, or a token that expired: once per request. */
                        answered = true;
                        struct fetch_reply challenge = TAKE_STRUCT(*ret);
                        r = authenticate(g, &challenge, e);
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
                        if (end != ret->retry_after && !*end && ra >= 0 && ra <= 3600)
                                pause = ra;
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
