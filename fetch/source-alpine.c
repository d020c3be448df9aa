/* Alpine's release mirror as a source: a release resolved through the
 * branch's latest-releases.yaml (its .sha256 read only when the index has
 * no sha256), signed by FILE.asc beside it, and the minirootfs .tar.gz
 * stored unchanged as the single layer of an image written around it. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/util.h"
#include "fetch/source.h"

#define INDEX_MAX   (1u << 18) /* latest-releases.yaml is a few kilobytes */
#define SUMFILE_MAX 4096

struct alpine {
        char *mirror; /* without a trailing slash */
        struct fetch_tag t;
        char *dir; /* the mirror folder the release lives in: "v3.20", "edge" */
        struct fetch_release rel;
        char *url; /* the tarball's */
};

/* %XX escapes in a file:// URL's path, as curl reads them. */
static char *url_path_decode(const char *p)
{
        char *out = malloc(strlen(p) + 1), *q = out;
        if (!out)
                return NULL;
        for (; *p; p++) {
                unsigned v;
                if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
                    sscanf(p + 1, "%2x", &v) == 1 && v != 0) {
                        *q++ = (char)v;
                        p += 2;
                } else
                        *q++ = *p;
        }
        *q = 0;
        return out;
}

/* A local mirror's folder must be there: curl would only say that the
 * first index in it cannot be opened, which reads like a missing release. */
static int mirror_folder_check(const char *what, const char *m, roost_error *e)
{
        const char *p = m + 7;
        if (strncmp(p, "localhost/", 10) == 0)
                p += 9;
        if (*p != '/')
                return 0; /* another host: curl refuses it, naming it */
        _cleanup_free_ char *path = url_path_decode(p);
        struct stat st;
        if (!path)
                return -ENOMEM;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return fetch_fail(e, -ROOST_ENOTFOUND, "%s%s: the folder %s does not exist", what, m,
                                          path);
                return fetch_fail(e, -ROOST_EUSAGE, "%s%s: %s: %s", what, m, path, strerror(errno));
        }
        if (!S_ISDIR(st.st_mode))
                return fetch_fail(e, -ROOST_EUSAGE, "%s%s: %s is not a folder", what, m, path);
        return 0;
}

static int mirror_get(const struct fetch_options *o, char **ret, bool *ret_file, roost_error *e)
{
        const char *m = o->mirror, *what = "--mirror ";
        if (!m || !*m) {
                m = getenv("ROOST_MIRROR");
                what = "ROOST_MIRROR=";
        }
        if (!m || !*m) {
                m = FETCH_DEFAULT_MIRROR;
                what = "mirror ";
        }
        bool file = strncmp(m, "file://", 7) == 0;
        if (!file && !strstr(m, "://")) {
                /* A folder given as a path: say what to type instead. */
                _cleanup_free_ char *abs = realpath(m, NULL), *cwd = NULL;
                if (!abs && m[0] != '/' && (cwd = getcwd(NULL, 0)) && asprintf(&abs, "%s/%s", cwd, m) < 0)
                        abs = NULL;
                return fetch_fail(e, -ROOST_EUSAGE, "%s%s is not a URL; for a folder, give %sfile://%s", what,
                                  m, what, abs ? abs : m);
        }
        if (!file && strncmp(m, "https://", 8) != 0)
                return fetch_fail(e, -ROOST_EUSAGE, "%s%s: only https:// and file:// URLs are accepted", what,
                                  m);
        if (strlen(m) > 2048 || strpbrk(m, " \t\r\n"))
                return fetch_fail(e, -ROOST_EUSAGE, "%s%.64s...: not a usable URL", what, m);
        int r;
        if (file && (r = mirror_folder_check(what, m, e)) < 0)
                return r;
        char *c = strdup(m);
        if (!c)
                return -ENOMEM;
        size_t n = strlen(c);
        while (n > 8 && c[n - 1] == '/')
                c[--n] = 0;
        *ret = c;
        *ret_file = file;
        return 0;
}

