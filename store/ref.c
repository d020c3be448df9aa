/* References: tags/<name>/<tag>, one small JSON document naming an OCI
 * index blob, which lists the platforms of NAME:TAG that are stored. A
 * name's '/' is written %2F, so a name is one path component. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

#define TAG_MAX_LEN  128

static bool lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+ ((.|_|__|-+) [a-z0-9]+)*: docker's path component. */
static bool component_valid(const char *s, size_t n)
{
        if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 1; i < n; i++) {
                if (lower_alnum(s[i]))
                        continue;
                size_t run = 1;
                while (i + run < n && s[i + run] == s[i])
                        run++;
                if (s[i] == '-' ? false : s[i] == '_' ? run > 2 : s[i] == '.' ? run > 1 : true)
                        return false;
                i += run - 1;
        }
        return true;
}

/* A registry host: labels of [A-Za-z0-9-], dotted, and an optional :port. */
static bool host_valid(const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n);
        size_t h = colon ? (size_t)(colon - s) : n;
        if (h == 0 || s[0] == '.' || s[0] == '-' || s[h - 1] == '.' || s[h - 1] == '-')
                return false;
        for (size_t i = 0; i < h; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || (s[i] == '.' && s[i + 1] != '.')))
                        return false;
        if (!colon)
                return true;
        size_t p = n - h - 1;
        unsigned long port = 0;
        if (p == 0 || p > 5)
                return false;
        for (size_t i = h + 1; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                port = port * 10 + (unsigned long)(s[i] - '0');
        }
        return port > 0 && port <= 65535;
}

bool store_ref_name_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;
        if (n == 0 || n > STORE_NAME_MAX)
                return false;
        for (const char *p = name, *end; *p; p = *end ? end + 1 : end) {
                end = strchrnul(p, '/');
                size_t k = (size_t)(end - p);
                /* docker's rule: a first component of several that has a
                 * '.' or ':', or is localhost, is a registry. */
                bool host = p == name && *end && (memchr(p, '.', k) || memchr(p, ':', k) ||
                                                   (k == 9 && !strncmp(p, "localhost", 9)));
                if (host ? !host_valid(p, k) : !component_valid(p, k))
                        return false;
                if (*end && !end[1])
                        return false;
        }
        return true;
}

bool store_ref_tag_valid(const char *tag)
{
        size_t n = tag ? strlen(tag) : 0;
        if (n == 0 || n > TAG_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = tag[i];
                bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                if (!word && (i == 0 || (c != '.' && c != '-')))
                        return false;
        }
        return true;
}

bool store_arch_valid(const char *arch)
{
        size_t n = arch ? strlen(arch) : 0;
        return n > 0 && n <= 32 && component_valid(arch, n);
}

