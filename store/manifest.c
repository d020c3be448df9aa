/* Manifests: what an unpacked tree held when it was published, so that
 * `roost verify` can tell which file changed since. JSON lines, one entry
 * a line, written while walking the tree so memory stays flat. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

#define MANIFEST  "manifest.jsonl"
#define MAX_DEPTH 512

static char type_char(mode_t m)
{
        return S_ISREG(m)    ? 'f'
               : S_ISDIR(m)  ? 'd'
               : S_ISLNK(m)  ? 'l'
               : S_ISCHR(m)  ? 'c'
               : S_ISBLK(m)  ? 'b'
               : S_ISFIFO(m) ? 'p'
               : S_ISSOCK(m) ? 's'
                             : '?';
}

static int hash_file(int dirfd, const char *name, char out[STORE_SHA256_HEX + 1])
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        _cleanup_store_hash_ store_hash *h = NULL;
        int r = store_hash_new(&h);
        if (r < 0 || (r = store_hash_fd(h, fd, NULL)) < 0)
                return r;
        return store_hash_peek(h, out, NULL);
}

/* Names and link targets are bytes, JSON strings are UTF-8: bytes outside
 * printable ASCII, and '%' itself, are written as %XX. */
static char *encode(const char *in, size_t n)
{
        char *out = malloc(n * 3 + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)in[i];
                if (c < 0x20 || c >= 0x7f || c == '%')
                        p += sprintf(p, "%%%02X", c);
                else
                        *p++ = (char)c;
        }
        *p = 0;
        return out;
}

static char *decode(const char *in)
{
        char *out = malloc(strlen(in) + 1), *p = out;
        if (!out)
                return NULL;
        for (; *in; in++) {
                unsigned v;
                if (in[0] == '%' && sscanf(in + 1, "%2X", &v) == 1 && in[1] && in[2]) {
                        *p++ = (char)v;
                        in += 2;
                } else
                        *p++ = *in;
        }
        *p = 0;
        return out;
}

