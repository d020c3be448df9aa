/* fetch_pull: the straight line from a name and a tag to a verified blob
 * and a reference in the store. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/util.h"
#include "fetch/fetch-private.h"

#define INDEX_MAX   (1u << 18) /* latest-releases.yaml is a few kilobytes */
#define SUMFILE_MAX 4096

struct pull {
        store *s;
        const struct fetch_options *o;
        fetch_http *http;
        const char *name, *tag, *arch;
        char *mirror; /* without a trailing slash */
        struct fetch_tag t;
        char *dir; /* the mirror folder the release lives in: "v3.20", "edge" */
        struct fetch_release rel;
        char *url; /* the tarball's */
};

static void pull_done(struct pull *p)
{
        fetch_http_free(p->http);
        free(p->mirror);
        free(p->dir);
        free(p->url);
        fetch_release_done(&p->rel);
}

static void step(struct pull *p, const char *what, uint64_t done, uint64_t total)
{
        if (p->o->progress)
                p->o->progress(p->o->userdata, what, done, total);
}

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

static int get_index(struct pull *p, const char *dir, char **ret, size_t *ret_len, roost_error *e)
{
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s/%s/releases/%s/latest-releases.yaml", p->mirror, dir, p->arch) < 0)
                return -ENOMEM;
        return fetch_http_get(p->http, url, INDEX_MAX, ret, ret_len, e);
}

/* latest-stable is a symlink to the newest branch on Alpine's mirror, but a
 * copy of the tree (a USB stick, a plain file server) may hold a file
 * naming the branch instead: "v3.20". */