int store_ref_parse(const char *text, const char *default_tag, char **ret_name, char **ret_tag)
{
        if (!text)
                return -ROOST_EUSAGE;
        /* NAME[:TAG]@sha256:HEX, a registry's image pinned by its digest,
         * is kept under the tag sha256-HEX: a tag cannot hold a ':', and
         * the digest decides, as it does for docker. */
        const char *at = strrchr(text, '@');
        if (at) {
                if (strncmp(at + 1, "sha256:", 7) != 0 || !store_digest_valid(at + 8))
                        return -ROOST_EUSAGE;
                _cleanup_free_ char *head = strndup(text, (size_t)(at - text)), *pinned = NULL;
                if (!head || asprintf(&pinned, "sha256-%s", at + 8) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *ignored = NULL;
                int r = store_ref_parse(head, NULL, ret_name, &ignored);
                if (r < 0)
                        return r;
                *ret_tag = TAKE_PTR(pinned);
                return 0;
        }
        /* The tag's ':' is the last one after the last '/': a registry's
         * port comes before. */
        const char *slash = strrchr(text, '/');
        const char *colon = strchr(slash ? slash : text, ':');
        _cleanup_free_ char *name = colon ? strndup(text, (size_t)(colon - text)) : strdup(text);
        _cleanup_free_ char *tag = NULL;
        if (!name)
                return -ENOMEM;
        if ((colon || default_tag) && !(tag = strdup(colon ? colon + 1 : default_tag)))
                return -ENOMEM;
        if (!store_ref_name_valid(name) || (tag && !store_ref_tag_valid(tag)))
                return -ROOST_EUSAGE;
        /* Docker Hub's names as docker spells them: docker.io/alpine and
         * index.docker.io/library/alpine are docker.io/library/alpine, the
         * name pull stores its images under. */
        const char *hub = !strncmp(name, "docker.io/", 10)         ? name + 10
                          : !strncmp(name, "index.docker.io/", 16) ? name + 16
                                                                   : NULL;
        if (hub) {
                char *canon = NULL;
                if (asprintf(&canon, "docker.io/%s%s", strchr(hub, '/') ? "" : "library/", hub) < 0)
                        return -ENOMEM;
                free(name);
                name = canon;
                if (!store_ref_name_valid(name))
                        return -ROOST_EUSAGE;
        }
        *ret_name = TAKE_PTR(name);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}

bool store_ref_name_remote(const char *name)
{
        const char *slash = strchr(name, '/');
        if (!slash)
                return false;
        size_t len = (size_t)(slash - name);
        return memchr(name, '.', len) || memchr(name, ':', len) ||
               (len == 9 && !memcmp(name, "localhost", 9));
}

/* NAME as one path component: '/' becomes %2F ('%' is never in a name). */
static int name_encode(const char *name, char *buf, size_t n)
{
        if (!store_ref_name_valid(name))
                return -ROOST_EUNSAFE;
        size_t j = 0;
        for (const char *p = name; *p; p++) {
                if (j + 4 >= n)
                        return -ENAMETOOLONG;
                if (*p == '/') {
                        memcpy(buf + j, "%2F", 3);
                        j += 3;
                } else
                        buf[j++] = *p;
        }
        buf[j] = 0;
        return 0;
}

static int name_decode(const char *enc, char *buf, size_t n)
{
        size_t j = 0;
        for (const char *p = enc; *p; p++) {
                if (j + 1 >= n)
                        return -ENAMETOOLONG;
                if (*p == '%') {
                        if (strncmp(p, "%2F", 3) != 0)
                                return -ROOST_EFORMAT;
                        buf[j++] = '/';
                        p += 2;
                } else
                        buf[j++] = *p;
        }
        buf[j] = 0;
        return store_ref_name_valid(buf) ? 0 : -ROOST_EFORMAT;
}

void store_ref_done(struct store_ref *ref)
{
        if (!ref)
                return;
        free(ref->name);
        free(ref->tag);
        free(ref->arch);
        free(ref->version);
        free(ref->source);
        free(ref->digest);
        free(ref->config);
        free(ref->index);
        free(ref->sha512);
        free(ref->verdict);
        free(ref->signature);
        free(ref->signer);
        for (size_t i = 0; i < ref->n_layers; i++) {
                free(ref->layers[i].digest);
                free(ref->layers[i].diff_id);
                free(ref->layers[i].media_type);
        }
        free(ref->layers);
        memset(ref, 0, sizeof(*ref));
}

void store_ref_list_free(struct store_ref *refs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                store_ref_done(&refs[i]);
        free(refs);
}

int store_ref_to_json(const struct store_ref *ref, char **ret)
{
        char when[32];
        if (store_time_format(ref->created, when, sizeof(when)) < 0)
                return -EINVAL;
        json_t *ls = json_array();
        for (size_t i = 0; ls && i < ref->n_layers; i++)
                json_array_append_new(ls, json_pack("{s:s+, s:I}", "digest", "sha256:", ref->layers[i].digest,
                                                    "size", (json_int_t)ref->layers[i].size));
        _cleanup_json_ json_t *o =
                json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s+, s:s+, s:s?, s:I, s:s, s:o}", "name", ref->name,
                          "tag", ref->tag, "arch", ref->arch, "version", ref->version, "source", ref->source,
                          "digest", "sha256:", ref->digest, "config", "sha256:", ref->config, "sha512",
                          ref->sha512, "size", (json_int_t)ref->size, "created", when, "layers", ls);
        if (!o)
                return -EINVAL;
        /* The signature's record, as the store keeps it: "verdict" is
         * missing for an image pulled before roost checked signatures. */
        if (ref->verdict)
                json_object_set_new(o, "verdict", json_string(ref->verdict));
        if (ref->signer)
                json_object_set_new(o, "signer", json_string(ref->signer));
        if (ref->signature) {
                char d[8 + STORE_SHA256_HEX];
                snprintf(d, sizeof(d), "sha256:%s", ref->signature);
                json_object_set_new(o, "signature", json_string(d));
        }
        *ret = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        return *ret ? 0 : -ENOMEM;
}

