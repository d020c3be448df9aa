/* The transport's insides (http.c: one transfer and its retries;
 * http-multi.c: transfers side by side on the multi handle), shared by
 * its two files alone. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <curl/curl.h>
#include "common/error.h"
#include "fetch/fetch-private.h"

struct side;

struct fetch_http {
        CURLM *multi; /* its connection cache is what the transfers share */
        CURL *curl;   /* the transfer in the foreground */
        struct side *side;
        char *ca_blob; /* the system's anchors plus --cacert's, or NULL */
        size_t ca_len;
        bool allow_file, allow_http;
        long stall_seconds, stall_bytes;
        int retries;
        double delay, max_time;
        void (*progress)(void *userdata, const char *step, uint64_t done, uint64_t total);
        void (*warn)(void *userdata, const char *msg);
        void *userdata;
        /* What the next requests send beyond curl's own (a registry's
         * Accept and Authorization), and what the last response said. */
        struct curl_slist *headers;
        bool keep_error_body;
        struct fetch_http_response last;
};

/* One request's sink: memory (small files) or a store blob (the tarball). */
struct xfer {
        fetch_http *h;
        CURL *curl;
        struct fetch_http_response *last; /* where response headers go, or NULL */
        char errbuf[CURL_ERROR_SIZE];
        const char *step;
        bool checked; /* the status line was looked at */
        long code;
        int err; /* our own failure, raised from a callback */
        char *buf;
        size_t len, max;
        store_blob *blob;
        uint64_t start;  /* offset asked for with a range request */
        bool error_body; /* an error status's body goes to h->last.error_body */
        uint64_t limit;  /* most bytes the blob may hold */
        uint64_t hold;   /* most bytes the blob may hold while the side request runs */
        bool paused;     /* at the hold, until the side request is done */
        bool quiet;      /* one of a set, whose progress is reported as one */
        uint64_t last_report;
};

/* A small request beside the foreground's (fetch_http_side_begin). */
struct side {
        CURL *curl;
        struct xfer x;
        char *url;
        uint64_t hold;
        fetch_http_side_fn fn;
        void *userdata;
        bool done; /* and FN called */
        int r;     /* what FN returned */
        roost_error e;
};

/* Our own reason to stop the foreground transfer, never an errno value a
 * callback returns: the side request's callback failed. */
#define XFER_SIDE_BAD (-ROOST_EHTTP - 1001)

enum { PERMANENT, TRANSIENT };

/* The status line of X's response, looked at once: false when the body is
 * not to be taken (an error status, a refused range, too large). */
bool http_xfer_check(struct xfer *x);
/* X's handle readied for a GET of URL with the transport's rules. */
void http_setup(fetch_http *h, const char *url, struct xfer *x);
/* One attempt's outcome as a status, a message in E, and whether another
 * attempt may help (*KIND). */
int http_classify(fetch_http *h, const char *url, CURLcode cc, struct xfer *x, int *kind, roost_error *e);
/* One attempt of X's transfer on the multi handle, the side request
 * running beside it. */
CURLcode http_perform(fetch_http *h, struct xfer *x);
void http_side_free(fetch_http *h);