static int get_index(struct fetch_job *j, const char *dir, char **ret, size_t *ret_len, roost_error *e)
{
        struct alpine *a = j->data;
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s/%s/releases/%s/latest-releases.yaml", a->mirror, dir, j->arch) < 0)
                return -ENOMEM;
        return fetch_http_get(j->http, url, INDEX_MAX, ret, ret_len, e);
}

/* latest-stable is a symlink to the newest branch on Alpine's mirror, but a
 * copy of the tree (a USB stick, a plain file server) may hold a file
 * naming the branch instead: "v3.20". */
static int resolve_latest(struct fetch_job *j, char **ret_index, size_t *ret_len, roost_error *e)
{
        struct alpine *a = j->data;
        int r = get_index(j, "latest-stable", ret_index, ret_len, e);
        if (r != -ROOST_ENOTFOUND) {
                if (r == 0 && !(a->dir = strdup("latest-stable")))
                        return -ENOMEM;
                return r;
        }
        /* On Alpine's own layout latest-stable is a directory, which a
         * server answers with a redirect, a listing or a refusal: when the
         * fallback finds no branch name there, the index's 404 is the
         * answer (exit 3). A network failure is still one. */
        const roost_error missing = *e;
        _cleanup_free_ char *url = NULL, *text = NULL;
        if (asprintf(&url, "%s/latest-stable", a->mirror) < 0)
                return -ENOMEM;
        r = fetch_http_get(j->http, url, 64, &text, NULL, e);
        if (r == 0) {
                text[strcspn(text, " \t\r\n")] = 0;
                if (fetch_branch_valid(text)) {
                        if (!(a->dir = strdup(text)))
                                return -ENOMEM;
                        return get_index(j, a->dir, ret_index, ret_len, e);
                }
        } else if (r != -ROOST_ENOTFOUND && r != -ROOST_EHTTP && r != -ROOST_ESIZE && r != -ROOST_EFORMAT) {
                return r; /* the network failed meanwhile: say so */
        }
        *e = missing;
        return -ROOST_ENOTFOUND;
}

/* A point release older than the branch's newest is no longer in the
 * index, but Alpine's mirror keeps it beside the newest: take its size
 * from nowhere (the cap applies) and its digests from its checksum files. */
static int resolve_unindexed(struct fetch_job *j, roost_error *e)
{
        struct alpine *a = j->data;
        _cleanup_free_ char *url = NULL, *text = NULL;
        char sha256[STORE_SHA256_HEX + 1];
        if (asprintf(&a->rel.file, "alpine-minirootfs-%s-%s.tar.gz", a->t.version, j->arch) < 0) {
                a->rel.file = NULL;
                return -ENOMEM;
        }
        if (asprintf(&url, "%s/%s/releases/%s/%s.sha256", a->mirror, a->dir, j->arch, a->rel.file) < 0)
                return -ENOMEM;
        int r = fetch_http_get(j->http, url, SUMFILE_MAX, &text, NULL, e);
        if (r == -ROOST_ENOTFOUND)
                return fetch_fail(e, r, "%s:%s not found: %s lists no %s for %s and %s is missing on %s",
                                  j->name, j->tag, a->dir, a->t.version, j->arch, a->rel.file, a->mirror);
        if (r < 0)
                return r;
        if (fetch_sumfile_parse(text, a->rel.file, STORE_SHA256_HEX, sha256) < 0)
                return fetch_fail(e, -ROOST_EFORMAT, "%s: no sha256 for %s", url, a->rel.file);
        if (!(a->rel.sha256 = strdup(sha256)) || !(a->rel.version = strdup(a->t.version)))
                return -ENOMEM;
        free(url);
        free(text);
        url = text = NULL;
        if (asprintf(&url, "%s/%s/releases/%s/%s.sha512", a->mirror, a->dir, j->arch, a->rel.file) < 0)
                return -ENOMEM;
        char sha512[STORE_SHA512_HEX + 1];
        roost_error ignored;
        if (fetch_http_get(j->http, url, SUMFILE_MAX, &text, NULL, &ignored) == 0 &&
            fetch_sumfile_parse(text, a->rel.file, STORE_SHA512_HEX, sha512) == 0 &&
            !(a->rel.sha512 = strdup(sha512)))
                return -ENOMEM;
        return 0;
}

