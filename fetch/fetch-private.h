/* Shared between the fetch stage's own files and its unit tests; not part
 * of its public face. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "fetch/fetch.h"
#include "store/store.h"

/* ---- what the user asked for (resolve.c) ---- */

enum fetch_tag_kind {
        FETCH_TAG_BRANCH, /* "3.22": the newest 3.22.x */
        FETCH_TAG_EXACT,  /* "3.22.1", "3.22.0_rc1" */
        FETCH_TAG_EDGE,
        FETCH_TAG_LATEST, /* "latest-stable" */
};

struct fetch_tag {
        enum fetch_tag_kind kind;
        char dir[32];     /* the mirror's folder: "v3.22", "edge", "latest-stable" */
        char version[64]; /* FETCH_TAG_EXACT only */
};

/* -ROOST_EUSAGE for anything that is not a version, a branch, "edge" or
 * "latest-stable". A leading "v" is accepted ("v3.22"). */
int fetch_tag_parse(const char *tag, struct fetch_tag *ret);

/* "v3.20" as a folder name on the mirror. */
bool fetch_branch_valid(const char *s);

/* A file name the mirror may hand us: one path component, no dot-dot. */
bool fetch_file_name_valid(const char *s);

struct fetch_release {
        char *version;
        char *file;
        char *sha256;  /* NULL when the index publishes none (the .sha256 file then says) */
        char *sha512;  /* NULL when the index publishes none */
        uint64_t size; /* 0 when unknown */
        int64_t date;  /* the index's date and time of the release, UTC; 0 when it gives none */
};
void fetch_release_done(struct fetch_release *r);

/* Parse Alpine's latest-releases.yaml (TEXT, N bytes) and pick the
 * alpine-minirootfs entry for ARCH: the one whose version is WANT, or the
 * newest when WANT is NULL. -ROOST_EFORMAT (with the reason in E) when the
 * index does not parse or an entry we would use lacks a checked field,
 * -ROOST_ENOTFOUND when no entry matches. */
int fetch_index_pick(const char *text, size_t n, const char *arch, const char *want,
                     struct fetch_release *ret, roost_error *e);

/* Find FILE's digest in a sha256sum/sha512sum style checksum file: lines of
 * "HEX  NAME" (or "HEX *NAME"), or one bare HEX. HEXLEN is 64 or 128; OUT
 * receives HEXLEN+1 bytes, lowercased. -ROOST_EFORMAT when there is none. */
int fetch_sumfile_parse(const char *text, const char *file, size_t hexlen, char *out);

/* ---- transfers (http.c) ---- */

typedef struct fetch_http fetch_http;

struct fetch_http_config {
        const char *cacert;
        bool allow_file; /* the mirror is a file:// URL */
        bool allow_http; /* plain http:// too: a loopback registry with --plain-http */
        int retries;     /* as fetch_options */
        double timeout;
        void (*progress)(void *userdata, const char *step, uint64_t done, uint64_t total);
        void (*warn)(void *userdata, const char *msg);
        void *userdata;
};

int fetch_http_new(const struct fetch_http_config *c, fetch_http **ret, roost_error *e);
void fetch_http_free(fetch_http *h);

/* GET URL into memory (NUL-terminated), refusing more than MAX bytes.
 * -ROOST_ENOTFOUND for 404/410 or a missing file. */
int fetch_http_get(fetch_http *h, const char *url, size_t max, char **ret, size_t *ret_len, roost_error *e);

/* The same for a body that may be binary (a signature), not
 * NUL-terminated text. */
int fetch_http_get_bytes(fetch_http *h, const char *url, size_t max, char **ret, size_t *ret_len,
                         roost_error *e);

/* Download URL into B, resuming from store_blob_offset(B) with a range
 * request. SIZE is what the index announces (0: unknown, then a hard cap
 * applies); a longer body is cut off, a shorter one fails. STEP names the
 * transfer for progress reports. */
int fetch_http_download(fetch_http *h, const char *url, const char *step, store_blob *b, uint64_t size,
                        roost_error *e);

