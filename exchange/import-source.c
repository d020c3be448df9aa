/* What import reads from: an OCI layout directory, reached only below its
 * directory fd (openat2 RESOLVE_BENEATH), or an archive file, read twice
 * (its listing and documents first, then what is wanted, streamed into
 * the store). Paths inside an archive are only ever compared with the
 * paths the documents name: nothing is written by an archive's name, so
 * no name can reach outside anything; a name with ".." or an absolute one
 * is refused all the same, as a sign of a hostile archive. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/util.h"
#include "exchange/import-private.h"
#include "unpack/unpack.h"

#define READ_BLOCK (1 << 16)
#define EXPECTED                                                                                             \
        "expected an OCI layout or archive, a docker-archive, a root filesystem tarball, or the tar file "   \
        "that roost export writes, plain or compressed with gzip, xz, zstd or bzip2"

void import_source_done(struct import_source *src)
{
        for (size_t i = 0; i < src->n_entries; i++) {
                free(src->entries[i].path);
                free(src->entries[i].link);
                free(src->entries[i].data);
        }
        free(src->entries);
        src->entries = NULL;
        src->n_entries = src->cap_entries = 0;
}

bool import_path_safe(const char *path)
{
        if (!path || !*path || *path == '/')
                return false;
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += n;
                while (*p == '/')
                        p++;
        }
        return true;
}

/* PATH without "./" components and repeated or trailing slashes; NULL
 * when nothing is left (the archive's "./"). */
static char *path_normalise(const char *path)
{
        char *out = malloc(strlen(path) + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n && !(n == 1 && p[0] == '.')) {
                        if (o != out)
                                *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        *o = 0;
        if (o == out) {
                free(out);
                return NULL;
        }
        return out;
}

/* A link's TARGET as a path inside the archive, from the entry at FROM (a
 * symbolic link's target is relative to its directory); NULL when it
 * would leave the archive or is absolute. */
static char *link_resolve(const char *from, const char *target, bool symbolic)
{
        if (!target || !*target || *target == '/')
                return NULL;
        size_t dir = 0;
        const char *slash = symbolic ? strrchr(from, '/') : NULL;
        if (slash)
                dir = (size_t)(slash - from);
        _cleanup_free_ char *joined = malloc(dir + strlen(target) + 2);
        if (!joined)
                return NULL;
        snprintf(joined, dir + strlen(target) + 2, "%.*s%s%s", (int)dir, from, dir ? "/" : "", target);
        /* Resolve ".." against what comes before, refusing to climb out. */
        char *out = malloc(strlen(joined) + 1);
        size_t o = 0;
        if (!out)
                return NULL;
        for (const char *p = joined; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (o == 0) {
                                free(out);
                                return NULL;
                        }
                        while (o > 0 && out[o - 1] != '/')
                                o--;
                        if (o > 0)
                                o--;
                } else if (n && !(n == 1 && p[0] == '.')) {
                        if (o)
                                out[o++] = '/';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        out[o] = 0;
        if (!o) {
                free(out);
                return NULL;
        }
        return out;
}

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct import_entry *)a)->path, ((const struct import_entry *)b)->path);
}

static struct archive *archive_open(struct import_source *src, roost_error *e, int *ret)
{
        struct archive *a = archive_read_new();
        if (!a) {
                *ret = roost_error_set(e, -ENOMEM, "%s", src->label);
                return NULL;
        }
        archive_read_support_format_tar(a);
        unpack_read_filters(a);
        if (lseek(src->fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, src->fd, READ_BLOCK) != ARCHIVE_OK) {
                *ret = import_fail(e, -ROOST_EFORMAT, "%s: not an image archive: %s (" EXPECTED ")", src->label,
                                   archive_error_string(a) ?: strerror(errno));
                archive_read_free(a);
                return NULL;
        }
        return a;
}

/* The next entry with its path normalised into *RET_PATH (NULL for the
 * archive's root): 1 at the end. */
