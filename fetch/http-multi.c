/* Transfers side by side on the transport's multi handle: the side
 * request (a signature beside its tarball) and a set of downloads (an
 * image's layers), HTTP/2 streams of one connection where the server
 * offers it (docs/pull.md, "Round trips" and "Registries"). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "common/util.h"
#include "fetch/http-private.h"

/* The side request ended: its outcome to its callback, at once (the
 * foreground's bytes may be waiting for it). */
static void side_finish(fetch_http *h, CURLcode cc)
{
        struct side *sd = h->side;
        roost_error why = { "" };
        int kind;
        curl_multi_remove_handle(h->multi, sd->curl);
        if (!sd->x.checked && (cc == CURLE_OK || cc == CURLE_WRITE_ERROR))
                http_xfer_check(&sd->x);
        int r = http_classify(h, sd->url, cc, &sd->x, &kind, &why);
        char *body = r == 0 ? sd->x.buf : NULL;
        if (body)
                body[sd->x.len] = 0;
        sd->e.msg[0] = 0;
        sd->r = sd->fn(sd->userdata, r, &body, sd->x.len, &why, &sd->e);
        if (r == 0 && !body) /* taken by the callback */
                sd->x.buf = NULL;
        sd->done = true;
}

/* Run the transfers until X's is done (X NULL: the side request's), and
 * finish the side request on the way when it ends first. A side request
 * whose callback fails stops X's transfer with XFER_SIDE_BAD. */
static CURLcode drive(fetch_http *h, struct xfer *x)
{
        for (;;) {
                int running, queued;
                if (curl_multi_perform(h->multi, &running) != CURLM_OK)
                        return CURLE_OUT_OF_MEMORY;
                CURLMsg *m;
                while ((m = curl_multi_info_read(h->multi, &queued))) {
                        if (m->msg != CURLMSG_DONE)
                                continue;
                        if (x && m->easy_handle == x->curl)
                                return m->data.result;
                        if (!h->side || h->side->done || m->easy_handle != h->side->curl)
                                continue;
                        side_finish(h, m->data.result);
                        if (!x)
                                return CURLE_OK;
                        if (h->side->r < 0) {
                                x->err = XFER_SIDE_BAD;
                                return CURLE_ABORTED_BY_CALLBACK;
                        }
                        if (x->paused) {
                                x->paused = false;
                                curl_easy_pause(x->curl, CURLPAUSE_CONT);
                        }
                }
                if (curl_multi_poll(h->multi, NULL, 0, 1000, NULL) != CURLM_OK)
                        return CURLE_OUT_OF_MEMORY;
        }
}

CURLcode http_perform(fetch_http *h, struct xfer *x)
{
        if (curl_multi_add_handle(h->multi, x->curl) != CURLM_OK)
                return CURLE_OUT_OF_MEMORY;
        CURLcode cc = drive(h, x);
        curl_multi_remove_handle(h->multi, x->curl);
        return cc;
}

/* Drive the side request to its end (its callback run). */
static void side_settle(fetch_http *h)
{
        struct side *sd = h->side;
        if (!sd || sd->done || drive(h, NULL) == CURLE_OK)
                return;
        /* libcurl itself failed (out of memory): the callback is not run. */
        curl_multi_remove_handle(h->multi, sd->curl);
        sd->done = true;
        sd->r = roost_error_set(&sd->e, -ENOMEM, "%s", sd->url);
}

void http_side_free(fetch_http *h)
{
        struct side *sd = h->side;
        if (!sd)
                return;
        if (!sd->done)
                curl_multi_remove_handle(h->multi, sd->curl);
        curl_easy_cleanup(sd->curl);
        free(sd->x.buf);
        free(sd->url);
        free(sd);
        h->side = NULL;
}

int fetch_http_side_begin(fetch_http *h, const char *url, size_t max, uint64_t hold, fetch_http_side_fn fn,
                          void *userdata)
{
        long version = 0;
        if (h->side)
                return -EBUSY;
        /* Only where the last request found HTTP/2: over HTTP/1.1 the
         * request would open a connection of its own (another TCP and TLS
         * handshake), or wait for the tarball to end. */
        if (curl_easy_getinfo(h->curl, CURLINFO_HTTP_VERSION, &version) != CURLE_OK ||
            version != CURL_HTTP_VERSION_2_0)
                return 0;
        struct side *sd = calloc(1, sizeof(*sd));
        if (!sd)
                return -ENOMEM;
        h->side = sd;
        sd->curl = curl_easy_init();
        sd->url = strdup(url);
        sd->x = (struct xfer){ .h = h, .curl = sd->curl, .max = max, .buf = malloc(max + 1) };
        sd->hold = hold;
        sd->fn = fn;
        sd->userdata = userdata;
        if (!sd->curl || !sd->url || !sd->x.buf) {
                http_side_free(h);
                return -ENOMEM;
        }
        http_setup(h, url, &sd->x);
        double connect = h->max_time < 1 ? 1 : h->max_time;
        curl_easy_setopt(sd->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(1000 * (connect > 30 ? 30 : connect)));
        if (curl_multi_add_handle(h->multi, sd->curl) != CURLM_OK) {
                sd->done = true; /* not in the multi handle */
                http_side_free(h);
                return -ENOMEM;
        }
        /* The request leaves now, while the caller prepares the next. */
        int running;
        curl_multi_perform(h->multi, &running);
        return 1;
}