/* ---- the index of a reference ---- */

int ref_index_hex(int dirfd, const char *file, char ret[STORE_SHA256_HEX + 1])
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dirfd, file, STORE_REF_MAX, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *o = json_loads(text, 0, NULL);
        const char *d = NULL;
        json_int_t schema = 0;
        if (!o || json_unpack(o, "{s:I, s:s}", "schema", &schema, "index", &d) < 0 || schema != 2 ||
            strncmp(d, "sha256:", 7) != 0 || !store_digest_valid(d + 7))
                return -ROOST_EFORMAT;
        memcpy(ret, d + 7, STORE_SHA256_HEX + 1);
        return 0;
}

json_t *ref_index_load(store *s, const char *hex)
{
        _cleanup_free_ char *text = NULL;
        if (store_blob_read(s, hex, STORE_DOC_MAX, &text, NULL) < 0)
                return NULL;
        _cleanup_json_ json_t *o = json_loads(text, 0, NULL);
        if (!json_is_array(json_object_get(o, "manifests")))
                return NULL;
        return TAKE_PTR(o);
}

const char *ref_entry_arch(json_t *m)
{
        json_t *p = json_object_get(m, "platform");
        return store_arch_from_platform(json_string_value(json_object_get(p, "architecture")),
                                        json_string_value(json_object_get(p, "variant")));
}

/* One platform's entry of an index into RET (name and tag already set). */
static int entry_read(store *s, json_t *m, struct store_ref *ret)
{
        const char *d = json_string_value(json_object_get(m, "digest")), *arch = ref_entry_arch(m);
        json_t *ann = json_object_get(m, "annotations");
        const char *when = json_string_value(json_object_get(ann, "roost.created"));
        const char *v = json_string_value(json_object_get(ann, "roost.version"));
        const char *src = json_string_value(json_object_get(ann, "roost.source"));
        const char *sha512 = json_string_value(json_object_get(ann, "roost.sha512"));
        const char *verdict = json_string_value(json_object_get(ann, "roost.verdict"));
        const char *sig = json_string_value(json_object_get(ann, "roost.signature"));
        const char *signer = json_string_value(json_object_get(ann, "roost.signer"));
        if (!arch || !d || strncmp(d, "sha256:", 7) != 0 || !store_digest_valid(d + 7) ||
            (sha512 && !is_hex(sha512, STORE_SHA512_HEX)) || (sig && !store_digest_valid(sig)) ||
            (verdict && strcmp(verdict, "signed") && strcmp(verdict, "unsigned")) ||
            (signer && (strlen(signer) > 64 || strspn(signer, "0123456789ABCDEF") != strlen(signer))))
                return -ROOST_EFORMAT;
        if ((verdict && !(ret->verdict = strdup(verdict))) || (sig && !(ret->signature = strdup(sig))) ||
            (signer && !(ret->signer = strdup(signer))))
                return -ENOMEM;
        if (when && store_time_parse(when, &ret->created) < 0)
                return -ROOST_EFORMAT;
        if (!(ret->arch = strdup(arch)) || (v && !(ret->version = strdup(v))) ||
            (src && !(ret->source = strdup(src))) || (sha512 && !(ret->sha512 = strdup(sha512))))
                return -ENOMEM;
        return store_manifest_read(s, d + 7, ret);
}

int ref_dir(const char *name, char *buf, size_t n)
{
        char enc[STORE_NAME_MAX * 3 + 1];
        int r = name_encode(name, enc, sizeof(enc));
        if (r < 0)
                return r;
        return (size_t)snprintf(buf, n, "tags/%s", enc) >= n ? -ENAMETOOLONG : 0;
}

/* Append to *REFS each platform of the reference file TAG in DIRFD (of
 * NAME), or only ARCH's. */
