/* The layer writer: an overlayfs upper directory as an OCI layer, as
 * containerd's and docker's overlay differs make one.
 *
 * The upper belongs to a container, so it is hostile: every entry is
 * reached from its directory's fd with O_NOFOLLOW (a symlink is archived,
 * never followed), xattrs are read through /proc/self/fd/DIR/NAME with the
 * l* calls (the one link followed is our own fd's), and a file is opened
 * O_NONBLOCK and checked to be the one stat saw, so that a FIFO swapped in
 * cannot block us.
 *
 * One pass: libarchive writes pax tar into tar_out(), which hashes the
 * tar (the diff_id) and deflates it into the store's blob, which hashes
 * what it is given (the digest). Nothing is read twice. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <zlib.h>
#include "commit/commit.h"
#include "common/util.h"

/* Each level holds a directory fd; unpack refuses deeper trees too. */
#define COMMIT_MAX_DEPTH 256
#define OUT_SIZE         (128u << 10)
#define READ_SIZE        (256u << 10)

struct link {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct writer {
        store *s;
        store_blob *blob;
        struct archive *a;
        EVP_MD_CTX *tar_hash;
        z_stream z;
        bool z_ready;
        unsigned char *out, *buf;
        void *links; /* tsearch tree of struct link: hard links within the layer */
        struct commit_layer *ret;
        roost_error *e;
        int r;           /* the first failure, kept for the message */
        char path[PATH_MAX];
};

/* Overlay's own bookkeeping, which is never part of a layer. */
static bool overlay_xattr(const char *name)
{
        return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

/* Deflate what is pending (FLUSH: Z_NO_FLUSH or Z_FINISH) into the blob. */
static int deflate_out(struct writer *w, int flush)
{
        int zr;
        do {
                w->z.next_out = w->out;
                w->z.avail_out = OUT_SIZE;
                zr = deflate(&w->z, flush);
                if (zr == Z_STREAM_ERROR)
                        return -EIO;
                size_t have = OUT_SIZE - w->z.avail_out;
                if (have) {
                        int r = store_blob_write(w->blob, w->out, have);
                        if (r < 0)
                                return r;
                        w->ret->size += have;
                }
        } while (w->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
        return 0;
}

static la_ssize_t tar_out(struct archive *a, void *userdata, const void *buf, size_t n)
{
        struct writer *w = userdata;
        if (!EVP_DigestUpdate(w->tar_hash, buf, n)) {
                archive_set_error(a, EIO, "hashing the tar");
                return -1;
        }
        w->z.next_in = (Bytef *)buf;
        w->z.avail_in = (uInt)n;
        int r = deflate_out(w, Z_NO_FLUSH);
        if (r < 0) {
                w->r = w->r ?: r;
                archive_set_error(a, -r, "writing the layer into the store: %s", roost_strerror(r));
                return -1;
        }
        return (la_ssize_t)n;
}

static int fail(struct writer *w, int r, const char *what)
{
        if (w->r == 0 || w->e->msg[0] == 0)
                roost_error_set(w->e, r, "%s /%s", what, w->path);
        w->r = w->r ?: r;
        return w->r;
}

static int archive_fail(struct writer *w)
{
        /* A failure of our own callback keeps its code; libarchive's says why. */
        int r = w->r ?: -ROOST_EARCHIVE;
        if (w->e->msg[0] == 0)
                roost_error_set(w->e, 0, "writing /%s into the layer: %s", w->path, archive_error_string(w->a));
        w->r = r;
        return r;
}

/* What overlayfs says of an entry, from its xattrs. */
struct marks {
        bool opaque;    /* overlay.opaque=y: hides the lowers' content */
        bool whiteout;  /* overlay.whiteout: a rootless store's whiteout file */
        bool redirect;  /* overlay.redirect: a directory renamed from below */
        bool metacopy;  /* overlay.metacopy: the data is still below */
};

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the xattrs of NAME in DFD to ENTRY (when not NULL), sorted, and
 * report the overlay's marks in M. */
static int read_xattrs(struct writer *w, int dfd, const char *name, struct archive_entry *entry, struct marks *m)
{
        char path[64 + NAME_MAX], list[8192];
        char *names[256];
        size_t n = 0;
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
        ssize_t len = llistxattr(path, list, sizeof(list));
        if (len < 0) {
                if (errno == ENOTSUP || errno == ENODATA)
                        return 0;
                return fail(w, -errno, "listing the extended attributes of");
        }
        for (char *p = list; p < list + len; p += strlen(p) + 1)
                if (n < ELEMENTSOF(names))
                        names[n++] = p;
                else
                        return fail(w, -E2BIG, "too many extended attributes on");
        qsort(names, n, sizeof(*names), compare_names);
        for (size_t i = 0; i < n; i++) {
                const char *x = names[i];
                char v[65536];
                ssize_t vl = lgetxattr(path, x, v, sizeof(v));
                if (vl < 0) {
                        if (errno == ENODATA)
                                continue;
                        return fail(w, -errno, "reading an extended attribute of");
                }
                if (overlay_xattr(x)) {
                        const char *what = strchr(x, '.') + strlen(".overlay.");
                        if (!strcmp(what, "opaque"))
                                m->opaque = vl == 1 && v[0] == 'y';
                        else if (!strcmp(what, "whiteout"))
                                m->whiteout = true;
                        else if (!strcmp(what, "redirect"))
                                m->redirect = true;
                        else if (!strcmp(what, "metacopy"))
                                m->metacopy = true;
                        continue;
                }
                if (entry)
                        archive_entry_xattr_add_entry(entry, x, v, (size_t)vl);
        }
        return 0;
}

static struct archive_entry *entry_new(const char *path, const struct stat *st)
{
        struct archive_entry *entry = archive_entry_new();
        if (!entry)
                return NULL;
        archive_entry_set_pathname(entry, path);
        archive_entry_set_mode(entry, st->st_mode);
        archive_entry_set_uid(entry, st->st_uid);
        archive_entry_set_gid(entry, st->st_gid);
        archive_entry_set_mtime(entry, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        return entry;
}

static int write_header(struct writer *w, struct archive_entry *entry)
{
        int r = archive_write_header(w->a, entry) < ARCHIVE_WARN ? archive_fail(w) : 0;
        if (r == 0)
                w->ret->entries++;
        return r;
}

/* An empty regular file named MARKER in the directory of the current path
 * (whose length without its last component is DIRLEN), owned and timed as
 * ST says: a whiteout or an opaque marker. */
static int write_marker(struct writer *w, size_t dirlen, const char *marker, const struct stat *st, mode_t perm)
{
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof(path), "%.*s%s", (int)dirlen, w->path, marker) >= sizeof(path))
                return fail(w, -ENAMETOOLONG, "the whiteout of");
        struct stat ms = *st;
        ms.st_mode = S_IFREG | perm;
        struct archive_entry *entry = entry_new(path, &ms);
        if (!entry)
                return fail(w, -ENOMEM, "the whiteout of");
        archive_entry_set_size(entry, 0);
        int r = write_header(w, entry);
        archive_entry_free(entry);
        return r;
}

static int compare_links(const void *a, const void *b)
{
        const struct link *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* The path of the first entry of ST's inode, when it was archived already;
 * else it is remembered as this one. */
static int link_target(struct writer *w, const struct stat *st, const char **ret)
{
        struct link key = { st->st_dev, st->st_ino, NULL }, **found;
        *ret = NULL;
        if (!(found = tfind(&key, &w->links, compare_links))) {
                struct link *l = malloc(sizeof(*l));
                if (!l || !(l->path = strdup(w->path))) {
                        free(l);
                        return fail(w, -ENOMEM, "remembering");
                }
                l->dev = st->st_dev;
                l->ino = st->st_ino;
                if (!tsearch(l, &w->links, compare_links)) {
                        free(l->path);
                        free(l);
                        return fail(w, -ENOMEM, "remembering");
                }
                return 0;
        }
        *ret = (*found)->path;
        return 0;
}

static int write_file_data(struct writer *w, int dfd, const char *name, const struct stat *st)
{
        /* O_NONBLOCK: were a FIFO swapped in since the stat, the open must
         * not wait for a writer; the fstat below then refuses it. */
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat now;
        if (fd < 0)
                return fail(w, -errno, "opening");
        if (fstat(fd, &now) < 0 || now.st_ino != st->st_ino || now.st_dev != st->st_dev || !S_ISREG(now.st_mode))
                return fail(w, -ESTALE, "the file changed while committing");
        uint64_t left = (uint64_t)st->st_size;
        while (left > 0) {
                ssize_t k = read(fd, w->buf, left < READ_SIZE ? left : READ_SIZE);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return fail(w, -errno, "reading");
                /* The header promised st_size bytes: a file that shrank
                 * under us cannot be archived honestly. */
                if (k == 0)
                        return fail(w, -ESTALE, "the file shrank while committing");
                if (archive_write_data(w->a, w->buf, (size_t)k) != k)
                        return archive_fail(w);
                left -= (uint64_t)k;
        }
        return 0;
}

static int walk(struct writer *w, int dfd, size_t plen, unsigned depth);

/* The entry NAME of directory DFD, at w->path (of length PLEN). */
static int write_one(struct writer *w, int dfd, const char *name, size_t plen, size_t dirlen, unsigned depth)
{
        struct stat st;
        struct marks m = { 0 };
        int r;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(w, -errno, "reading");
        if (S_ISSOCK(st.st_mode))
                return 0; /* tar has no sockets; docker leaves them out too */
        /* overlayfs' whiteout: a character device 0/0. */
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                char marker[NAME_MAX + 8];
                snprintf(marker, sizeof(marker), ".wh.%s", name);
                w->ret->whiteouts++;
                return write_marker(w, dirlen, marker, &st, 0600);
        }
        struct archive_entry *entry = entry_new(w->path, &st);
        if (!entry)
                return fail(w, -ENOMEM, "archiving");
        if ((r = read_xattrs(w, dfd, name, entry, &m)) < 0)
                goto out;
        /* A rootless overlay's whiteout where the 0/0 node was refused
         * (overlayfs 6.7 and later): an empty file marked so. */
        if (m.whiteout && S_ISREG(st.st_mode) && st.st_size == 0) {
                char marker[NAME_MAX + 8];
                snprintf(marker, sizeof(marker), ".wh.%s", name);
                w->ret->whiteouts++;
                r = write_marker(w, dirlen, marker, &st, 0600);
                goto out;
        }
        if (m.redirect || m.metacopy) {
                r = fail(w, -ENOTSUP,
                         m.redirect ? "overlayfs redirects (a directory renamed from a lower layer; mount "
                                      "option redirect_dir) cannot be committed:"
                                    : "overlayfs metacopy files (mount option metacopy) cannot be committed:");
                goto out;
        }
        if (S_ISREG(st.st_mode)) {
                const char *target = NULL;
                if (st.st_nlink > 1 && (r = link_target(w, &st, &target)) < 0)
                        goto out;
                if (target) {
                        archive_entry_set_hardlink(entry, target);
                        archive_entry_set_size(entry, 0);
                        r = write_header(w, entry);
                        goto out;
                }
                archive_entry_set_size(entry, st.st_size);
                if ((r = write_header(w, entry)) == 0)
                        r = write_file_data(w, dfd, name, &st);
        } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX + 1];
                ssize_t k = readlinkat(dfd, name, target, sizeof(target));
                if (k < 0 || (size_t)k >= sizeof(target)) {
                        r = fail(w, k < 0 ? -errno : -ENAMETOOLONG, "reading the symlink");
                        goto out;
                }
                target[k] = 0;
                archive_entry_set_symlink(entry, target);
                r = write_header(w, entry);
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
                archive_entry_set_rdevmajor(entry, major(st.st_rdev));
                archive_entry_set_rdevminor(entry, minor(st.st_rdev));
                r = write_header(w, entry);
        } else if (S_ISDIR(st.st_mode)) {
                if ((r = write_header(w, entry)) < 0)
                        goto out;
                /* Right after its directory, as docker writes it. */
                if (m.opaque) {
                        w->ret->opaques++;
                        w->path[plen] = '/';
                        w->path[plen + 1] = 0;
                        r = write_marker(w, plen + 1, ".wh..wh..opq", &st, st.st_mode & 07777);
                        w->path[plen] = 0;
                        if (r < 0)
                                goto out;
                }
                archive_entry_free(entry);
                entry = NULL;
                if (depth >= COMMIT_MAX_DEPTH)
                        return fail(w, -ELOOP, "the tree is nested too deep at");
                _cleanup_close_ int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat now;
                if (sub < 0)
                        return fail(w, -errno, "opening");
                if (fstat(sub, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev)
                        return fail(w, -ESTALE, "the directory changed while committing");
                return walk(w, sub, plen, depth + 1);
        }
out:
        archive_entry_free(entry);
        return r;
}

/* Every entry of DFD, whose path is w->path (PLEN bytes, "" for the top),
 * in byte order of their names. */
static int walk(struct writer *w, int dfd, size_t plen, unsigned depth)
{
        DIR *d;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = opendir_at(dfd, ".", &d);
        if (r < 0)
                return fail(w, r, "listing");
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (n + 1 >= cap) {
                        char **nv = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nv));
                        if (!nv) {
                                r = fail(w, -ENOMEM, "listing");
                                break;
                        }
                        names = nv;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = fail(w, -ENOMEM, "listing");
                        break;
                }
                names[++n] = NULL;
        }
        closedir(d);
        if (names)
                qsort(names, n, sizeof(*names), compare_names);
        size_t dirlen = plen ? plen + 1 : 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                size_t len = strlen(names[i]);
                if (dirlen + len >= sizeof(w->path)) {
                        r = fail(w, -ENAMETOOLONG, "a path too long below");
                        break;
                }
                if (plen)
                        w->path[plen] = '/';
                memcpy(w->path + dirlen, names[i], len + 1);
                r = write_one(w, dfd, names[i], dirlen + len, dirlen, depth);
                w->path[plen] = 0;
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