static int archive_next(struct import_source *src, struct archive *a, struct archive_entry **ent, char **ret_path,
                        roost_error *e)
{
        for (;;) {
                int r = archive_read_next_header(a, ent);
                if (r == ARCHIVE_EOF)
                        return 1;
                if (r < ARCHIVE_WARN)
                        return import_fail(e, -ROOST_EARCHIVE, "%s: reading the archive: %s", src->label,
                                               archive_error_string(a));
                const char *name = archive_entry_pathname(*ent);
                if (!name)
                        return import_fail(e, -ROOST_EARCHIVE, "%s: an entry without a name", src->label);
                if (!import_path_safe(name))
                        return import_fail(e, -ROOST_EUNSAFE, "%s: entry '%.200s' would leave the archive: refused as hostile",
                                               src->label, name);
                *ret_path = path_normalise(name);
                return 0;
        }
}

static int entry_add(struct import_source *src, struct import_entry *ent)
{
        if (src->n_entries == src->cap_entries) {
                size_t cap = src->cap_entries ? src->cap_entries * 2 : 64;
                struct import_entry *n = realloc(src->entries, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                src->entries = n;
                src->cap_entries = cap;
        }
        src->entries[src->n_entries++] = *ent;
        return 0;
}

int import_source_scan(struct import_source *src, roost_error *e)
{
        int r;
        struct archive *a = archive_open(src, e, &r);
        if (!a)
                return r;
        struct archive_entry *ent;
        char *path = NULL;
        bool any = false;
        while ((r = archive_next(src, a, &ent, &path, e)) == 0) {
                any = true;
                if (!path)
                        continue;
                unsigned type = archive_entry_filetype(ent);
                const char *hard = archive_entry_hardlink(ent), *sym = archive_entry_symlink(ent);
                /* Past the limit, the names that tell the formats apart
                 * are still kept: what was listed then is a root
                 * filesystem's, or an image archive refused as too large. */
                bool key = !strcmp(path, "index.json") || !strcmp(path, "oci-layout") ||
                           !strcmp(path, "manifest.json");
                bool full = src->n_entries >= IMPORT_ENTRIES_MAX || src->paths_bytes >= IMPORT_PATHS_MAX;
                if ((full && !key) || (type != AE_IFREG && type != AE_IFLNK && !hard)) {
                        src->too_many = src->too_many || full;
                        free(path);
                        path = NULL;
                        continue;
                }
                struct import_entry x = { .path = path, .size = (uint64_t)archive_entry_size(ent) };
                src->paths_bytes += strlen(path) + 1;
                path = NULL;
                if (hard || type == AE_IFLNK)
                        x.link = link_resolve(x.path, hard ? hard : sym, !hard);
                else {
                        la_ssize_t k = x.size ? archive_read_data(a, x.magic, sizeof(x.magic)) : 0;
                        if (k < 0) {
                                r = import_fail(e, -ROOST_EARCHIVE, "%s: reading %s: %s", src->label, x.path,
                                                    archive_error_string(a));
                                free(x.path);
                                break;
                        }
                        x.n_magic = (size_t)k;
                        /* Documents (JSON) are kept for the second look;
                         * layers never start with a brace. So are small
                         * entries, a signature roost export carried among
                         * them (IMPORT_SIGNATURE_MAX). */
                        if (k > 0 &&
                            (((x.magic[0] == '{' || x.magic[0] == '[') && x.size <= IMPORT_DOC_MAX) ||
                             x.size <= IMPORT_SIGNATURE_MAX) &&
                            src->docs_bytes + x.size <= IMPORT_DOCS_MAX) {
                                x.data = malloc(x.size + 1);
                                if (!x.data) {
                                        free(x.path);
                                        r = -ENOMEM;
                                        break;
                                }
                                memcpy(x.data, x.magic, (size_t)k);
                                size_t got = (size_t)k;
                                while (got < x.size) {
                                        la_ssize_t m = archive_read_data(a, x.data + got, x.size - got);
                                        if (m <= 0)
                                                break;
                                        got += (size_t)m;
                                }
                                if (got != x.size) {
                                        r = import_fail(e, -ROOST_EARCHIVE, "%s: reading %s: %s", src->label, x.path,
                                                            archive_error_string(a) ?: "cut short");
                                        free(x.path);
                                        free(x.data);
                                        break;
                                }
                                x.data[x.size] = 0;
                                src->docs_bytes += x.size;
                        }
                }
                if ((r = entry_add(src, &x)) < 0) {
                        free(x.path);
                        free(x.link);
                        free(x.data);
                        break;
                }
        }
        free(path);
        if (r == -ROOST_EARCHIVE && !any)
                r = import_fail(e, -ROOST_EFORMAT, "%s: not an image archive: %s (" EXPECTED ")", src->label,
                                archive_error_string(a) ?: "unreadable");
        src->filter = archive_filter_count(a) > 1 ? archive_filter_code(a, 0) : ARCHIVE_FILTER_NONE;
        archive_read_free(a);
        if (r < 0)
                return r;
        if (!any)
                return import_fail(e, -ROOST_EFORMAT, "%s: an empty archive", src->label);
        /* An archive of directories alone keeps no entry: no table to
         * sort (qsort's NULL is undefined even for no elements). */
        if (src->n_entries)
                qsort(src->entries, src->n_entries, sizeof(*src->entries), entry_cmp);
        return 0;
}

/* The entry of PATH in an archive's sorted table; *RET_DUP when it is
 * there twice (a second copy that would be read in place of the first). */
static struct import_entry *entry_lookup(struct import_source *src, const char *path, bool *ret_dup)
{
        size_t lo = 0, hi = src->n_entries;
        *ret_dup = false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(path, src->entries[mid].path);
                if (c == 0) {
                        *ret_dup = (mid > 0 && !strcmp(src->entries[mid - 1].path, path)) ||
                                   (mid + 1 < src->n_entries && !strcmp(src->entries[mid + 1].path, path));
                        return &src->entries[mid];
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

/* An archive's entry of PATH, a link followed once. */
static int entry_resolve(struct import_source *src, const char *path, struct import_entry **ret, roost_error *e)
{
        bool dup;
        struct import_entry *x = entry_lookup(src, path, &dup);
        if (x && x->link && !dup)
                x = entry_lookup(src, x->link, &dup);
        if (!x || (x && x->link))
                return import_fail(e, -ROOST_ENOTFOUND, "%s: no %s in the archive%s", src->label, path,
                                       src->too_many ? " (it has too many entries to be an image)" : "");
        if (dup)
                return import_fail(e, -ROOST_EFORMAT, "%s: %s is in the archive twice: refused as tampered", src->label, path);
        *ret = x;
        return 0;
}

bool import_source_has(struct import_source *src, const char *path)
{
        bool dup;
        return entry_lookup(src, path, &dup) != NULL;
}

const struct import_entry *import_source_find(struct import_source *src, const char *path)
{
        struct import_entry *x;
        return entry_resolve(src, path, &x, NULL) == 0 ? x : NULL;
}

/* PATH below a layout directory, never outside it (RESOLVE_BENEATH
 * refuses "..", absolute names and symlinks that lead out). */
static int dir_open(struct import_source *src, const char *path, struct stat *st, roost_error *e)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
        if (!import_path_safe(path))
                return import_fail(e, -ROOST_EUNSAFE, "%s: '%.200s' would leave the layout: refused as hostile", src->label,
                                       path);
        int fd = (int)syscall(SYS_openat2, src->dirfd, path, &how, sizeof(how));
        if (fd < 0) {
                int r = -errno;
                if (r == -ENOENT)
                        return import_fail(e, -ROOST_ENOTFOUND, "%s: no %s in the layout", src->label, path);
                if (r == -EXDEV)
                        return import_fail(e, -ROOST_EUNSAFE, "%s: %s leads out of the layout: refused as hostile",
                                               src->label, path);
                return roost_error_set(e, r, "%s: opening %s", src->label, path);
        }
        if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
                close(fd);
                return import_fail(e, -ROOST_EFORMAT, "%s: %s is not a regular file", src->label, path);
        }
        /* O_NONBLOCK only kept a FIFO planted there from hanging the open. */
        (void)fcntl(fd, F_SETFL, 0);
        return fd;
}

int import_source_stat(struct import_source *src, const char *path, uint64_t *ret_size, roost_error *e)
{
        if (src->dirfd >= 0) {
                struct stat st;
                int fd = dir_open(src, path, &st, e);
                if (fd < 0)
                        return fd;
                close(fd);
                *ret_size = (uint64_t)st.st_size;
                return 0;
        }
        struct import_entry *x;
        int r = entry_resolve(src, path, &x, e);
        if (r == 0)
                *ret_size = x->size;
        return r;
}

int import_source_doc(struct import_source *src, const char *path, const char **ret, size_t *ret_n,
                      roost_error *e)
{
        if (src->dirfd >= 0) {
                /* Read once and kept in the table like an archive's. */
                for (size_t i = 0; i < src->n_entries; i++)
                        if (!strcmp(src->entries[i].path, path)) {
                                *ret = src->entries[i].data;
                                *ret_n = src->entries[i].size;
                                return 0;
                        }
                struct stat st;
                _cleanup_close_ int fd = dir_open(src, path, &st, e);
                if (fd < 0)
                        return fd;
                if ((uint64_t)st.st_size > IMPORT_DOC_MAX)
                        return import_fail(e, -ROOST_ELIMIT, "%s: %s is %llu bytes, more than the %u MiB a document may be",
                                               src->label, path, (unsigned long long)st.st_size,
                                               IMPORT_DOC_MAX >> 20);
                if (src->docs_bytes + (uint64_t)st.st_size > IMPORT_DOCS_MAX)
                        return import_fail(e, -ROOST_ELIMIT, "%s: more than %u MiB of documents", src->label,
                                               IMPORT_DOCS_MAX >> 20);
                struct import_entry x = { .size = (uint64_t)st.st_size };
                if (!(x.path = strdup(path)) || !(x.data = malloc(x.size + 1))) {
                        free(x.path);
                        return -ENOMEM;
                }
                size_t got = 0;
                while (got < x.size) {
                        ssize_t k = read(fd, x.data + got, x.size - got);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        got += (size_t)k;
                }
                if (got != x.size || entry_add(src, &x) < 0) {
                        free(x.path);
                        free(x.data);
                        return roost_error_set(e, got != x.size ? -EIO : -ENOMEM, "%s: reading %s", src->label,
                                               path);
                }
                x.data[x.size] = 0;
                src->docs_bytes += x.size;
                *ret = x.data;
                *ret_n = x.size;
                return 0;
        }
        struct import_entry *x;
        int r = entry_resolve(src, path, &x, e);
        if (r < 0)
                return r;
        if (!x->data) {
                if (x->size > IMPORT_DOC_MAX)
                        return import_fail(e, -ROOST_ELIMIT, "%s: %s is %llu bytes, more than the %u MiB a document may be",
                                               src->label, path, (unsigned long long)x->size, IMPORT_DOC_MAX >> 20);
                if (src->docs_bytes + x->size > IMPORT_DOCS_MAX)
                        return import_fail(e, -ROOST_ELIMIT, "%s: more than %u MiB of documents", src->label,
                                               IMPORT_DOCS_MAX >> 20);
                return import_fail(e, -ROOST_EFORMAT, "%s: %s is not a JSON document", src->label, path);
        }
        *ret = x->data;
        *ret_n = x->size;
        return 0;
}

int import_source_blob_doc(struct import_source *src, const char *hex, int64_t size, const char **ret,
                           size_t *ret_n, roost_error *e)
{
        char path[96], got[STORE_SHA256_HEX + 1];
        snprintf(path, sizeof(path), "blobs/sha256/%s", hex);
        int r = import_source_doc(src, path, ret, ret_n, e);
        if (r == -ROOST_ENOTFOUND) /* named by a descriptor: damaged */
                return import_fail(e, -ROOST_EFORMAT, "%s: %s is named but not in it%s", src->label, path,
                                   src->too_many ? " (it has too many entries to be an image)" : "");
        if (r < 0)
                return r;
        if (size >= 0 && (uint64_t)size != *ret_n)
                return import_fail(e, -ROOST_ESIZE, "%s: %s is %zu bytes, its descriptor says %lld", src->label, path, *ret_n,
                                       (long long)size);
        store_hash *h;
        if ((r = store_hash_new(&h)) < 0)
                return roost_error_set(e, r, "hashing %s", path);
        if ((r = store_hash_update(h, *ret, *ret_n)) == 0)
                r = store_hash_peek(h, got, NULL);
        store_hash_free(h);
        if (r < 0)
                return roost_error_set(e, r, "hashing %s", path);
        if (strcmp(got, hex))
                return import_fail(e, -ROOST_EDIGEST, "%s: %s does not hash to its name (got sha256:%.12s…): tampered or damaged",
                                       src->label, path, got);
        return 0;
}

/* ---- storing ---- */

/* Bytes come from a reader: an archive's entry or a layout's file. */
struct reader {
        struct archive *a;
        int fd;
        unsigned char *buf;
};

static int reader_next(struct reader *rd, const void **buf, size_t *len)
{
        if (rd->a) {
                int64_t off;
                int r = archive_read_data_block(rd->a, buf, len, &off);
                return r == ARCHIVE_EOF ? 1 : r < ARCHIVE_WARN ? -ROOST_EARCHIVE : 0;
        }
        for (;;) {
                ssize_t k = read(rd->fd, rd->buf, READ_BLOCK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                *buf = rd->buf;
                *len = (size_t)k;
                return k == 0 ? 1 : 0;
        }
}

static const char *reader_error(struct reader *rd, int r)
{
        return rd->a ? archive_error_string(rd->a) ?: "cut short" : roost_strerror(r);
}

/* Hash what RD gives into W->sha256. */
static int want_hash(struct import_source *src, struct import_want *w, struct reader *rd, roost_error *e)
{
        store_hash *h;
        const void *buf;
        size_t len;
        int r = store_hash_new(&h);
        if (r < 0)
                return roost_error_set(e, r, "hashing %s", w->path);
        while ((r = reader_next(rd, &buf, &len)) == 0)
                if ((r = store_hash_update(h, buf, len)) < 0)
                        break;
        if (r == 1)
                r = store_hash_peek(h, w->sha256, NULL);
        store_hash_free(h);
        if (r < 0)
                return roost_error_set(e, 0, "%s: reading %s: %s", src->label, w->path, reader_error(rd, r)),
                       r == -ROOST_EARCHIVE ? r : -EIO;
        return 0;
}

/* Stream what RD gives into the blob W names, verified by the store as it
 * is published: its digest, and here its size, as it comes. */
static int want_store(struct import_source *src, store *s, struct import_want *w, struct reader *rd, roost_error *e)
{
        store_blob *b;
        int r = w->layer ? store_blob_begin_layer(s, w->sha256, w->gzip, &b) : store_blob_begin(s, w->sha256, &b);
        if (r < 0)
                return roost_error_set(e, r, "storing %s (sha256:%.12s…)", w->what, w->sha256);
        if (r == 1) {
                /* Stored already, and by its digest the same bytes: only
                 * the descriptor's size is still to agree. */
                uint64_t have;
                if (w->size >= 0 && store_blob_size(s, w->sha256, &have) == 0 && have != (uint64_t)w->size)
                        return import_fail(e, -ROOST_ESIZE, "%s: %s is %llu bytes, its descriptor says %lld", src->label,
                                               w->what, (unsigned long long)have, (long long)w->size);
                return 0;
        }
        if (store_blob_offset(b) && (r = store_blob_restart(b)) < 0) {
                store_blob_abort(b, false);
                return roost_error_set(e, r, "storing %s", w->what);
        }
        const void *buf;
        size_t len;
        uint64_t n = 0;
        while ((r = reader_next(rd, &buf, &len)) == 0) {
                n += len;
                if (w->size >= 0 && n > (uint64_t)w->size) {
                        store_blob_abort(b, false);
                        return import_fail(e, -ROOST_ESIZE, "%s: %s is longer than the %lld bytes its descriptor says",
                                               src->label, w->what, (long long)w->size);
                }
                if ((r = store_blob_write(b, buf, len)) < 0) {
                        store_blob_abort(b, false);
                        return roost_error_set(e, r, "storing %s", w->what);
                }
        }
        if (r < 0) {
                store_blob_abort(b, false);
                return roost_error_set(e, 0, "%s: reading %s: %s", src->label, w->what, reader_error(rd, r)),
                       r == -ROOST_EARCHIVE ? r : -EIO;
        }
        if (w->size >= 0 && n != (uint64_t)w->size) {
                store_blob_abort(b, false);
                return import_fail(e, -ROOST_ESIZE, "%s: %s is %llu bytes, its descriptor says %lld: cut short", src->label,
                                       w->what, (unsigned long long)n, (long long)w->size);
        }
        if ((r = store_blob_commit(b)) == -ROOST_EDIGEST)
                return roost_error_set(e, 0, "%s: %s does not hash to sha256:%.12s…: tampered or damaged", src->label,
                                       w->what, w->sha256),
                       r;
        if (r == -ROOST_EFORMAT)
                return roost_error_set(e, 0, "%s: %s is not a whole gzip stream", src->label, w->what), r;
        if (r < 0)
                return roost_error_set(e, r, "storing %s", w->what);
        return 0;
}

/* One pass over the archive, or one open per want of a layout: each want
 * (HASH: those without a digest) read once and handed to want_hash or
 * want_store. */
static int source_each(struct import_source *src, store *s, struct import_want *w, size_t n, bool hash,
                       roost_error *e)
{
        _cleanup_free_ unsigned char *buf = malloc(READ_BLOCK);
        const char **resolved = calloc(n ? n : 1, sizeof(*resolved));
        int r = 0;
        if (!buf || !resolved) {
                free(resolved);
                return -ENOMEM;
        }
        size_t left = 0;
        for (size_t i = 0; i < n; i++) {
                w[i].done = hash ? w[i].sha256[0] != 0 : false;
                if (w[i].done)
                        continue;
                left++;
                if (src->dirfd >= 0)
                        continue;
                struct import_entry *x;
                if ((r = entry_resolve(src, w[i].path, &x, e)) < 0)
                        goto out;
                resolved[i] = x->path;
        }
        if (src->dirfd >= 0) {
                for (size_t i = 0; i < n && r == 0; i++) {
                        if (w[i].done)
                                continue;
                        struct stat st;
                        struct reader rd = { .fd = dir_open(src, w[i].path, &st, e), .buf = buf };
                        if (rd.fd < 0) {
                                r = rd.fd;
                                break;
                        }
                        if (!hash && w[i].size >= 0 && (uint64_t)st.st_size != (uint64_t)w[i].size)
                                r = import_fail(e, -ROOST_ESIZE, "%s: %s is %llu bytes, its descriptor says %lld", src->label,
                                                    w[i].what, (unsigned long long)st.st_size, (long long)w[i].size);
                        else
                                r = hash ? want_hash(src, &w[i], &rd, e) : want_store(src, s, &w[i], &rd, e);
                        close(rd.fd);
                        w[i].done = r == 0;
                }
                goto out;
        }
        int ar;
        struct archive *a = archive_open(src, e, &ar);
        if (!a) {
                r = ar;
                goto out;
        }
        struct archive_entry *ent;
        char *path;
        while (left > 0 && (r = archive_next(src, a, &ent, &path, e)) == 0) {
                struct reader rd = { .a = a };
                size_t first = SIZE_MAX;
                /* A link names this entry: only the regular file that
                 * holds the bytes is read. */
                bool regular = archive_entry_filetype(ent) == AE_IFREG && !archive_entry_hardlink(ent);
                for (size_t i = 0; path && regular && i < n && r == 0; i++) {
                        if (w[i].done || strcmp(resolved[i], path))
                                continue;
                        if (first == SIZE_MAX) {
                                r = hash ? want_hash(src, &w[i], &rd, e) : want_store(src, s, &w[i], &rd, e);
                                first = i;
                        } else if (hash) {
                                memcpy(w[i].sha256, w[first].sha256, sizeof(w[i].sha256));
                        } else {
                                /* The same bytes wanted twice: stored by
                                 * now if they are what this want names. */
                                r = want_store(src, s, &w[i], &rd, e);
                        }
                        w[i].done = r == 0;
                        left -= r == 0;
                }
                free(path);
                if (r < 0)
                        break;
        }
        archive_read_free(a);
        if (r == 1)
                r = 0;
        for (size_t i = 0; r == 0 && i < n; i++)
                if (!w[i].done)
                        r = import_fail(e, -ROOST_EFORMAT, "%s: %s was not found on the second reading: the file changed while "
                                                  "it was read",
                                            src->label, w[i].path);
out:
        free(resolved);
        return r;
}

int import_source_hash(struct import_source *src, struct import_want *w, size_t n, roost_error *e)
{
        return source_each(src, NULL, w, n, true, e);
}

int import_source_store(struct import_source *src, store *s, struct import_want *w, size_t n, roost_error *e)
{
        return source_each(src, s, w, n, false, e);
}
