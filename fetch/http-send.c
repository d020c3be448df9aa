/* Requests with a body (a push's uploads and manifests), on the handle
 * and settings of fetch/http.c: the body is read from its file as libcurl
 * asks for it, and the response's headers a registry answers with are
 * kept. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <curl/curl.h>
#include "common/util.h"
#include "fetch/http-send.h"

struct send_state {
        const struct fetch_send *s;
        struct fetch_reply *r;
        uint64_t sent;
        size_t keep;
        int err;
};

void fetch_reply_done(struct fetch_reply *r)
{
        free(r->location);
        free(r->digest);
        free(r->www_authenticate);
        free(r->retry_after);
        free(r->range);
        if (r->body)
                explicit_bzero(r->body, r->body_len); /* a token */
        free(r->body);
        *r = (struct fetch_reply){ 0 };
}

static size_t send_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
        struct send_state *st = userdata;
        const struct fetch_send *s = st->s;
        uint64_t left = s->len - st->sent;
        size_t n = size * nmemb < left ? size * nmemb : (size_t)left;
        if (n == 0)
                return 0;
        if (!s->use_fd) {
                memcpy(buf, (const char *)s->buf + st->sent, n);
        } else {
                ssize_t k;
                do
                        k = pread(s->fd, buf, n, (off_t)(s->offset + st->sent));
                while (k < 0 && errno == EINTR);
                if (k <= 0) {
                        /* A file that shrank under us is as bad as one unreadable. */
                        st->err = k < 0 ? -errno : -EIO;
                        return CURL_READFUNC_ABORT;
                }
                n = (size_t)k;
        }
        st->sent += n;
        if (s->progress)
                s->progress(s->userdata, st->sent, s->len);
        return n;
}

/* libcurl rewinds a body it must send again (after a 401 on a
 * connection it keeps, or a redirect). */
static int send_seek(void *userdata, curl_off_t offset, int origin)
{
        struct send_state *st = userdata;
        if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > st->s->len)
                return CURL_SEEKFUNC_CANTSEEK;
        st->sent = (uint64_t)offset;
        return CURL_SEEKFUNC_OK;
}

static size_t send_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct send_state *st = userdata;
        struct fetch_reply *r = st->r;
        size_t n = size * nmemb, room = st->keep - r->body_len, k = n < room ? n : room;
        if (!r->body && !(r->body = malloc(st->keep + 1))) {
                st->err = -ENOMEM;
                return 0;
        }
        memcpy(r->body + r->body_len, data, k);
        r->body_len += k;
        r->body[r->body_len] = 0;
        return n; /* the rest is dropped: a reply past the bound says nothing we read */
}

static size_t send_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        static const struct {
                const char *name;
                size_t off;
        } wanted[] = {
                { "location:", offsetof(struct fetch_reply, location) },
                { "docker-content-digest:", offsetof(struct fetch_reply, digest) },
                { "www-authenticate:", offsetof(struct fetch_reply, www_authenticate) },
                { "retry-after:", offsetof(struct fetch_reply, retry_after) },
                { "range:", offsetof(struct fetch_reply, range) },
        };
        struct send_state *st = userdata;
        struct fetch_reply *r = st->r;
        size_t n = size * nmemb;
        if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* A new response (a 100 Continue's, a redirect's): the
                 * last one's headers are not this one's. */
                const char *sp = memchr(data, ' ', n);
                long status = sp ? strtol(sp + 1, NULL, 10) : 0;
                char *body = r->body;
                size_t body_len = r->body_len;
                r->body = NULL;
                fetch_reply_done(r);
                r->body = body;
                r->body_len = body_len;
                r->status = status;
                return n;
        }
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                size_t k = strlen(wanted[i].name);
                if (n > k && strncasecmp(data, wanted[i].name, k) == 0 &&
                    fetch_http_keep_header((char **)((char *)r + wanted[i].off), data + k, n - k) < 0) {
                        st->err = -ENOMEM;
                        return 0;
                }
        }
        return n;
}

int fetch_http_send(fetch_http *h, const struct fetch_send *s, struct fetch_reply *ret, roost_error *e)
{
        struct send_state st = { .s = s, .r = ret, .keep = s->keep_body ? s->keep_body : FETCH_ERROR_BODY_MAX };
        struct curl_slist *list = NULL;
        bool has_body = s->use_fd || s->buf;
        *ret = (struct fetch_reply){ 0 };
        CURL *c = fetch_http_prepare(h, s->url);
        for (size_t i = 0; s->headers && s->headers[i]; i++) {
                struct curl_slist *n = curl_slist_append(list, s->headers[i]);
                if (!n) {
                        curl_slist_free_all(list);
                        return -ENOMEM;
                }
                list = n;
        }
        /* The body goes as it is, with its length: no "Expect: 100-continue"
         * round trip for small bodies, no chunked encoding. */
        struct curl_slist *n = curl_slist_append(list, "Expect:");
        if (!n) {
                curl_slist_free_all(list);
                return -ENOMEM;
        }
        list = n;
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
        bool follow = !strcmp(s->method, "GET") || !strcmp(s->method, "HEAD");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
        /* libcurl's 64 KiB default makes a read and a TLS record of every
         * 16 KiB; larger reads cost fewer system calls per layer. */
        curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, send_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, send_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
        if (!strcmp(s->method, "HEAD")) {
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(s->method, "POST")) {
                curl_easy_setopt(c, CURLOPT_POST, 1L);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(has_body ? s->len : 0));
                if (!has_body)
                        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        } else if (strcmp(s->method, "GET") != 0) {
                /* PUT and PATCH: an upload, named by its method. */
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)(has_body ? s->len : 0));
                if (strcmp(s->method, "PUT") != 0)
                        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, s->method);
        }
        if (has_body || !strcmp(s->method, "PUT") || !strcmp(s->method, "PATCH")) {
                curl_easy_setopt(c, CURLOPT_READFUNCTION, send_read);
                curl_easy_setopt(c, CURLOPT_READDATA, &st);
                curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, send_seek);
                curl_easy_setopt(c, CURLOPT_SEEKDATA, &st);
        }
        CURLcode cc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(list);
        if (st.err < 0)
                return roost_error_set(e, st.err, "%s %s", s->method, s->url);
        if (cc == CURLE_OK && ret->status > 0)
                return 0;
        return fetch_http_classify(h, s->url, (int)cc, 0, &ret->transient, e);
}
