/* Between push/'s files: the registry session (session.c) the job
 * (push.c) sends its requests through. */
#pragma once
#include <stdbool.h>
#include "fetch/http-send.h"
#include "fetch/registry-session.h"
#include "fetch/registry.h"
#include "push/push.h"

struct push_session {
        fetch_http *http;
        const struct push_options *o;
        struct registry_ref dest;
        char *base;                /* "https://HOST": the only place credentials go */
        char *what;                /* the destination as messages name it */
        struct registry_session s; /* the scopes (push on DEST, pull on mount sources), credentials */
        int retries;
        double delay;
        double max_time; /* --timeout: the longest pause a Retry-After gets */
};

/* DEST parsed, the transport set up (HTTPS unless --plain-http to a
 * loopback address). */
int push_session_open(struct push_session *g, const char *dest, const struct push_options *o, roost_error *e);
void push_session_close(struct push_session *g);
/* Ask tokens for pull on REPOSITORY too (a mount's source). */
int push_session_add_pull_scope(struct push_session *g, const char *repository);

/* Send S (its URL: a path below the registry's base, "/v2/...", or a
 * whole URL a Location gave) with the credentials: a 401 is answered once
 * (a token, or Basic), and when RETRY, what may pass (a broken connection,
 * 5xx, 429 with its Retry-After) is tried again, up to --retries. Any
 * response is 0, its status the caller's to judge. */
int push_session_send(struct push_session *g, struct fetch_send *s, bool retry, struct fetch_reply *ret,
                      roost_error *e);
/* One clear line for a response WHAT did not expect, from the registry's
 * error JSON where it sent one; the status to return. */
int push_session_failed(struct push_session *g, const char *what, const struct fetch_reply *r,
                        roost_error *e);
