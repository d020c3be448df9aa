/* Transfers: one libcurl multi handle per pull (so the index, the
 * signature and the tarball share a TLS connection, the last two as
 * concurrent HTTP/2 streams), HTTPS only, verification always on, retries
 * with backoff for what may pass, resume by range request. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "common/util.h"
#include "fetch/fetch-private.h"
#include "fetch/http-ca.h"
#include "fetch/http-private.h"

static void response_clear(struct fetch_http_response *r)
{
        free(r->content_type);
        free(r->digest);
        free(r->www_authenticate);
        free(r->retry_after);
        free(r->error_body);
        *r = (struct fetch_http_response){ 0 };
}

static double env_number(const char *name, double def, double min, double max)
{
        const char *v = getenv(name);
        if (!v || !*v)
                return def;
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || !isfinite(d) || d < min || d > max)
                return def;
        return d;
}

int fetch_http_new(const struct fetch_http_config *c, fetch_http **ret, roost_error *e)
{
        static bool initialized;
        if (!initialized) {
                /* libcurl copies the Authorization header into the
                 * request it builds, and a token server's answer into its
                 * receive buffer; it frees them as they are. Its free wipes
                 * them here, its realloc leaves no old block unwiped, and so
                 * does curl_slist_free_all for the header lists. */
                if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, secret_free, secret_realloc, strdup,
                                         calloc) != CURLE_OK)
                        return roost_error_set(e, -ENOMEM, "initializing libcurl");
                initialized = true;
        }
        fetch_http *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->curl = curl_easy_init();
        h->multi = curl_multi_init();
        if (!h->curl || !h->multi) {
                curl_easy_cleanup(h->curl);
                curl_multi_cleanup(h->multi);
                free(h);
                return roost_error_set(e, -ENOMEM, "initializing libcurl");
        }
        /* Requests share the connection as HTTP/2 streams where the server
         * offers it (libcurl's default, said here because it is relied on). */
        curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
        h->allow_file = c->allow_file;
        h->allow_http = c->allow_http;
        h->progress = c->progress;
        h->warn = c->warn;
        h->userdata = c->userdata;
        h->stall_seconds = (long)env_number("ROOST_STALL_SECONDS", 30, 1, 86400);
        h->stall_bytes = (long)env_number("ROOST_STALL_BYTES", 1024, 1, 1e9);
        h->retries = c->retries >= 0 ? c->retries : (int)env_number("ROOST_RETRIES", 5, 0, 100);
        h->delay = env_number("ROOST_RETRY_DELAY", 1, 0, 3600);
        h->max_time = c->timeout > 0 ? c->timeout : env_number("ROOST_RETRY_MAX_TIME", 300, 0, 86400);
        /* A stall longer than the whole budget (in whole seconds, rounded
         * up: curl counts a stall so) would outlast it. */
        long budget = (long)h->max_time + ((double)(long)h->max_time < h->max_time);
        if (h->stall_seconds > budget)
                h->stall_seconds = budget < 1 ? 1 : budget;
        if (c->cacert) {
                int r = fetch_http_ca_blob(h->curl, c->cacert, &h->ca_blob, &h->ca_len, e);
                if (r < 0) {
                        fetch_http_free(h);
                        return r;
                }
        }
        *ret = h;
        return 0;
}

void fetch_http_free(fetch_http *h)
{
        if (!h)
                return;
        http_side_free(h);
        curl_multi_cleanup(h->multi);
        curl_easy_cleanup(h->curl);
        curl_slist_free_all(h->headers);
        response_clear(&h->last);
        free(h->ca_blob);
        free(h);
}

/* The status line is known once the body starts: decide there what to do
 * with the body, so a refused range costs no second request. */
bool http_xfer_check(struct xfer *x)
{
        if (x->checked)
                return x->err == 0;
        x->checked = true;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->code);
        if (x->code >= 300) {
                x->err = -ROOST_EHTTP; /* mapped from x->code later */
                return false;
        }
        if (!x->blob)
                return true;
        if (x->start > 0 && x->code == 200) {
                /* The server ignored the range: it sends the whole file. */
                int r = store_blob_restart(x->blob);
                if (r < 0) {
                        x->err = r;
                        return false;
                }
                x->start = 0;
        }
        curl_off_t cl = -1;
        if (curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0 &&
            x->start + (uint64_t)cl > x->limit) {
                x->err = -ROOST_ESIZE;
                return false;
        }
        return true;
}