static int resolve_release(struct fetch_job *j, roost_error *e)
{
        struct alpine *a = j->data;
        _cleanup_free_ char *index = NULL;
        size_t len = 0;
        int r;
        char what[300];
        snprintf(what, sizeof(what), "resolving %s:%s (%s)", j->name, j->tag, j->arch);
        fetch_job_step(j, what, 0, 0);
        if (a->t.kind == FETCH_TAG_LATEST)
                r = resolve_latest(j, &index, &len, e);
        else {
                if (!(a->dir = strdup(a->t.dir)))
                        return -ENOMEM;
                r = get_index(j, a->dir, &index, &len, e);
        }
        if (r == -ROOST_ENOTFOUND) {
                char why[sizeof(e->msg)];
                snprintf(why, sizeof(why), "%s", e->msg);
                return fetch_fail(e, r, "%s:%s not found: no release index for %s (%s)", j->name, j->tag,
                                  j->arch, why);
        }
        if (r < 0)
                return r;
        roost_error ie;
        r = fetch_index_pick(index, len, j->arch, a->t.kind == FETCH_TAG_EXACT ? a->t.version : NULL, &a->rel,
                             &ie);
        if (r == -ROOST_ENOTFOUND && a->t.kind == FETCH_TAG_EXACT)
                r = resolve_unindexed(j, e);
        else if (r < 0)
                return fetch_fail(e, r, "%s:%s: reading %s/releases/%s/latest-releases.yaml: %s", j->name,
                                  j->tag, a->dir, j->arch, ie.msg);
        if (r < 0)
                return r;
        /* A branch's index lists that branch's releases: "3.99.0" from
         * v3.22's is a mirror's lie, not the newest 3.22. */
        size_t n = a->dir[0] == 'v' ? strlen(a->dir + 1) : 0;
        if (n && (strncmp(a->rel.version, a->dir + 1, n) != 0 || a->rel.version[n] != '.'))
                return fetch_fail(e, -ROOST_EFORMAT,
                                  "%s:%s: %s/releases/%s/latest-releases.yaml offers %s, not a %s release",
                                  j->name, j->tag, a->dir, j->arch, a->rel.version, a->dir + 1);
        if (asprintf(&a->url, "%s/%s/releases/%s/%s", a->mirror, a->dir, j->arch, a->rel.file) < 0) {
                a->url = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* The .sha256 file says nothing the index does not, from the same server:
 * it is read only when the index gives no sha256, and then it is the
 * sha256 (the blob's name), checked as the bytes arrive. */
static int read_sumfile(struct fetch_job *j, roost_error *e)
{
        struct alpine *a = j->data;
        _cleanup_free_ char *url = NULL, *text = NULL;
        char sha256[STORE_SHA256_HEX + 1];
        if (a->rel.sha256)
                return 0;
        if (asprintf(&url, "%s.sha256", a->url) < 0)
                return -ENOMEM;
        int r = fetch_http_get(j->http, url, SUMFILE_MAX, &text, NULL, e);
        if (r == -ROOST_ENOTFOUND)
                return fetch_fail(e, -ROOST_EFORMAT,
                                  "verifying %s: latest-releases.yaml gives no sha256 and %s.sha256 is missing",
                                  a->rel.file, a->rel.file);
        if (r < 0)
                return r;
        if (fetch_sumfile_parse(text, a->rel.file, STORE_SHA256_HEX, sha256) < 0)
                return fetch_fail(e, -ROOST_EFORMAT, "verifying %s: %s.sha256 holds no sha256 for it",
                                  a->rel.file, a->rel.file);
        return (a->rel.sha256 = strdup(sha256)) ? 0 : -ENOMEM;
}

static bool alpine_serves(const char *name)
{
        return strcmp(name, "alpine") == 0;
}

static int alpine_begin(struct fetch_job *j, roost_error *e)
{
        struct alpine *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        j->data = a;
        if (!store_ref_tag_valid(j->tag) || fetch_tag_parse(j->tag, &a->t) < 0)
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "'%s' is not an Alpine version (try 3.22, 3.22.1, edge or latest-stable)",
                                  j->tag);
        return 0;
}

static int alpine_resolve(struct fetch_job *j, roost_error *e)
{
        struct alpine *a = j->data;
        bool file = false;
        int r;
        if ((r = mirror_get(j->o, &a->mirror, &file, e)) < 0 || (r = fetch_job_connect(j, file, e)) < 0 ||
            (r = resolve_release(j, e)) < 0 || (r = read_sumfile(j, e)) < 0)
                return r;
        /* The release becomes the image's one layer. */
        if ((r = fetch_image_layers(&j->image, 1)) < 0)
                return r;
        struct fetch_desc *d = &j->image.layers[0];
        d->name = TAKE_PTR(a->rel.file);
        d->sha256 = TAKE_PTR(a->rel.sha256);
        d->sha512 = TAKE_PTR(a->rel.sha512);
        d->size = a->rel.size;
        d->gzip = true;
        j->image.version = TAKE_PTR(a->rel.version);
        /* Alpine signs each release file: FILE.asc beside it. */
        if (!(d->url = strdup(a->url)) || !(j->image.source = strdup(a->url)) ||
            asprintf(&d->sig_url, "%s.asc", a->url) < 0) {
                d->sig_url = NULL; /* undefined after a failure */
                return -ENOMEM;
        }
        return 0;
}

static int alpine_fetch_blob(struct fetch_job *j, const struct fetch_desc *d, const char *step,
                             store_blob *sink, roost_error *e)
{
        return fetch_http_download(j->http, d->url, step, sink, d->size, e);
}

/* Around the minirootfs: a config that runs /bin/sh, created when the
 * index says the release was, so that one release is one image digest
 * wherever and whenever it is pulled. */
static int alpine_publish(struct fetch_job *j, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e)
{
        struct alpine *a = j->data;
        const struct fetch_desc *d = &j->image.layers[0];
        char diff_id[STORE_SHA256_HEX + 1];
        /* The diff_id was computed as the bytes came in, and recorded with
         * the blob; this only reads it back. */
        int r = store_layer_diff_id(j->s, d->sha256, true, diff_id);
        if (r < 0) {
                if (r == -ROOST_EFORMAT || r == -EIO)
                        return fetch_fail(e, -ROOST_EARCHIVE, "%s: not a whole gzip stream", d->name);
                return roost_error_set(e, r, "storing %s", d->name);
        }
        if ((r = store_image_put_rootfs(j->s, j->arch, d->sha256, diff_id, d->size, j->image.version,
                                        a->rel.date, d->name, ret_digest)) < 0)
                return roost_error_set(e, r, "storing the image of %s", d->name);
        return 0;
}

static void alpine_done(struct fetch_job *j)
{
        struct alpine *a = j->data;
        if (!a)
                return;
        free(a->mirror);
        free(a->dir);
        free(a->url);
        fetch_release_done(&a->rel);
        free(a);
        j->data = NULL;
}

const struct fetch_source fetch_source_alpine = {
        .default_tag = "latest-stable",
        .serves = alpine_serves,
        .begin = alpine_begin,
        .resolve = alpine_resolve,
        .fetch_blob = alpine_fetch_blob,
        .publish = alpine_publish,
        .done = alpine_done,
};