static int collect_one(store *s, int dirfd, const char *name, const char *tag, const char *arch,
                       struct store_ref **refs, size_t *n, size_t *cap)
{
        char hex[STORE_SHA256_HEX + 1];
        int r = ref_index_hex(dirfd, tag, hex);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *idx = ref_index_load(s, hex);
        json_t *m;
        if (!idx)
                return -ROOST_EFORMAT;
        size_t i;
        json_array_foreach(json_object_get(idx, "manifests"), i, m) {
                const char *a = ref_entry_arch(m);
                if (arch && (!a || strcmp(a, arch)))
                        continue;
                if (*n == *cap) {
                        size_t nc = *cap ? *cap * 2 : 16;
                        struct store_ref *g = realloc(*refs, nc * sizeof(**refs));
                        if (!g) {
                                r = -ENOMEM;
                                break;
                        }
                        *refs = g;
                        *cap = nc;
                }
                struct store_ref *ref = &(*refs)[*n];
                memset(ref, 0, sizeof(*ref));
                if (!(ref->name = strdup(name)) || !(ref->tag = strdup(tag)) || !(ref->index = strdup(hex)))
                        r = -ENOMEM;
                else
                        r = entry_read(s, m, ref);
                if (r < 0) {
                        store_ref_done(ref);
                        break;
                }
                (*n)++;
        }
        return r;
}

static void note_bad(char **bad, const char *dir, const char *file)
{
        if (bad && !*bad && asprintf(bad, "%s/%s", dir, file) < 0)
                *bad = NULL;
}

static int collect_name(store *s, const char *dir, const char *name, const char *arch, struct store_ref **refs,
                        size_t *n, size_t *cap, char **bad)
{
        DIR *d;
        int r = opendir_at(s->fd, dir, &d);
        if (r < 0)
                return r == -ENOENT || r == -ENOTDIR ? 0 : r;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                /* Only what store_ref_write makes is a reference: a regular
                 * file under a valid tag; temporaries begin with '.'. */
                if (!store_ref_tag_valid(de->d_name) ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                int k = collect_one(s, dirfd(d), name, de->d_name, arch, refs, n, cap);
                if (k == -ENOMEM) {
                        r = k;
                        break;
                }
                if (k < 0)
                        note_bad(bad, dir, de->d_name);
        }
        closedir(d);
        return r;
}

int store_ref_collect(store *s, const char *only, const char *arch, struct store_ref **refs, size_t *n,
                      size_t *cap, char **bad)
{
        char dir[REF_DIR_MAX], name[STORE_NAME_MAX + 1];
        if (only) {
                int r = ref_dir(only, dir, sizeof(dir));
                return r < 0 ? r : collect_name(s, dir, only, arch, refs, n, cap, bad);
        }
        DIR *d;
        int r = opendir_at(s->fd, "tags", &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d)) && r >= 0) {
                if (de->d_name[0] == '.' || name_decode(de->d_name, name, sizeof(name)) < 0)
                        continue;
                snprintf(dir, sizeof(dir), "tags/%s", de->d_name);
                r = collect_name(s, dir, name, arch, refs, n, cap, bad);
        }
        closedir(d);
        return r;
}

static int ref_cmp(const void *a, const void *b)
{
        const struct store_ref *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        if (!c)
                c = strverscmp(x->tag, y->tag);
        if (!c)
                c = strcmp(x->arch, y->arch);
        return c;
}

int store_ref_list(store *s, struct store_ref **ret, size_t *ret_n, char **ret_unreadable)
{
        struct store_ref *refs = NULL;
        size_t n = 0, cap = 0;
        int r = store_ref_collect(s, NULL, NULL, &refs, &n, &cap, ret_unreadable);
        if (r < 0) {
                store_ref_list_free(refs, n);
                return r;
        }
        if (n)
                qsort(refs, n, sizeof(*refs), ref_cmp);
        *ret = refs;
        *ret_n = n;
        return 0;
}

int store_ref_read(store *s, const char *name, const char *tag, const char *arch, struct store_ref *ret)
{
        char dir[REF_DIR_MAX];
        int r = ref_dir(name, dir, sizeof(dir));
        if (r < 0)
                return r;
        if (!store_ref_tag_valid(tag) || !store_arch_valid(arch))
                return -ROOST_EUNSAFE;
        _cleanup_close_ int dfd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? -ROOST_ENOTFOUND : -errno;
        struct store_ref *refs = NULL;
        size_t n = 0, cap = 0;
        r = collect_one(s, dfd, name, tag, arch, &refs, &n, &cap);
        if (r == -ENOENT)
                r = -ROOST_ENOTFOUND;
        if (r == 0 && n == 0)
                r = -ROOST_ENOTFOUND;
        if (r == 0) {
                *ret = refs[0];
                n--;
                memmove(refs, refs + 1, n * sizeof(*refs));
        }
        store_ref_list_free(refs, n);
        return r;
}