static size_t xfer_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        size_t n = size * nmemb;
        if (!http_xfer_check(x)) {
                if (x->err == -ROOST_EHTTP && x->error_body && x->last && x->code >= 400) {
                        /* A registry explains a refusal in JSON: keep a
                         * bounded prefix of it for the message. */
                        struct fetch_http_response *l = x->last;
                        size_t room = FETCH_ERROR_BODY_MAX - l->error_len, k = n < room ? n : room;
                        if (!l->error_body && !(l->error_body = malloc(FETCH_ERROR_BODY_MAX + 1)))
                                return 0;
                        memcpy(l->error_body + l->error_len, data, k);
                        l->error_len += k;
                        l->error_body[l->error_len] = 0;
                        return n;
                }
                return 0;
        }
        if (!x->blob) {
                if (n > x->max - x->len) {
                        x->err = -ROOST_ESIZE;
                        return 0;
                }
                memcpy(x->buf + x->len, data, n);
                x->len += n;
                return n;
        }
        if (x->h->side && !x->h->side->done && store_blob_offset(x->blob) + n > x->hold) {
                /* The signature has not come, or its end has not been
                 * seen yet (it may be in the same read): what is written
                 * before it is read back once for its check, so that is
                 * bounded. libcurl keeps this chunk until drive resumes. */
                x->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        if (store_blob_offset(x->blob) + n > x->limit) {
                /* Endless or oversized: not one byte past what was announced. */
                x->err = -ROOST_ESIZE;
                return 0;
        }
        int r = store_blob_write(x->blob, data, n);
        if (r < 0) {
                x->err = r;
                return 0;
        }
        return n;
}

int fetch_http_keep_header(char **slot, const char *value, size_t n)
{
        while (n && (*value == ' ' || *value == '\t'))
                value++, n--;
        while (n && (value[n - 1] == '\r' || value[n - 1] == '\n' || value[n - 1] == ' '))
                n--;
        free(*slot);
        return (*slot = strndup(value, n)) ? 0 : -ENOMEM;
}

static int capture_header(struct fetch_http_response *l, const char *data, size_t n)
{
        static const struct {
                const char *name;
                size_t off;
        } wanted[] = {
                { "content-type:", offsetof(struct fetch_http_response, content_type) },
                { "docker-content-digest:", offsetof(struct fetch_http_response, digest) },
                { "www-authenticate:", offsetof(struct fetch_http_response, www_authenticate) },
                { "retry-after:", offsetof(struct fetch_http_response, retry_after) },
        };
        if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* A new response (after a redirect): forget the last one's. */
                const char *sp = memchr(data, ' ', n);
                response_clear(l);
                if (sp)
                        l->status = strtol(sp + 1, NULL, 10);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                size_t k = strlen(wanted[i].name);
                if (n > k && strncasecmp(data, wanted[i].name, k) == 0)
                        return fetch_http_keep_header((char **)((char *)l + wanted[i].off), data + k, n - k);
        }
        return 0;
}

static size_t xfer_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        size_t n = size * nmemb;
        if (x->last && (x->h->headers || x->error_body)) {
                int r = capture_header(x->last, data, n);
                if (r < 0) {
                        x->err = r;
                        return 0;
                }
        }
        if (x->blob && x->start > 0 && n > 14 && strncasecmp(data, "content-range:", 14) == 0) {
                unsigned long long first;
                const char *p = data + 14;
                while (*p == ' ')
                        p++;
                if (sscanf(p, "bytes %llu-", &first) != 1 || first != x->start) {
                        x->err = -ROOST_EHTTP;
                        return 0;
                }
        }
        return n;
}

static int xfer_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
        struct xfer *x = userdata;
        if (!x->blob || !x->h->progress || x->quiet)
                return 0;
        uint64_t done = store_blob_offset(x->blob);
        if (done != x->last_report) {
                x->last_report = done;
                x->h->progress(x->h->userdata, x->step, done,
                               x->limit == FETCH_MAX_UNKNOWN_SIZE ? 0 : x->limit);
        }
        return 0;
}