/* One download of a set (fetch_http_download_set). */
struct fetch_http_dl {
        const char *url;
        store_blob *blob;
        uint64_t size; /* as fetch_http_download's */
        /* How its one attempt went: 0, or the failure (as
         * fetch_http_download would return it) with its message, and the
         * HTTP status when there was one. */
        int r;
        roost_error e;
        long status;
};
/* Download the N into their blobs, at most MAX at once (HTTP/2 streams on
 * the one connection where the server offers it, else a connection each),
 * each from its blob's offset by range. One attempt each, no retries: a
 * failed one keeps its bytes in its blob, for fetch_http_download to resume
 * with its retries. STEP names the set in progress reports, which count the
 * bytes of all. Returns 0 (each one's outcome in it), or -ENOMEM. */
int fetch_http_download_set(fetch_http *h, struct fetch_http_dl *dls, size_t n, size_t max, const char *step);

/* A small request beside the next ones on the same connection (an HTTP/2
 * stream of its own): a tarball's signature, asked for with the tarball.
 * fetch_http_side_begin sends GET URL (at most MAX bytes, one attempt) and
 * returns 1, or 0 and sends nothing where the handle's last request found
 * no HTTP/2 (HTTP/1.1, file://): the caller then asks one after another.
 * FN is called once the request has ended, from within whichever
 * fetch_http call is running then (a download) or fetch_http_side_wait,
 * with 0 and the body (NUL-terminated; FN may take it, setting *BODY to
 * NULL) or the failure R and its message WHY, as fetch_http_get_bytes
 * would return it. Until then a download holds at most HOLD bytes past
 * where it started: it stops there, and once FN has run asks for the rest
 * by range. A negative return from FN (with E) ends the download running
 * then with it. fetch_http_side_wait drives the request to its end and
 * returns what FN returned; it must be called once for each request
 * begun, or fetch_http_side_cancel. */
typedef int (*fetch_http_side_fn)(void *userdata, int r, char **body, size_t len, const roost_error *why,
                                  roost_error *e);
int fetch_http_side_begin(fetch_http *h, const char *url, size_t max, uint64_t hold, fetch_http_side_fn fn,
                          void *userdata);
int fetch_http_side_wait(fetch_http *h, roost_error *e);
/* Drop the side request, its callback not called. */
void fetch_http_side_cancel(fetch_http *h);

/* What the last response said that a registry needs; NULL where the
 * response had no such header. Only kept while headers are set. */
struct fetch_http_response {
        long status;
        char *content_type;
        char *digest;           /* Docker-Content-Digest */
        char *www_authenticate; /* a 401's challenge */
        char *retry_after;      /* a 429's or 503's */
        char *error_body;       /* the body of a 4xx/5xx, at most FETCH_ERROR_BODY_MAX bytes */
        size_t error_len;
};
#define FETCH_ERROR_BODY_MAX 8192

/* Send HEADERS ("Accept: ...", "Authorization: ..."; NULL-terminated, may
 * be NULL: none) with every request from now on, and keep the body of an
 * error response when KEEP_ERROR_BODY. A redirect to another host never
 * carries Authorization (libcurl's rule, CURLOPT_UNRESTRICTED_AUTH off).
 * The headers may hold credentials: they are never put in a message. */
int fetch_http_set_headers(fetch_http *h, const char *const *headers, bool keep_error_body);
/* The last request's response headers (and error body): valid until the
 * next request. */
const struct fetch_http_response *fetch_http_last(const fetch_http *h);

/* Cap for bodies whose size no index announces. */
#define FETCH_MAX_UNKNOWN_SIZE (UINT64_C(1) << 30)

/* Set a message that already says everything (no strerror appended) and
 * evaluate to R. */
#define fetch_fail(e, r, ...) fetch_fail_((r), roost_error_set((e), 0, __VA_ARGS__))
static inline int fetch_fail_(int r, int ignored)
{
        (void)ignored;
        return r;
}

/* For fetch/http-send.c (requests with a body, for push): H's libcurl
 * handle (a CURL *) reset and set up for URL as every request of H is,
 * its callbacks the caller's to set; and one request's outcome (libcurl's
 * CURLcode, the HTTP status or 0) as a status and a message, as http.c
 * classifies its own, saying whether another attempt may help. */
void *fetch_http_prepare(fetch_http *h, const char *url);
/* A response header's VALUE (N bytes after its name, the line's end
 * included) trimmed into *SLOT, whatever it held freed. -ENOMEM. */
int fetch_http_keep_header(char **slot, const char *value, size_t n);
int fetch_http_classify(fetch_http *h, const char *url, int curl_code, long status, bool *ret_transient,
                        roost_error *e);
