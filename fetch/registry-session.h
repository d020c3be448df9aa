/* A registry's conversation, the part pull (fetch/source-registry.c),
 * push (push/session.c) and login's check (fetch/registry-login.c) share:
 * the credentials looked up once, a 401's challenge answered (Basic, or a
 * Bearer token from its realm), and a refusal turned into one line with
 * its exit code. The caller owns the transport and sends its own requests
 * with the Authorization header kept here. Credentials go only into that
 * header and the token request's: never into a message, a URL or the
 * store. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "fetch/fetch-private.h"

struct registry_session {
        /* Set by the caller, borrowed for the session's life. */
        const char *registry;   /* HOST[:PORT] talked to */
        const char *name;       /* an image's store name: its first component is what roost login
                                 * names (docker.io); NULL for login */
        const char *what;       /* what messages begin with ("HOST/team/app:1"), or NULL */
        const char *repository; /* a pull's: the token's scope is the challenge's, else pull on it */
        const char *creds;      /* --creds USER:PASS, or NULL */
        const char *authfile;   /* where the credentials are, NULL: podman's files, then docker's */
        const char *account;    /* sent to the token server as account= (login's check, whose
                                 * messages name the user anyway), or NULL */
        bool plain_http;        /* no credential is sent at all */
        bool push;              /* refusals are a push's */
        /* Kept here. */
        char **scopes; /* a push's: what every token is asked for, whatever the challenge names */
        size_t n_scopes;
        char *user, *pass; /* once looked up; wiped with secret_freep */
        bool creds_looked_up;
        char *auth;         /* the whole "Authorization: ..." line to send, or NULL */
        bool token_refused; /* the last answer failed as the token server refused the credentials */
};

/* Wipe and free what the session keeps. */
void registry_session_done(struct registry_session *s);
/* Ask every token for SCOPE too ("repository:team/app:pull"), once. */
int registry_session_add_scope(struct registry_session *s, const char *scope);
/* The credentials, given (login's check): copies, looked up no more. */
int registry_session_set_creds(struct registry_session *s, const char *user, const char *pass);
/* The credentials, once: --creds, else those auth.json or docker's
 * config.json keep for the registry (none is no error). */
int registry_session_creds(struct registry_session *s, roost_error *e);
/* A 401 came with the challenge CHALLENGE (its WWW-Authenticate, may be
 * NULL): set s->auth for the next request, a Basic header or a Bearer
 * token fetched from the realm (https:// only) over H. The token's request
 * carries its own headers: H's are cleared after it. */
int registry_session_answer(struct registry_session *s, fetch_http *h, const char *challenge, roost_error *e);
/* What to do when the registry wants credentials none gave, as ": give
 * --creds USER:PASS, or roost login HOST", naming the credential helper
 * docker's or podman's file keeps them in (roost runs none). */
const char *registry_session_hint(const struct registry_session *s, char *buf, size_t n);

/* A response the caller did not expect: its status, its body (the
 * registry's {"errors":[{"code","message"}]}, may be NULL) and Retry-After. */
struct registry_answer {
        long status;
        const char *body;
        size_t body_len;
        const char *retry_after;
};
/* One line for A into E, WHAT naming the request, and the status to
 * return (docs/pull.md, Registries). R is the transport's verdict with
 * its own message in E, or 0 when a response came that the caller judged
 * a failure; a transport's message stands when the registry explained
 * nothing. */
int registry_session_failed(const struct registry_session *s, const char *what,
                            const struct registry_answer *a, int r, roost_error *e);
