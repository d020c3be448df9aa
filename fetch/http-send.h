/* Requests with a body, and any method: what a push to a registry sends
 * (HEAD, POST, PUT, PATCH), over the same transport as pull's requests
 * (fetch/http.c: HTTPS only, the same trust anchors, stall limits and
 * redirect rules). One attempt per call: the caller knows whether a
 * request may be sent again (an upload session may not survive it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "fetch/fetch-private.h"

struct fetch_send {
        const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH" */
        const char *url;
        /* "Name: value" lines (NULL-terminated, may be NULL), sent as
         * they are; they may hold credentials, which no message names. */
        const char *const *headers;
        /* The body: LEN bytes of BUF, or with USE_FD, LEN bytes of FD from
         * OFFSET, read with pread as they go (never whole in memory). No
         * body when neither is set. */
        const void *buf;
        bool use_fd;
        int fd;
        uint64_t offset, len;
        /* Keep at most this many bytes of the response's body (an error's
         * JSON, a token); 0: FETCH_ERROR_BODY_MAX. */
        size_t keep_body;
        /* Reported as the body goes, when not NULL. */
        void (*progress)(void *userdata, uint64_t done, uint64_t total);
        void *userdata;
};

struct fetch_reply {
        long status;
        char *location, *digest, *www_authenticate, *retry_after, *range;
        char *body; /* NUL-terminated, at most keep_body bytes; may be NULL */
        size_t body_len;
        bool transient; /* a transport failure another attempt may pass */
};
void fetch_reply_done(struct fetch_reply *r);

/* Send S and fill *RET (fetch_reply_done it, whatever the result) with
 * the response: 0 whatever the status, which is the caller's to judge;
 * negative with E set when no response came (connection, TLS, a stall),
 * RET->transient saying whether another attempt may help. A 3xx is
 * followed (over https only, without Authorization to another host) for
 * GET and HEAD alone. */
int fetch_http_send(fetch_http *h, const struct fetch_send *s, struct fetch_reply *ret, roost_error *e);