/* The manifest's view of one entry, as a JSON object. PATH is encoded. */
static int describe(int dirfd, const char *name, const char *path, const struct stat *st, json_t **ret)
{
        char t[2] = { type_char(st->st_mode), 0 };
        _cleanup_json_ json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:I}", "path", path, "type", t, "mode",
                                             (int)(st->st_mode & 07777), "uid", (json_int_t)st->st_uid, "gid",
                                             (json_int_t)st->st_gid);
        if (!o)
                return -ENOMEM;
        if (S_ISREG(st->st_mode)) {
                char sha[STORE_SHA256_HEX + 1];
                int r = hash_file(dirfd, name, sha);
                json_object_set_new(o, "size", json_integer((json_int_t)st->st_size));
                /* A mode-000 file is unreadable to an unprivileged owner:
                 * its content goes unrecorded rather than failing the tree. */
                if (r == 0)
                        json_object_set_new(o, "sha256", json_string(sha));
                else if (r != -EACCES)
                        return r;
        } else if (S_ISLNK(st->st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                _cleanup_free_ char *enc = encode(target, (size_t)n);
                if (!enc)
                        return -ENOMEM;
                json_object_set_new(o, "target", json_string(enc));
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                json_object_set_new(o, "rdev", json_integer((json_int_t)st->st_rdev));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

typedef int (*walk_fn)(void *ud, int dirfd, const char *name, const char *path, const struct stat *st);

/* Depth-first, each directory's entries in name order so that the
 * manifest is the same for the same tree. */
static int walk(int dfd, const char *prefix, int depth, walk_fn fn, void *ud)
{
        if (depth > MAX_DEPTH)
                return -ROOST_ELIMIT;
        struct dirent **list;
        int n = scandirat(dfd, ".", &list, NULL, alphasort);
        if (n < 0)
                return -errno;
        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                if (r < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
                        continue;
                _cleanup_free_ char *path = NULL, *enc = encode(name, strlen(name));
                struct stat st;
                if (!enc || asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", enc) < 0) {
                        r = -ENOMEM;
                        continue;
                }
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        continue;
                }
                if ((r = fn(ud, dfd, name, path, &st)) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int cfd =
                                openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        /* A directory its unprivileged owner may not read
                         * (mode 000) goes unlisted, as an unreadable file's
                         * content goes unrecorded; verify's walk skips it
                         * alike. */
                        r = cfd >= 0 ? walk(cfd, path, depth + 1, fn, ud) : errno == EACCES ? 0 : -errno;
                }
        }
        for (int i = 0; i < n; i++)
                free(list[i]);
        free(list);
        return r;
}

static int write_entry(void *ud, int dirfd, const char *name, const char *path, const struct stat *st)
{
        _cleanup_json_ json_t *o = NULL;
        int r = describe(dirfd, name, path, st, &o);
        if (r < 0)
                return r;
        return json_dumpf(o, ud, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 || fputc('\n', ud) == EOF ? -EIO : 0;
}

int store_manifest_write(int rootfd, int metafd)
{
        _cleanup_close_ int fd =
                openat(metafd, MANIFEST, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(TAKE_FD(fd), "w");
        if (!f)
                return -errno;
        int r = walk(rootfd, "", 0, write_entry, f);
        if (fflush(f) != 0 && r == 0)
                r = -errno;
        if (fsync(fileno(f)) < 0 && r == 0)
                r = -errno;
        fclose(f);
        return r;
}

struct check {
        char **paths; /* every path of the manifest, in walk order */
        size_t n;
        void (*damaged)(void *, const char *, const char *);
        void *userdata;
        int count;
};

static int path_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_unexpected(void *ud, int dirfd, const char *name, const char *path, const struct stat *st)
{
        struct check *c = ud;
        const char *key = path;
        if (!bsearch(&key, c->paths, c->n, sizeof(char *), path_cmp)) {
                c->damaged(c->userdata, path, "unexpected");
                c->count++;
        }
        return 0;
}

/* Relative, and no empty, "." or ".." component: "libfoo..so" is a
 * name like any other. */
static bool path_ok(const char *p)
{
        if (!*p || *p == '/')
                return false;
        for (;;) {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

static const char *compare(int rootfd, json_t *want)
{
        const char *encoded = json_string_value(json_object_get(want, "path"));
        _cleanup_free_ char *path = encoded ? decode(encoded) : NULL;
        if (!path || !path_ok(path))
                return "bad manifest entry";
        /* A damaged tree may have a symlink where a directory was: resolve
         * the parent strictly inside the root and without following any
         * link, so verification never reads outside the tree. */
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        const char *base = slash ? slash + 1 : path;
        if (!dir)
                return "unreadable";
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int pfd = (int)syscall(SYS_openat2, rootfd, dir, &how, sizeof(how));
        struct stat st;
        if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return "missing";
        _cleanup_json_ json_t *got = NULL;
        if (describe(pfd, base, encoded, &st, &got) < 0)
                return "unreadable";
        static const char *const fields[] = { "type", "content", "sha256", "size", "mode",
                                              "uid",  "gid",     "target", "rdev" };
        const char *what = NULL;
        for (size_t i = 0; i < ELEMENTSOF(fields) && !what; i++) {
                json_t *a = json_object_get(want, fields[i]), *b = json_object_get(got, fields[i]);
                if ((a || b) && !(a && b && json_equal(a, b)))
                        what = !strcmp(fields[i], "sha256") ? "content" : fields[i];
        }
        return what;
}

int store_manifest_check(store *s, const char *sha256,
                         void (*damaged)(void *userdata, const char *path, const char *what), void *userdata)
{
        char name[128];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_tree_name(sha256, MANIFEST, name, sizeof(name));
        _cleanup_close_ int mfd = openat(s->fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return -errno;
        store_tree_name(sha256, "rootfs", name, sizeof(name));
        _cleanup_close_ int rootfd = openat(s->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        FILE *f = fdopen(TAKE_FD(mfd), "r");
        if (!f)
                return -errno;
        struct check c = { .damaged = damaged, .userdata = userdata };
        size_t cap = 0;
        int r = 0;
        char *line = NULL;
        size_t len = 0;
        while (getline(&line, &len, f) > 0) {
                _cleanup_json_ json_t *o = json_loads(line, 0, NULL);
                const char *path = o ? json_string_value(json_object_get(o, "path")) : NULL;
                if (!path) {
                        r = -ROOST_EFORMAT;
                        break;
                }
                const char *what = compare(rootfd, o);
                if (what) {
                        damaged(userdata, path, what);
                        c.count++;
                }
                if (c.n == cap) {
                        cap = cap ? cap * 2 : 1024;
                        char **g = realloc(c.paths, cap * sizeof(char *));
                        if (!g) {
                                r = -ENOMEM;
                                break;
                        }
                        c.paths = g;
                }
                c.paths[c.n++] = strdup(path);
        }
        free(line);
        fclose(f);
        if (r == 0) {
                qsort(c.paths, c.n, sizeof(char *), path_cmp);
                r = walk(rootfd, "", 0, check_unexpected, &c);
        }
        for (size_t i = 0; i < c.n; i++)
                free(c.paths[i]);
        free(c.paths);
        return r < 0 ? r : c.count;
}
