#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

#define REF_PART_MAX 128

static bool part_valid(const char *s, bool upper_ok)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > REF_PART_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                             (upper_ok && c >= 'A' && c <= 'Z');
                /* The first character must be alphanumeric, which rules out
                 * ".", ".." and hidden names; '/' is never allowed. */
                if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
                        return false;
        }
        return true;
}

bool store_ref_name_valid(const char *name)
{
        return part_valid(name, false);
}

bool store_ref_tag_valid(const char *tag)
{
        return part_valid(tag, true);
}

bool store_arch_valid(const char *arch)
{
        return part_valid(arch, false);
}

int store_ref_parse(const char *text, const char *default_tag, char **ret_name, char **ret_tag)
{
        if (!text)
                return -ROOST_EUSAGE;
        const char *colon = strchr(text, ':');
        _cleanup_free_ char *name = colon ? strndup(text, (size_t)(colon - text)) : strdup(text);
        _cleanup_free_ char *tag = NULL;
        if (!name)
                return -ENOMEM;
        if ((colon || default_tag) && !(tag = strdup(colon ? colon + 1 : default_tag)))
                return -ENOMEM;
        if (!store_ref_name_valid(name) || (tag && !store_ref_tag_valid(tag)))
                return -ROOST_EUSAGE;
        *ret_name = TAKE_PTR(name);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}

static int ref_relpath(const char *name, const char *tag, const char *arch, char *buf, size_t n)
{
        if (!store_ref_name_valid(name) || !store_ref_tag_valid(tag) || !store_arch_valid(arch))
                return -ROOST_EUNSAFE;
        if ((size_t)snprintf(buf, n, "refs/%s/%s:%s", arch, name, tag) >= n)
                return -ENAMETOOLONG;
        return 0;
}

static void format_time(int64_t t, char *buf, size_t n)
{
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_time(const char *s, int64_t *ret)
{
        struct tm tm = { 0 };
        const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        if (!end || *end)
                return -ROOST_EFORMAT;
        *ret = (int64_t)timegm(&tm);
        return 0;
}

int store_ref_to_json(const struct store_ref *ref, char **ret)
{
        char when[32];
        format_time(ref->created, when, sizeof(when));
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:I, s:s}", "schema", 1, "name",
                              ref->name, "tag", ref->tag, "arch", ref->arch, "version", ref->version,
                              "source", ref->source, "sha256", ref->sha256, "sha512", ref->sha512, "size",
                              (json_int_t)ref->size, "created", when);
        if (!o)
                return -EINVAL;
        *ret = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(o);
        return *ret ? 0 : -ENOMEM;
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
        free(ref->sha256);
        free(ref->sha512);
        memset(ref, 0, sizeof(*ref));
}

int store_ref_from_json(const char *text, struct store_ref *ret)
{
        json_error_t err;
        json_t *o = json_loads(text, 0, &err);
        if (!o)
                return -ROOST_EFORMAT;
        const char *name, *tag, *arch, *version, *source, *sha256, *sha512 = NULL, *created;
        json_int_t size, schema;
        int r = json_unpack(o, "{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s?s, s:I, s:s}", "schema", &schema,
                            "name", &name, "tag", &tag, "arch", &arch, "version", &version, "source", &source,
                            "sha256", &sha256, "sha512", &sha512, "size", &size, "created", &created);
        struct store_ref ref = { 0 };
        if (r < 0 || schema != 1 || size < 0 || !store_ref_name_valid(name) || !store_ref_tag_valid(tag) ||
            !store_arch_valid(arch) || !store_digest_valid(sha256) ||
            (sha512 && !is_hex(sha512, STORE_SHA512_HEX)) || parse_time(created, &ref.created) < 0) {
                json_decref(o);
                return -ROOST_EFORMAT;
        }
        ref.name = strdup(name);
        ref.tag = strdup(tag);
        ref.arch = strdup(arch);
        ref.version = strdup(version);
        ref.source = strdup(source);
        ref.sha256 = strdup(sha256);
        ref.sha512 = sha512 ? strdup(sha512) : NULL;
        ref.size = (uint64_t)size;
        json_decref(o);
        if (!ref.name || !ref.tag || !ref.arch || !ref.version || !ref.source || !ref.sha256 ||
            (sha512 && !ref.sha512)) {
                store_ref_done(&ref);
                return -ENOMEM;
        }
        *ret = ref;
        return 0;
}