void http_setup(fetch_http *h, const char *url, struct xfer *x)
{
        CURL *c = x->curl;
        curl_easy_reset(c);
        x->errbuf[0] = 0;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
        /* A second request waits for the connection the first one makes,
         * to share it, rather than opening its own. */
        curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
        /* The first request may be https (or file for a local mirror);
         * every redirect must be https. */
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                         h->allow_file   ? "file"
                         : h->allow_http ? "http,https"
                                         : "https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        if (h->ca_blob) {
                struct curl_blob blob = { .data = h->ca_blob, .len = h->ca_len, .flags = CURL_BLOB_NOCOPY };
                curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
        }
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->stall_bytes);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->stall_seconds);
        curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        /* Mirrors serve tarballs as they are; no transparent decoding. */
        curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L);
        curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, xfer_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, xfer_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
        if (h->headers) {
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
                /* A redirect to another host (a registry's blob storage)
                 * must not carry the Authorization header: libcurl drops a
                 * custom one there unless told otherwise, as it is not. */
                curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
        }
        x->error_body = h->keep_error_body && x->last;
        if (x->last)
                response_clear(x->last);
}

/* Whether the last attempt got as far as a request (a timeout before that
 * is the mirror's silence, not a stalled transfer). A connection reused
 * from the last request has no connect time, but a pretransfer time. */
static bool connected(const struct xfer *x)
{
        curl_off_t t = 0;
        return x->code > 0 ||
               (curl_easy_getinfo(x->curl, CURLINFO_PRETRANSFER_TIME_T, &t) == CURLE_OK && t > 0);
}

/* Turn one attempt's outcome into a status and, for failures, a message
 * and whether another attempt may help. */