static void link_free(void *p)
{
        struct link *l = p;
        free(l->path);
        free(l);
}

int commit_layer_write(store *s, int upperfd, struct commit_layer *ret, roost_error *e)
{
        struct commit_layer layer = { 0 };
        struct writer w = { .s = s, .ret = &layer, .e = e };
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen;
        int r;

        if (!(w.tar_hash = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(w.tar_hash, EVP_sha256(), NULL) ||
            !(w.out = malloc(OUT_SIZE)) || !(w.buf = malloc(READ_SIZE))) {
                r = roost_error_set(e, -ENOMEM, "writing the layer");
                goto out;
        }
        /* gzip (windowBits 15 + 16) with zlib's header left as it is: no
         * name and mtime 0, so the same tar is the same blob. */
        if (deflateInit2(&w.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                r = roost_error_set(e, -ENOMEM, "starting gzip");
                goto out;
        }
        w.z_ready = true;
        if ((r = store_blob_begin_new(s, &w.blob)) < 0) {
                roost_error_set(e, r, "starting a blob in the store");
                goto out;
        }
        /* pax (restricted: plain ustar headers unless an entry needs more,
         * such as xattrs or a long name), as docker writes layers. */
        if (!(w.a = archive_write_new()) || archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
            archive_write_open2(w.a, &w, NULL, tar_out, NULL, NULL) != ARCHIVE_OK) {
                r = roost_error_set(e, -ENOMEM, "starting the tar writer: %s",
                                    w.a ? archive_error_string(w.a) : "out of memory");
                goto out;
        }
        /* The upper's root is the container's "/", which is no entry; but
         * an opaque one hides every layer below. */
        struct marks m = { 0 };
        struct stat st;
        if (fstat(upperfd, &st) < 0) {
                r = roost_error_set(e, -errno, "the container's layer");
                goto out;
        }
        w.path[0] = 0;
        if ((r = read_xattrs(&w, upperfd, ".", NULL, &m)) < 0)
                goto out;
        if (m.opaque) {
                layer.opaques++;
                if ((r = write_marker(&w, 0, ".wh..wh..opq", &st, st.st_mode & 07777)) < 0)
                        goto out;
        }
        if ((r = walk(&w, upperfd, 0, 0)) < 0)
                goto out;
        /* The end-of-archive blocks go through tar_out too. */
        if (archive_write_close(w.a) != ARCHIVE_OK) {
                r = archive_fail(&w);
                goto out;
        }
        w.z.next_in = NULL;
        w.z.avail_in = 0;
        if ((r = deflate_out(&w, Z_FINISH)) < 0) {
                roost_error_set(e, r, "writing the layer into the store");
                goto out;
        }
        if (!EVP_DigestFinal_ex(w.tar_hash, md, &mdlen)) {
                r = roost_error_set(e, -EIO, "hashing the layer");
                goto out;
        }
        hex_encode(md, mdlen, layer.diff_id);
        r = store_blob_publish(TAKE_PTR(w.blob), layer.diff_id, layer.digest);
        if (r < 0) {
                roost_error_set(e, r, "storing the layer");
                goto out;
        }
        *ret = layer;
out:
        if (w.a)
                archive_write_free(w.a);
        store_blob_abort(w.blob, false);
        if (w.z_ready)
                deflateEnd(&w.z);
        EVP_MD_CTX_free(w.tar_hash);
        tdestroy(w.links, link_free);
        free(w.out);
        free(w.buf);
        return r;
}

static uint64_t usage_at(int dfd, unsigned depth)
{
        DIR *d;
        uint64_t total = 0;
        if (depth > COMMIT_MAX_DEPTH || opendir_at(dfd, ".", &d) < 0)
                return 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                total += (uint64_t)st.st_blocks * 512;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                total += usage_at(sub, depth + 1);
                }
        }
        closedir(d);
        return total;
}