int store_ref_write(store *s, const struct store_ref *ref)
{
        char path[512], dir[64];
        int r = ref_relpath(ref->name, ref->tag, ref->arch, path, sizeof(path));
        if (r < 0)
                return r;
        if (!store_digest_valid(ref->sha256))
                return -ROOST_EUNSAFE;
        /* The invariant: a reference never names a missing archive. */
        if (!store_blob_exists(s, ref->sha256))
                return -ENOENT;
        snprintf(dir, sizeof(dir), "refs/%s", ref->arch);
        if ((r = mkdir_at_p(s->fd, dir, 0700)) < 0)
                return r;
        _cleanup_free_ char *json = NULL;
        if ((r = store_ref_to_json(ref, &json)) < 0)
                return r;
        _cleanup_close_ int dfd = openat(s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        size_t len = strlen(json);
        /* Never one that store_ref_read would refuse to read back. */
        if (len + 1 > STORE_REF_MAX)
                return -EFBIG;
        json[len] = '\n'; /* replaces the NUL; written with its length */
        return write_file_atomic_at(dfd, strrchr(path, '/') + 1, json, len + 1, 0600);
}

int store_ref_read(store *s, const char *name, const char *tag, const char *arch, struct store_ref *ret)
{
        char path[512];
        int r = ref_relpath(name, tag, arch, path, sizeof(path));
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        r = read_file_at(s->fd, path, STORE_REF_MAX, &text, NULL);
        if (r == -ENOENT)
                return -ROOST_ENOTFOUND;
        if (r < 0)
                return r;
        return store_ref_from_json(text, ret);
}

int store_ref_remove(store *s, const char *name, const char *tag, const char *arch)
{
        char path[512];
        int r = ref_relpath(name, tag, arch, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlinkat(s->fd, path, 0) < 0)
                return errno == ENOENT ? -ROOST_ENOTFOUND : -errno;
        return 0;
}

void store_ref_list_free(struct store_ref *refs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                store_ref_done(&refs[i]);
        free(refs);
}

static void note_unreadable(char **first, const char *arch, const char *name)
{
        if (first && !*first && asprintf(first, "refs/%s/%s", arch, name) < 0)
                *first = NULL;
}

int store_ref_list_arch(store *s, const char *arch, const char *only, struct store_ref **refs, size_t *n,
                        size_t *cap, char **bad)
{
        char dir[512];
        snprintf(dir, sizeof(dir), "refs/%s", arch);
        DIR *d;
        int r = opendir_at(s->fd, dir, &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                char *colon = strchr(de->d_name, ':');
                if (de->d_name[0] == '.' || !colon)
                        continue; /* temporaries of an atomic write */
                _cleanup_free_ char *text = NULL, *name = NULL, *tag = NULL;
                struct stat st;
                /* Only what store_ref_write could have made is a reference:
                 * a regular file under a valid name. Anything else names
                 * nothing for gc to keep, and rm could not name it. */
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    store_ref_parse(de->d_name, NULL, &name, &tag) < 0 || (only && strcmp(name, only) != 0))
                        continue;
                if (read_file_at(dirfd(d), de->d_name, STORE_REF_MAX, &text, NULL) < 0) {
                        note_unreadable(bad, arch, de->d_name);
                        continue;
                }
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
                if (store_ref_from_json(text, &(*refs)[*n]) == 0)
                        (*n)++;
                else
                        note_unreadable(bad, arch, de->d_name);
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
        DIR *d;
        int r = opendir_at(s->fd, "refs", &d);
        if (r < 0)
                return r;
        struct store_ref *refs = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || !store_arch_valid(de->d_name))
                        continue;
                if ((r = store_ref_list_arch(s, de->d_name, NULL, &refs, &n, &cap, ret_unreadable)) < 0 &&
                    r != -ENOTDIR)
                        break;
                r = 0;
        }
        closedir(d);
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