int http_classify(fetch_http *h, const char *url, CURLcode cc, struct xfer *x, int *kind, roost_error *e)
{
        *kind = PERMANENT;
        if (x->err == -ROOST_EHTTP && x->code >= 300) {
                if (x->code == 404 || x->code == 410)
                        return fetch_fail(e, -ROOST_ENOTFOUND, "%s: HTTP %ld", url, x->code);
                if (x->code >= 500 || x->code == 408 || x->code == 429)
                        *kind = TRANSIENT;
                return fetch_fail(e, x->code >= 500 ? -ROOST_ENETWORK : -ROOST_EHTTP, "%s: HTTP %ld", url,
                                  x->code);
        }
        if (x->err == -ROOST_EHTTP)
                return fetch_fail(e, -ROOST_EHTTP,
                                  "%s: the server answered a range request with another range", url);
        if (x->err == -ROOST_ESIZE) {
                if (x->blob)
                        return fetch_fail(e, -ROOST_ESIZE,
                                          "%s: the body is larger than the %llu bytes the index announces",
                                          url, (unsigned long long)x->limit);
                return fetch_fail(e, -ROOST_ESIZE, "%s: larger than %zu bytes", url, x->max);
        }
        if (x->err < 0)
                return roost_error_set(e, x->err, "%s: writing to the store", url);
        const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
        switch (cc) {
        case CURLE_OK:
                return 0;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return fetch_fail(e, -ROOST_EPROTO,
                                  "%s: refused (only https:// is allowed, redirects included): %s", url,
                                  detail);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                return fetch_fail(e, -ROOST_ETLS, "%s: TLS: %s (use --cacert FILE to trust a private CA)",
                                  url, detail);
        case CURLE_FILE_COULDNT_READ_FILE:
        case CURLE_REMOTE_FILE_NOT_FOUND:
                return fetch_fail(e, -ROOST_ENOTFOUND, "%s: %s", url, detail);
        case CURLE_OPERATION_TIMEDOUT:
                *kind = TRANSIENT;
                if (!connected(x))
                        return fetch_fail(e, -ROOST_ENETWORK, "%s: no connection: %s", url, detail);
                return fetch_fail(e, -ROOST_ENETWORK, "%s: stalled (below %ld bytes/s for %ld s): %s", url,
                                  h->stall_bytes, h->stall_seconds, detail);
        case CURLE_COULDNT_CONNECT: {
                /* "connection refused" says it all; curl's text around it
                 * repeats the URL's host and port. */
                long os = 0;
                *kind = TRANSIENT;
                if (curl_easy_getinfo(x->curl, CURLINFO_OS_ERRNO, &os) == CURLE_OK && os > 0) {
                        char reason[128];
                        snprintf(reason, sizeof(reason), "%s", strerror((int)os));
                        reason[0] = (char)tolower((unsigned char)reason[0]);
                        return fetch_fail(e, -ROOST_ENETWORK, "%s: %s", url, reason);
                }
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s", url, detail);
        }
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_READ_ERROR:
                *kind = TRANSIENT;
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s", url, detail);
        default:
                return fetch_fail(e, -ROOST_ENETWORK, "%s: %s", url, detail);
        }
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_for(double seconds)
{
        struct timespec ts = { .tv_sec = (time_t)seconds,
                               .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Whether an attempt that took the download from HIGH to OFF bytes counts
 * as progress, which renews the retry budget: a stall floor's worth (64 KiB
 * at most), or half of what remained of a file whose size is known. A
 * server that sends a byte and hangs up is not a flaky connection, and
 * would otherwise be retried for ever below the floor. */
static bool progressed(const fetch_http *h, const struct xfer *x, uint64_t high, uint64_t off)
{
        uint64_t floor = (uint64_t)h->stall_bytes * (uint64_t)h->stall_seconds;
        if (floor > 65536)
                floor = 65536;
        if (off - high >= floor)
                return true;
        return x->limit != FETCH_MAX_UNKNOWN_SIZE && x->limit > high &&
               off - high >= (x->limit - high + 1) / 2;
}

/* Run attempts until one succeeds, a failure is permanent, or the budget
 * is spent: ROOST_RETRIES (--retries) failures in a row without progress,
 * or ROOST_RETRY_MAX_TIME (--timeout) seconds since the request began or
 * last brought bytes. The budget bounds the connection of every attempt
 * and the pauses too, so that a mirror that is gone costs about that long
 * whether it refuses connections or drops them. Each retry is reported
 * with its reason and its wait. */
static int run(fetch_http *h, const char *url, struct xfer *x, roost_error *e)
{
        int failures = 0;
        double delay = h->delay, since = now();
        uint64_t high = x->blob ? store_blob_offset(x->blob) : 0;
        if (h->side)
                x->hold = high + h->side->hold;
        for (;;) {
                x->checked = false;
                x->paused = false;
                x->err = 0;
                x->code = 0;
                x->len = 0;
                char range[32];
                http_setup(h, url, x);
                /* What is left of the budget, but at least a second (an
                 * attempt must be able to connect at all) and at most 30. */
                double left = since + h->max_time - now(), connect = left < 1 ? 1 : left;
                curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT_MS,
                                 (long)(1000 * (connect > 30 ? 30 : connect)));
                if (x->blob) {
                        x->start = store_blob_offset(x->blob);
                        if (x->start > 0) {
                                snprintf(range, sizeof(range), "%llu-", (unsigned long long)x->start);
                                curl_easy_setopt(x->curl, CURLOPT_RANGE, range);
                        }
                }
                CURLcode cc = http_perform(h, x);
                if (x->err == XFER_SIDE_BAD) {
                        *e = h->side->e;
                        return h->side->r;
                }
                if (!x->checked && (cc == CURLE_OK || cc == CURLE_RANGE_ERROR || cc == CURLE_WRITE_ERROR))
                        http_xfer_check(x); /* an empty body never reached the write callback */
                if (x->blob && x->err == -ROOST_EHTTP && x->code == 416) {
                        /* Our partial file does not fit the server's: start over. */
                        int r = store_blob_restart(x->blob);
                        if (r < 0)
                                return roost_error_set(e, r, "%s: restarting the download", url);
                        if (failures++ < h->retries)
                                continue;
                }
                int kind, r = http_classify(h, url, cc, x, &kind, e);
                if (r == 0)
                        return 0;
                if (kind != TRANSIENT)
                        return r;
                uint64_t off = x->blob ? store_blob_offset(x->blob) : 0;
                double t = now();
                if (off > high && progressed(h, x, high, off)) {
                        /* Progress: the connection is flaky, not dead. */
                        failures = 0;
                        delay = h->delay;
                        since = t;
                }
                if (off > high)
                        high = off;
                left = since + h->max_time - t;
                size_t l = strlen(e->msg);
                if (failures >= h->retries) {
                        snprintf(e->msg + l, sizeof(e->msg) - l, " (gave up after %d attempt%s)",
                                 failures + 1, failures ? "s" : "");
                        return r;
                }
                /* What a timer firing a little early leaves is no time
                 * for another attempt. */
                if (left < 0.1) {
                        snprintf(e->msg + l, sizeof(e->msg) - l,
                                 " (gave up after %d attempt%s in %.3g s, the time allowed)", failures + 1,
                                 failures ? "s" : "", t - since);
                        return r;
                }
                failures++;
                /* The last pause ends with the budget: one more attempt
                 * then, rather than giving up early. */
                double pause = delay < left ? delay : left;
                /* A registry that asks to be left alone for a while says how
                 * long (Retry-After, in seconds): wait that, within the budget. */
                if (x->code == 429 && h->last.retry_after) {
                        char *end;
                        double ra = strtod(h->last.retry_after, &end);
                        if (end != h->last.retry_after && !*end && ra >= 0 && isfinite(ra))
                                pause = ra < left ? ra : left;
                }
                if (h->warn) {
                        char line[sizeof(e->msg) + 64];
                        snprintf(line, sizeof(line), "%s; retry %d of %d in %.2g s", e->msg, failures,
                                 h->retries, pause);
                        h->warn(h->userdata, line);
                }
                pause_for(pause);
                delay = delay * 2 > 30 ? 30 : delay * 2;
        }
}

int fetch_http_get(fetch_http *h, const char *url, size_t max, char **ret, size_t *ret_len, roost_error *e)
{
        char *buf;
        size_t len;
        int r = fetch_http_get_bytes(h, url, max, &buf, &len, e);
        if (r < 0)
                return r;
        buf[len] = 0;
        if (strlen(buf) != len) {
                explicit_bzero(buf, len);
                free(buf);
                return fetch_fail(e, -ROOST_EFORMAT, "%s: binary data where text was expected", url);
        }
        *ret = buf;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int fetch_http_get_bytes(fetch_http *h, const char *url, size_t max, char **ret, size_t *ret_len,
                         roost_error *e)
{
        struct xfer x = { .h = h, .curl = h->curl, .last = &h->last, .max = max };
        x.buf = malloc(max + 1);
        if (!x.buf)
                return -ENOMEM;
        int r = run(h, url, &x, e);
        if (r < 0) {
                /* What came may be a token's beginning. */
                explicit_bzero(x.buf, x.len);
                free(x.buf);
                return r;
        }
        *ret = x.buf;
        *ret_len = x.len;
        return 0;
}

int fetch_http_download(fetch_http *h, const char *url, const char *step, store_blob *b, uint64_t size,
                        roost_error *e)
{
        struct xfer x = {
                .h = h, .curl = h->curl, .last = &h->last, .step = step, .blob = b,
                .limit = size ? size : FETCH_MAX_UNKNOWN_SIZE,
        };
        int r = run(h, url, &x, e);
        if (r < 0)
                return r;
        uint64_t got = store_blob_offset(b);
        if (size && got != size)
                return fetch_fail(e, -ROOST_ESIZE,
                                  "%s: the body ended after %llu of the %llu bytes the index announces", url,
                                  (unsigned long long)got, (unsigned long long)size);
        if (h->progress)
                h->progress(h->userdata, step, got, size);
        return 0;
}

int fetch_http_set_headers(fetch_http *h, const char *const *headers, bool keep_error_body)
{
        struct curl_slist *l = NULL;
        for (size_t i = 0; headers && headers[i]; i++) {
                struct curl_slist *n = curl_slist_append(l, headers[i]);
                if (!n) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = n;
        }
        curl_slist_free_all(h->headers);
        h->headers = l;
        h->keep_error_body = keep_error_body;
        return 0;
}

const struct fetch_http_response *fetch_http_last(const fetch_http *h)
{
        return &h->last;
}

/* For fetch/http-send.c, which runs requests with a body of its own: the
 * handle set up as every request of H is (protocols, TLS and the trust
 * anchors, stall limits, the headers set); the caller sets its own
 * callbacks, since those set here point at a transfer that is gone. */
void *fetch_http_prepare(fetch_http *h, const char *url)
{
        struct xfer unused = { .h = h, .curl = h->curl };
        http_setup(h, url, &unused);
        curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, NULL);
        curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
        return h->curl;
}

int fetch_http_classify(fetch_http *h, const char *url, int curl_code, long status, bool *ret_transient,
                        roost_error *e)
{
        struct xfer x = { .h = h, .curl = h->curl, .code = status, .err = status >= 300 ? -ROOST_EHTTP : 0 };
        int kind, r = http_classify(h, url, (CURLcode)curl_code, &x, &kind, e);
        *ret_transient = kind == TRANSIENT;
        return r;
}