void fetch_http_side_cancel(fetch_http *h)
{
        http_side_free(h);
}

int fetch_http_side_wait(fetch_http *h, roost_error *e)
{
        if (!h->side)
                return 0;
        side_settle(h);
        int r = h->side->r;
        if (r < 0)
                *e = h->side->e;
        http_side_free(h);
        return r;
}

/* One attempt's end for a download of a set: what fetch_http_download
 * would make of it. */
static void set_finish(fetch_http *h, struct xfer *x, struct fetch_http_dl *d, CURLcode cc)
{
        int kind;
        if (!x->checked && (cc == CURLE_OK || cc == CURLE_RANGE_ERROR || cc == CURLE_WRITE_ERROR))
                http_xfer_check(x);
        d->status = x->code;
        d->r = http_classify(h, d->url, cc, x, &kind, &d->e);
        uint64_t got = store_blob_offset(d->blob);
        if (d->r == 0 && d->size && got != d->size)
                d->r = fetch_fail(&d->e, -ROOST_ESIZE,
                                  "%s: the body ended after %llu of the %llu bytes the index announces", d->url,
                                  (unsigned long long)got, (unsigned long long)d->size);
}

int fetch_http_download_set(fetch_http *h, struct fetch_http_dl *dls, size_t n, size_t max, const char *step)
{
        _cleanup_free_ struct xfer *xs = calloc(n ? n : 1, sizeof(*xs));
        if (!xs)
                return -ENOMEM;
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
                total += dls[i].size;
                dls[i].r = -ENOMEM;
                dls[i].e = (roost_error){ "" };
        }
        double connect = h->max_time < 1 ? 1 : h->max_time > 30 ? 30 : h->max_time;
        size_t next = 0, running = 0, left = n;
        int r = 0;
        while (left > 0) {
                while (running < max && next < n) {
                        struct xfer *x = &xs[next];
                        struct fetch_http_dl *d = &dls[next];
                        char range[32];
                        *x = (struct xfer){ .h = h, .blob = d->blob, .quiet = true,
                                            .limit = d->size ? d->size : FETCH_MAX_UNKNOWN_SIZE };
                        if (!(x->curl = curl_easy_init())) {
                                r = -ENOMEM;
                                goto out;
                        }
                        http_setup(h, d->url, x);
                        curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(1000 * connect));
                        x->start = store_blob_offset(d->blob);
                        if (x->start > 0) {
                                snprintf(range, sizeof(range), "%llu-", (unsigned long long)x->start);
                                curl_easy_setopt(x->curl, CURLOPT_RANGE, range);
                        }
                        if (curl_multi_add_handle(h->multi, x->curl) != CURLM_OK) {
                                curl_easy_cleanup(x->curl);
                                x->curl = NULL;
                                r = -ENOMEM;
                                goto out;
                        }
                        next++, running++;
                }
                int still, queued;
                if (curl_multi_perform(h->multi, &still) != CURLM_OK) {
                        r = -ENOMEM;
                        goto out;
                }
                CURLMsg *m;
                while ((m = curl_multi_info_read(h->multi, &queued))) {
                        size_t i = 0;
                        while (i < next && xs[i].curl != m->easy_handle)
                                i++;
                        if (m->msg != CURLMSG_DONE || i == next)
                                continue;
                        set_finish(h, &xs[i], &dls[i], m->data.result);
                        curl_multi_remove_handle(h->multi, xs[i].curl);
                        curl_easy_cleanup(xs[i].curl);
                        xs[i].curl = NULL;
                        running--, left--;
                }
                if (h->progress && step) {
                        uint64_t done = 0;
                        for (size_t i = 0; i < n; i++)
                                done += store_blob_offset(dls[i].blob);
                        h->progress(h->userdata, step, done, total);
                }
                /* A slot that has come free is filled at once. */
                bool more = running < max && next < n;
                if (left > 0 && !more && curl_multi_poll(h->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
                        r = -ENOMEM;
                        goto out;
                }
        }
out:
        for (size_t i = 0; i < next; i++)
                if (xs[i].curl) {
                        curl_multi_remove_handle(h->multi, xs[i].curl);
                        curl_easy_cleanup(xs[i].curl);
                }
        return r;
}