static int resolve_latest(struct pull *p, char **ret_index, size_t *ret_len, roost_error *e)
{
        int r = get_index(p, "latest-stable", ret_index, ret_len, e);
        if (r != -ROOST_ENOTFOUND) {
                if (r == 0 && !(p->dir = strdup("latest-stable")))
                        return -ENOMEM;
                return r;
        }
        /* On Alpine's own layout latest-stable is a directory, which a
         * server answers with a redirect, a listing or a refusal: when the
         * fallback finds no branch name there, the index's 404 is the
         * answer (exit 3). A network failure is still one. */
        const roost_error missing = *e;
        _cleanup_free_ char *url = NULL, *text = NULL;
        if (asprintf(&url, "%s/latest-stable", p->mirror) < 0)
                return -ENOMEM;
        r = fetch_http_get(p->http, url, 64, &text, NULL, e);
        if (r == 0) {
                text[strcspn(text, " \t\r\n")] = 0;
                if (fetch_branch_valid(text)) {
                        if (!(p->dir = strdup(text)))
                                return -ENOMEM;
                        return get_index(p, p->dir, ret_index, ret_len, e);
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
static int resolve_unindexed(struct pull *p, roost_error *e)
{
        _cleanup_free_ char *url = NULL, *text = NULL;
        char sha256[STORE_SHA256_HEX + 1];
        if (asprintf(&p->rel.file, "alpine-minirootfs-%s-%s.tar.gz", p->t.version, p->arch) < 0) {
                p->rel.file = NULL;
                return -ENOMEM;
        }
        if (asprintf(&url, "%s/%s/releases/%s/%s.sha256", p->mirror, p->dir, p->arch, p->rel.file) < 0)
                return -ENOMEM;
        int r = fetch_http_get(p->http, url, SUMFILE_MAX, &text, NULL, e);
        if (r == -ROOST_ENOTFOUND)
                return fetch_fail(e, r, "%s:%s not found: %s lists no %s for %s and %s is missing on %s",
                                  p->name, p->tag, p->dir, p->t.version, p->arch, p->rel.file, p->mirror);
        if (r < 0)
                return r;
        if (fetch_sumfile_parse(text, p->rel.file, STORE_SHA256_HEX, sha256) < 0)
                return fetch_fail(e, -ROOST_EFORMAT, "%s: no sha256 for %s", url, p->rel.file);
        if (!(p->rel.sha256 = strdup(sha256)) || !(p->rel.version = strdup(p->t.version)))
                return -ENOMEM;
        free(url);
        free(text);
        url = text = NULL;
        if (asprintf(&url, "%s/%s/releases/%s/%s.sha512", p->mirror, p->dir, p->arch, p->rel.file) < 0)
                return -ENOMEM;
        char sha512[STORE_SHA512_HEX + 1];
        roost_error ignored;
        if (fetch_http_get(p->http, url, SUMFILE_MAX, &text, NULL, &ignored) == 0 &&
            fetch_sumfile_parse(text, p->rel.file, STORE_SHA512_HEX, sha512) == 0 &&
            !(p->rel.sha512 = strdup(sha512)))
                return -ENOMEM;
        return 0;
}

static int resolve(struct pull *p, roost_error *e)
{
        _cleanup_free_ char *index = NULL;
        size_t len = 0;
        int r;
        char what[300];
        snprintf(what, sizeof(what), "resolving %s:%s (%s)", p->name, p->tag, p->arch);
        step(p, what, 0, 0);
        if (p->t.kind == FETCH_TAG_LATEST)
                r = resolve_latest(p, &index, &len, e);
        else {
                if (!(p->dir = strdup(p->t.dir)))
                        return -ENOMEM;
                r = get_index(p, p->dir, &index, &len, e);
        }
        if (r == -ROOST_ENOTFOUND) {
                char why[sizeof(e->msg)];
                snprintf(why, sizeof(why), "%s", e->msg);
                return fetch_fail(e, r, "%s:%s not found: no release index for %s (%s)", p->name, p->tag,
                                  p->arch, why);
        }
        if (r < 0)
                return r;
        roost_error ie;
        r = fetch_index_pick(index, len, p->arch, p->t.kind == FETCH_TAG_EXACT ? p->t.version : NULL, &p->rel,
                             &ie);
        if (r == -ROOST_ENOTFOUND && p->t.kind == FETCH_TAG_EXACT)
                r = resolve_unindexed(p, e);
        else if (r < 0)
                return fetch_fail(e, r, "%s:%s: reading %s/releases/%s/latest-releases.yaml: %s", p->name,
                                  p->tag, p->dir, p->arch, ie.msg);
        if (r < 0)
                return r;
        /* A branch's index lists that branch's releases: "3.99.0" from
         * v3.22's is a mirror's lie, not the newest 3.22. */
        size_t n = p->dir[0] == 'v' ? strlen(p->dir + 1) : 0;
        if (n && (strncmp(p->rel.version, p->dir + 1, n) != 0 || p->rel.version[n] != '.'))
                return fetch_fail(e, -ROOST_EFORMAT,
                                  "%s:%s: %s/releases/%s/latest-releases.yaml offers %s, not a %s release",
                                  p->name, p->tag, p->dir, p->arch, p->rel.version, p->dir + 1);
        if (asprintf(&p->url, "%s/%s/releases/%s/%s", p->mirror, p->dir, p->arch, p->rel.file) < 0) {
                p->url = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* The published .sha256 must agree with the index before a byte of the
 * tarball is fetched: two sources that disagree mean one was tampered
 * with, and we cannot tell which. */
static int check_sumfile(struct pull *p, roost_error *e)
{
        _cleanup_free_ char *url = NULL, *text = NULL;
        char sha256[STORE_SHA256_HEX + 1];
        if (asprintf(&url, "%s.sha256", p->url) < 0)
                return -ENOMEM;
        int r = fetch_http_get(p->http, url, SUMFILE_MAX, &text, NULL, e);
        if (r < 0)
                return r;
        if (fetch_sumfile_parse(text, p->rel.file, STORE_SHA256_HEX, sha256) < 0)
                return fetch_fail(e, -ROOST_EFORMAT, "verifying %s: %s.sha256 holds no sha256 for it",
                                  p->rel.file, p->rel.file);
        if (strcmp(sha256, p->rel.sha256) != 0)
                return fetch_fail(
                        e, -ROOST_EDIGEST,
                        "verifying %s: %s.sha256 (%.12s…) disagrees with latest-releases.yaml (%.12s…)",
                        p->rel.file, p->rel.file, sha256, p->rel.sha256);
        return 0;
}

static int download(struct pull *p, char ret_sha512[STORE_SHA512_HEX + 1], roost_error *e)
{
        store_blob *b = NULL;
        char what[300];
        snprintf(what, sizeof(what), "downloading %s", p->rel.file);
        step(p, what, 0, p->rel.size);
        /* Waits while another pull of the same bytes holds the partial
         * file, and finds the blob stored when it is done. */
        int r = store_blob_begin_layer(p->s, p->rel.sha256, true, &b);
        if (r < 0)
                return roost_error_set(e, r, "storing %s", p->rel.file);
        if (r > 0) {
                /* Stored already under this sha256: the index's size and
                 * sha512, which the reference will record, must hold for
                 * it too. */
                uint64_t size;
                ret_sha512[0] = 0;
                if ((r = store_blob_size(p->s, p->rel.sha256, &size)) < 0)
                        return roost_error_set(e, r, "storing %s", p->rel.file);
                if (p->rel.size && size != p->rel.size)
                        return fetch_fail(e, -ROOST_ESIZE,
                                          "verifying %s: the index says %llu bytes, the stored archive with "
                                          "its sha256 has %llu",
                                          p->rel.file, (unsigned long long)p->rel.size,
                                          (unsigned long long)size);
                if (p->rel.sha512 && (r = store_blob_verify(p->s, p->rel.sha256, p->rel.sha512)) < 0)
                        return fetch_fail(e, r, "verifying %s: %s", p->rel.file,
                                          r == -ROOST_EDIGEST
                                                  ? "the stored archive does not match the index's "
                                                    "sha512"
                                                  : roost_strerror(r));
                step(p, what, p->rel.size, p->rel.size);
                return 0;
        }
        uint64_t off = store_blob_offset(b);
        if (p->rel.size && off > p->rel.size) {
                /* More than the index announces: not a partial download of
                 * this file. Start again from nothing. */
                if ((r = store_blob_restart(b)) < 0) {
                        store_blob_abort(b, false);
                        return roost_error_set(e, r, "storing %s", p->rel.file);
                }
                off = 0;
        }
        if (!p->rel.size || off < p->rel.size) {
                r = fetch_http_download(p->http, p->url, what, b, p->rel.size, e);
                if (r < 0) {
                        /* Bytes that came in before a network failure are
                         * good for a resume; too many bytes are not. */
                        store_blob_abort(b, r != -ROOST_ESIZE && r != -ROOST_EHTTP);
                        return r;
                }
        }
        char sha256[STORE_SHA256_HEX + 1];
        snprintf(what, sizeof(what), "verifying %s", p->rel.file);
        step(p, what, 0, 0);
        r = store_blob_digests(b, sha256, ret_sha512);
        if (r < 0) {
                store_blob_abort(b, true);
                return roost_error_set(e, r, "verifying %s", p->rel.file);
        }
        if (strcmp(sha256, p->rel.sha256) != 0) {
                store_blob_abort(b, false);
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying %s: sha256 mismatch (expected %.16s…, got %.16s…)", p->rel.file,
                                  p->rel.sha256, sha256);
        }
        if (p->rel.sha512 && strcmp(ret_sha512, p->rel.sha512) != 0) {
                store_blob_abort(b, false);
                return fetch_fail(e, -ROOST_EDIGEST,
                                  "verifying %s: sha512 mismatch (expected %.16s…, got %.16s…)", p->rel.file,
                                  p->rel.sha512, ret_sha512);
        }
        if (!p->rel.size)
                p->rel.size = store_blob_offset(b);
        r = store_blob_commit(b);
        if (r < 0)
                return roost_error_set(e, r, "storing %s", p->rel.file);
        return 0;
}

/* Without --refresh a stored reference whose blob is present is enough:
 * blobs are published only after verification and are read-only, and
 * `roost verify` re-hashes them on demand. */
static int stored(struct pull *p, struct store_ref *ret)
{
        struct store_ref ref = { 0 };
        uint64_t size;
        if (store_ref_read(p->s, p->name, p->tag, p->arch, &ref) < 0)
                return 0;
        if (ref.n_layers != 1 || store_blob_size(p->s, ref.layers[0].digest, &size) < 0 || size != ref.size) {
                store_ref_done(&ref);
                return 0;
        }
        *ret = ref;
        return 1;
}

int fetch_pull(store *s, const char *name, const char *tag, const struct fetch_options *o,
               struct store_ref *ret, roost_error *e)
{
        roost_error local;
        const struct fetch_options none = { .retries = -1 };
        struct pull p = {
                .s = s, .o = o ? o : &none, .name = name, .tag = tag && *tag ? tag : "latest-stable"
        };
        char sha512[STORE_SHA512_HEX + 1] = "";
        bool file = false;
        int r;
        if (!e)
                e = &local;
        e->msg[0] = 0;
        o = p.o;

        if (!name || !store_ref_name_valid(name))
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a valid image name", name ? name : "");
        if (strcmp(name, "alpine") != 0)
                return fetch_fail(e, -ROOST_ENOTFOUND, "unknown image '%s': only alpine is available", name);
        if (!store_ref_tag_valid(p.tag) || fetch_tag_parse(p.tag, &p.t) < 0)
                return fetch_fail(e, -ROOST_EUSAGE,
                                  "'%s' is not an Alpine version (try 3.22, 3.22.1, edge or latest-stable)",
                                  p.tag);
        p.arch = o->arch ? o->arch : host_alpine_arch();
        if (!p.arch)
                return fetch_fail(e, -ROOST_EUSAGE, "unknown host architecture: name one with --arch");
        if (!store_arch_valid(p.arch))
                return fetch_fail(e, -ROOST_EUSAGE, "'%s' is not a valid architecture", p.arch);

        if ((!o->refresh || o->offline) && stored(&p, ret))
                return 0;
        if (o->offline)
                return fetch_fail(e, -ROOST_ENOTFOUND,
                                  "%s:%s (%s) is not stored, and the network is off limits", name, p.tag,
                                  p.arch);

        if ((r = mirror_get(o, &p.mirror, &file, e)) < 0)
                goto out;
        struct fetch_http_config hc = {
                .cacert = o->cacert,
                .allow_file = file,
                .retries = o->retries,
                .timeout = o->timeout,
                .progress = o->progress,
                .warn = o->warn,
                .userdata = o->userdata,
        };
        if ((r = fetch_http_new(&hc, &p.http, e)) < 0)
                goto out;
        if ((r = resolve(&p, e)) < 0 || (r = check_sumfile(&p, e)) < 0 || (r = download(&p, sha512, e)) < 0)
                goto out;

        char diff_id[STORE_SHA256_HEX + 1], digest[STORE_SHA256_HEX + 1];
        struct store_ref ref = {
                .name = (char *)name,
                .tag = (char *)p.tag,
                .arch = (char *)p.arch,
                .version = p.rel.version,
                .source = p.url,
                .digest = digest,
                .sha512 = sha512[0] ? sha512 : p.rel.sha512,
                .size = p.rel.size,
                .created = (int64_t)time(NULL),
        };
        if (!ref.size && (r = store_blob_size(s, p.rel.sha256, &ref.size)) < 0) {
                roost_error_set(e, r, "storing %s", p.rel.file);
                goto out;
        }
        /* The diff_id was computed as the bytes came in, and recorded with
         * the blob; this only reads it back. */
        if ((r = store_layer_diff_id(s, p.rel.sha256, true, diff_id)) < 0) {
                if (r == -ROOST_EFORMAT || r == -EIO)
                        r = fetch_fail(e, -ROOST_EARCHIVE, "%s: not a whole gzip stream", p.rel.file);
                else
                        roost_error_set(e, r, "storing %s", p.rel.file);
                goto out;
        }
        if ((r = store_image_put_rootfs(s, p.arch, p.rel.sha256, diff_id, ref.size, p.rel.version, p.rel.date,
                                        p.rel.file, digest)) < 0) {
                roost_error_set(e, r, "storing the image of %s", p.rel.file);
                goto out;
        }
        if ((r = store_ref_write(s, &ref)) < 0) {
                roost_error_set(e, r, "writing reference %s:%s", name, p.tag);
                goto out;
        }
        r = store_ref_read(s, name, p.tag, p.arch, ret);
        if (r < 0)
                roost_error_set(e, r, "reading reference %s:%s back", name, p.tag);
out:
        pull_done(&p);
        return r;
}
