/* The registry conversation pull, push and login's check share
 * (fetch/registry-session.h). */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "fetch/registry-session.h"
#include "fetch/registry.h"
#include "store/json.h"

#define TOKEN_MAX (1u << 20)

/* The start of a message: "WHAT: ", or nothing (login's check). */
#define LEAD(s) (s)->what ? (s)->what : "", (s)->what ? ": " : ""

void registry_session_done(struct registry_session *s)
{
        for (size_t i = 0; i < s->n_scopes; i++)
                free(s->scopes[i]);
        free(s->scopes);
        secret_freep(&s->user);
        secret_freep(&s->pass);
        secret_freep(&s->auth);
        s->scopes = NULL;
        s->n_scopes = 0;
        s->creds_looked_up = false;
}

int registry_session_add_scope(struct registry_session *s, const char *scope)
{
        for (size_t i = 0; i < s->n_scopes; i++)
                if (!strcmp(s->scopes[i], scope))
                        return 0;
        char **n = realloc(s->scopes, (s->n_scopes + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        s->scopes = n;
        if (!(s->scopes[s->n_scopes] = strdup(scope)))
                return -ENOMEM;
        s->n_scopes++;
        return 0;
}

int registry_session_set_creds(struct registry_session *s, const char *user, const char *pass)
{
        secret_freep(&s->user);
        secret_freep(&s->pass);
        s->creds_looked_up = true;
        if (!(s->user = strdup(user)) || !(s->pass = strdup(pass)))
                return -ENOMEM;
        return 0;
}

int registry_session_creds(struct registry_session *s, roost_error *e)
{
        if (s->creds_looked_up)
                return 0;
        s->creds_looked_up = true;
        const char *c = s->creds;
        if (c) {
                const char *colon = strchr(c, ':');
                if (!colon || colon == c)
                        return fetch_fail(e, -ROOST_EUSAGE, "--creds: give USER:PASSWORD");
                if (!(s->user = strndup(c, (size_t)(colon - c))) || !(s->pass = strdup(colon + 1)))
                        return -ENOMEM;
                return 0;
        }
        int r = registry_creds_lookup(s->authfile, s->registry, &s->user, &s->pass);
        if (r == -ROOST_EFORMAT)
                return fetch_fail(e, r, "the credentials for %s in auth.json cannot be read", s->registry);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EACCES)
                return roost_error_set(e, r, "reading the credentials for %s", s->registry);
        return 0;
}

const char *registry_session_hint(const struct registry_session *s, char *buf, size_t n)
{
        _cleanup_free_ char *helper = NULL;
        const char *name = s->name ? s->name : s->registry;
        int len = (int)strcspn(name, "/");
        if (registry_creds_helper(s->authfile, s->registry, &helper) == 0)
                snprintf(buf, n,
                         ": its credentials are kept by %s, a credential helper roost does not run; give "
                         "--creds USER:PASS, or roost login %.*s",
                         helper, len, name);
        else
                snprintf(buf, n, ": give --creds USER:PASS, or roost login %.*s", len, name);
        return buf;
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
static void error_text(const char *body, size_t len, char *text, size_t n, char *code, size_t code_n)
{
        text[0] = code[0] = 0;
        if (!body)
                return;
        _cleanup_json_ json_t *o = json_loadb(body, len, 0, NULL);
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

/* The token request's URL: the realm with the scopes, the account and the
 * service. None of it is secret: the password travels in the header
 * alone, and the user name only where the session's messages name it. */
static int token_url(const struct registry_session *s, const struct registry_challenge *c, char **ret)
{
        _cleanup_free_ char *fallback = NULL;
        const char *one = NULL;
        if (s->n_scopes == 0 && s->repository) {
                if (!c->scope && asprintf(&fallback, "repository:%s:pull", s->repository) < 0) {
                        fallback = NULL;
                        return -ENOMEM;
                }
                one = c->scope ? c->scope : fallback;
        }
        const char *const *scopes = one ? &one : (const char *const *)s->scopes;
        size_t n = one ? 1 : s->n_scopes;
        const char *keys[] = { "scope", "account", "service" };
        size_t len = strlen(c->realm) + 1;
        for (size_t i = 0; i < n; i++)
                len += 3 * strlen(scopes[i]) + 8;
        len += (s->account ? 3 * strlen(s->account) + 10 : 0) +
               (c->service ? 3 * strlen(c->service) + 10 : 0);
        _cleanup_free_ char *url = malloc(len);
        if (!url)
                return -ENOMEM;
        char *p = url + sprintf(url, "%s", c->realm);
        char sep = strchr(c->realm, '?') ? '&' : '?';
        for (size_t i = 0; i < n + 2; i++) {
                const char *v = i < n ? scopes[i] : i == n ? s->account : c->service;
                if (!v)
                        continue;
                _cleanup_free_ char *q = registry_query_escape(v);
                if (!q)
                        return -ENOMEM;
                p += sprintf(p, "%c%s=%s", sep, keys[i < n ? 0 : i - n + 1], q);
                sep = '&';
        }
        *ret = TAKE_PTR(url);
        return 0;
}

/* A Bearer challenge: a token from its realm (with Basic credentials when
 * there are any), sent from now on. */
static int bearer(struct registry_session *s, fetch_http *h, const struct registry_challenge *c,
                  roost_error *e)
{
        if (!c->realm || strncmp(c->realm, "https://", 8) != 0)
                return fetch_fail(e, -ROOST_EPROTO,
                                  "%s%s%s asks for a token from %s; only https:// is allowed", LEAD(s),
                                  s->registry, c->realm ? c->realm : "nowhere");
        _cleanup_free_ char *url = NULL, *body = NULL;
        _cleanup_(secret_freep) char *basic = NULL, *token = NULL;
        int r = token_url(s, c, &url);
        if (r < 0)
                return r;
        if (s->user && registry_basic_header(s->user, s->pass, &basic) < 0)
                return -ENOMEM;
        const char *hs[] = { basic, NULL };
        size_t len = 0;
        r = fetch_http_set_headers(h, basic ? hs : NULL, true);
        if (r == 0)
                r = fetch_http_get(h, url, TOKEN_MAX, &body, &len, e);
        /* The handle keeps no credentials past this request. */
        int k = fetch_http_set_headers(h, NULL, false);
        if (r == -ROOST_EHTTP || r == -ROOST_ENOTFOUND) {
                const struct fetch_http_response *l = fetch_http_last(h);
                char text[300], code[64], hint[300];
                error_text(l->error_body, l->error_len, text, sizeof(text), code, sizeof(code));
                if (!text[0]) /* the transport's "URL: HTTP 401", not formatted into itself */
                        snprintf(text, sizeof(text), "%.*s", (int)sizeof(text) - 1, e->msg);
                s->token_refused = l->status == 401 || l->status == 403;
                return fetch_fail(e, -ROOST_EHTTP, "%s%sthe token server of %s refused %s (%s)%s", LEAD(s),
                                  s->registry,
                                  s->user   ? "the credentials"
                                  : s->push ? "an anonymous push"
                                            : "an anonymous pull",
                                  text, s->user ? "" : registry_session_hint(s, hint, sizeof(hint)));
        }
        /* An answer that is no token is the server's failure (exit 4),
         * not a verification's. */
        if (r == -ROOST_ESIZE)
                return fetch_fail(e, -ROOST_EPROTO, "%s%sthe token server of %s gave no token (over %u bytes)",
                                  LEAD(s), s->registry, TOKEN_MAX);
        if (r < 0 || (r = k) < 0)
                return r;
        r = registry_token_parse(body, len, &token);
        explicit_bzero(body, len);
        if (r == -ROOST_EFORMAT)
                return fetch_fail(e, -ROOST_EPROTO, "%s%sthe token server of %s gave no token", LEAD(s),
                                  s->registry);
        if (r < 0)
                return r;
        secret_freep(&s->auth);
        return (s->auth = secret_concat("Authorization: Bearer ", token, "")) ? 0 : -ENOMEM;
}

int registry_session_answer(struct registry_session *s, fetch_http *h, const char *challenge, roost_error *e)
{
        _cleanup_(registry_challenge_done) struct registry_challenge c = { 0 };
        s->token_refused = false;
        if (!challenge || registry_challenge_parse(challenge, &c) < 0 || c.scheme == REGISTRY_AUTH_NONE)
                return fetch_fail(e, -ROOST_EHTTP, "%s%s%s asks for authentication roost cannot give (%s)",
                                  LEAD(s), s->registry, challenge ? "an unknown scheme" : "no challenge");
        if (s->plain_http)
                return fetch_fail(e, -ROOST_EHTTP,
                                  "%s%s%s asks for authentication, and no credential is ever sent over plain "
                                  "HTTP (--plain-http)",
                                  LEAD(s), s->registry);
        int r = registry_session_creds(s, e);
        if (r < 0)
                return r;
        if (c.scheme == REGISTRY_AUTH_BEARER)
                return bearer(s, h, &c, e);
        char hint[300];
        if (!s->user)
                return fetch_fail(e, -ROOST_EHTTP, "%s%s%s asks for a user name and password%s", LEAD(s),
                                  s->registry, registry_session_hint(s, hint, sizeof(hint)));
        secret_freep(&s->auth);
        return registry_basic_header(s->user, s->pass, &s->auth);
}

static bool among(const char *code, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(code, list[i]))
                        return true;
        return false;
}

int registry_session_failed(const struct registry_session *s, const char *what,
                            const struct registry_answer *a, int r, roost_error *e)
{
        /* A push's upload the registry found wrong: the store's bytes. */
        static const char *const verify[] = { "DIGEST_INVALID", "SIZE_INVALID", "MANIFEST_INVALID",
                                              "MANIFEST_BLOB_UNKNOWN", "BLOB_UNKNOWN" };
        static const char *const unknown[] = { "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN" };
        char text[300], code[64], hint[300];
        if (r < 0 && r != -ROOST_ENOTFOUND && r != -ROOST_EHTTP && r != -ROOST_ENETWORK)
                return r;
        error_text(a->body, a->body_len, text, sizeof(text), code, sizeof(code));
        if (!text[0]) {
                if (r < 0)
                        return r; /* the transport's message says what is known */
                /* A HEAD's refusal has no body to explain it. */
                snprintf(text, sizeof(text), "HTTP %ld%s", a->status,
                         a->status == 401   ? ", unauthorized"
                         : a->status == 403 ? ", denied"
                         : a->status == 404 ? ", not found"
                                            : "");
        }
        const char *reg = s->registry;
        if (s->push && among(code, verify, ELEMENTSOF(verify)))
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "%s: %s refused it (%s): the store's copy may be damaged (roost verify)",
                                  what, reg, text);
        if (among(code, unknown, ELEMENTSOF(unknown)))
                return fetch_fail(e, -ROOST_ENOTFOUND, "%s: not found on %s (%s)", what, reg, text);
        if (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED") || a->status == 401 || a->status == 403)
                return fetch_fail(e, -ROOST_EHTTP, "%s: %s refused access (%s)%s", what, reg, text,
                                  !s->user  ? registry_session_hint(s, hint, sizeof(hint))
                                  : s->push ? ": the credentials are not accepted, or allow no push there"
                                            : ": the credentials are not accepted");
        if (!strcmp(code, "TOOMANYREQUESTS") || a->status == 429) {
                char after[32] = "";
                if (a->retry_after) {
                        snprintf(after, sizeof(after), "%s", a->retry_after);
                        clean(after);
                }
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s asks to slow down (%s)%s%s%s", what, reg, text,
                                  a->retry_after ? "; retry after " : "", after, a->retry_after ? " s" : "");
        }
        if (r == 0)
                r = a->status >= 500 ? -ROOST_ENETWORK : -ROOST_EHTTP;
        return fetch_fail(e, r, "%s: %s answered %s", what, reg, text);
}