uint64_t commit_tree_usage(int dirfd)
{
        return usage_at(dirfd, 0);
}

/* One directory of commit_upper_settle. */
static int settle_at(int dfd, unsigned depth)
{
        if (depth > 256)
                return -ROOST_ELIMIT;
        DIR *d;
        int r = opendir_at(dfd, ".", &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
                struct stat st;
                char path[64 + NAME_MAX], list[4096];
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                /* A socket is in no layer (tar has none): not in the tree
                 * unpack would make of it either. */
                if (S_ISSOCK(st.st_mode)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                r = -errno;
                        continue;
                }
                snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd(d), de->d_name);
                ssize_t len = llistxattr(path, list, sizeof(list));
                for (const char *x = list; len > 0 && x < list + len; x += strlen(x) + 1) {
                        char v[8];
                        ssize_t vl;
                        if (!overlay_xattr(x))
                                continue;
                        /* The opaque mark ("y") is the tree's as unpack
                         * writes it; the rest is overlay's bookkeeping of
                         * the container it came from. */
                        if (strstr(x, "overlay.opaque") && (vl = lgetxattr(path, x, v, sizeof(v))) == 1 && v[0] == 'y')
                                continue;
                        if (lremovexattr(path, x) < 0 && errno != ENODATA) {
                                r = -errno;
                                break;
                        }
                }
                if (r == 0 && S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : settle_at(sub, depth + 1);
                }
        }
        closedir(d);
        return r;
}

int commit_upper_settle(int upperfd)
{
        char path[64], list[4096];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", upperfd);
        ssize_t len = llistxattr(path, list, sizeof(list));
        for (const char *x = list; len > 0 && x < list + len; x += strlen(x) + 1)
                if (overlay_xattr(x) && !strstr(x, "overlay.opaque") && lremovexattr(path, x) < 0 && errno != ENODATA)
                        return -errno;
        return settle_at(upperfd, 0);
}
