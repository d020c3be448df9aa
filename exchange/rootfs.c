/* roost export --format rootfs: the image's file system as one tar
 * archive, as docker export writes a container's. The layers are applied
 * bottom first into a temporary directory by unpack (whiteouts and opaque
 * directories honoured, UNPACK_WHITEOUT_APPLY), and that tree is written
 * with libarchive's disk reader: owners (numeric), modes, times, xattrs
 * (file capabilities among them), hardlinks as links, device nodes.
 *
 * Why a tree on disk and not a merge of the layer streams: a file of a
 * lower layer is only known to survive once every layer above has been
 * read, and a hardlink whose target an upper layer replaced must become
 * the lower file's content; a merge would hold the whole image in memory
 * or read each layer twice. The temporary lives in the store's tmp/ (its
 * next command removes it if this one is killed), or, for a store this
 * user cannot write, in $TMPDIR. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/util.h"
#include "exchange/exchange-private.h"
#include "unpack/unpack.h"

int exchange_flatten(store *s, const struct store_ref *ref, int rootfd, const struct exchange_export_options *o,
                     roost_error *e)
{
        if (ref->n_layers == 0)
                return roost_error_set(e, 0, "%s:%s has no layers", ref->name, ref->tag), -ROOST_EFORMAT;
        int *fds = calloc(ref->n_layers, sizeof(*fds));
        char **names = calloc(ref->n_layers, sizeof(*names));
        int r = fds && names ? 0 : roost_error_set(e, -ENOMEM, "flattening");
        for (size_t i = 0; fds && i < ref->n_layers; i++)
                fds[i] = -1;
        for (size_t i = 0; r == 0 && i < ref->n_layers; i++) {
                const char *hex = ref->layers[i].digest;
                /* Hashed before it is applied: unpack reads the blob as a
                 * stream and could not tell a damaged one from a good one. */
                if ((r = store_blob_verify(s, hex, NULL)) < 0) {
                        if (r == -ENOENT)
                                r = (roost_error_set(e, 0, "layer %.12s missing from the store; run roost verify",
                                                     hex),
                                     -ROOST_EDIGEST);
                        else
                                roost_error_set(e, r, "layer %.12s%s", hex,
                                                r == -ROOST_EDIGEST ? " no longer matches its digest; run roost verify"
                                                                    : "");
                        break;
                }
                if ((fds[i] = store_blob_open(s, hex)) < 0) {
                        r = roost_error_set(e, fds[i], "opening layer %.12s", hex);
                        break;
                }
                if (asprintf(&names[i], "layer %zu (%.12s)", i + 1, hex) < 0) {
                        names[i] = NULL;
                        r = roost_error_set(e, -ENOMEM, "flattening");
                }
        }
        if (r == 0) {
                struct unpack_options uo = {
                        .keep_devices = true,
                        .keep_setid = true,
                        .whiteouts = UNPACK_WHITEOUT_APPLY,
                        .warn = o ? o->warn : NULL,
                        .userdata = o ? o->userdata : NULL,
                };
                r = unpack_layers_into(fds, (const char *const *)names, ref->n_layers, rootfd, &uo, e);
        }
        for (size_t i = 0; fds && names && i < ref->n_layers; i++) {
                if (fds[i] >= 0)
                        close(fds[i]);
                free(names[i]);
        }
        free(fds);
        free(names);
        return r;
}

static int disk_failed(struct archive *d, const char *what, roost_error *e)
{
        int err = archive_errno(d);
        return roost_error_set(e, err > 0 ? -err : -ROOST_EARCHIVE, "%s: %s", what,
                               archive_error_string(d) ?: "failed");
}

/* One entry's data, from the disk reader to the writer. A hole of a
 * sparse file comes as a jump in offset and is written as zeros: the tar
 * writer takes data in order only. */
static int copy_data(struct archive *d, struct archive *a, const char *name, roost_error *e)
{
        static const char zeros[1 << 16];
        const void *buf;
        size_t n;
        la_int64_t off, at = 0;
        int r;
        while ((r = archive_read_data_block(d, &buf, &n, &off)) == ARCHIVE_OK) {
                while (at < off) {
                        size_t k = off - at < (la_int64_t)sizeof(zeros) ? (size_t)(off - at) : sizeof(zeros);
                        if (archive_write_data(a, zeros, k) != (la_ssize_t)k)
                                goto failed;
                        at += (la_int64_t)k;
                }
                if (n && archive_write_data(a, buf, n) != (la_ssize_t)n)
                        goto failed;
                at += (la_int64_t)n;
        }
        return r == ARCHIVE_EOF ? 0 : disk_failed(d, name, e);
failed:;
        int err = archive_errno(a);
        /* A system error says it all ("No space left on device"); else
         * libarchive's own words. */
        if (err > 0)
                return roost_error_set(e, -err, "writing %s", name);
        return roost_error_set(e, -EIO, "writing %s: %s", name, archive_error_string(a) ?: "write failed");
}

static int write_entry(struct archive *d, struct archive *a, struct archive_entry *ent, roost_error *e)
{
        const char *name = archive_entry_pathname(ent);
        if (archive_write_header(a, ent) < ARCHIVE_WARN) {
                int err = archive_errno(a);
                if (err > 0)
                        return roost_error_set(e, -err, "writing %s", name);
                return roost_error_set(e, -EIO, "writing %s: %s", name, archive_error_string(a) ?: "write failed");
        }
        /* A hardlink (and anything linkify emptied) carries no data. */
        if (archive_entry_size(ent) > 0 && !archive_entry_hardlink(ent))
                return copy_data(d, a, name, e);
        return 0;
}

/* The tree below PATH into A, each name "./" + its path below PATH, as
 * Alpine's own minirootfs tarballs name them (and "./" the root itself,
 * so that its mode travels too). */
static int tar_tree(const char *path, struct archive *a, roost_error *e)
{
        struct archive *d = archive_read_disk_new();
        struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
        if (!d || !lr) {
                archive_read_free(d);
                archive_entry_linkresolver_free(lr);
                return roost_error_set(e, -ENOMEM, "reading the tree");
        }
        archive_entry_linkresolver_set_strategy(lr, archive_format(a));
        /* Physical: a symlink is written as one, never followed (the root
         * itself is a real directory). Owners stay numbers: the host's
         * user names mean nothing for the image's ids. No atime restore,
         * no crossing into another mount. */
        archive_read_disk_set_symlink_physical(d);
        archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        int r = 0;
        size_t plen = strlen(path);
        if (archive_read_disk_open(d, path) != ARCHIVE_OK) {
                r = disk_failed(d, "reading the tree", e);
                goto out;
        }
        for (;;) {
                struct archive_entry *ent = NULL, *spare = NULL;
                int k = archive_read_next_header(d, &ent);
                if (k == ARCHIVE_EOF)
                        break;
                if (k < ARCHIVE_WARN) {
                        r = disk_failed(d, "reading the tree", e);
                        break;
                }
                archive_read_disk_descend(d);
                const char *full = archive_entry_pathname(ent);
                if (strncmp(full, path, plen) != 0 || (full[plen] && full[plen] != '/')) {
                        r = roost_error_set(e, -ROOST_EUNSAFE, "reading the tree: %s is outside it", full);
                        break;
                }
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, ".%s%s", full[plen] ? "" : "/", full + plen) < 0) {
                        r = roost_error_set(e, -ENOMEM, "reading the tree");
                        break;
                }
                archive_entry_set_pathname(ent, rel);
                archive_entry_set_uname(ent, NULL);
                archive_entry_set_gname(ent, NULL);
                archive_entry_linkify(lr, &ent, &spare);
                if (ent && (r = write_entry(d, a, ent, e)) < 0)
                        break;
                if (spare && (r = write_entry(d, a, spare, e)) < 0)
                        break;
        }
        /* What linkify held back to the end (none for pax). */
        struct archive_entry *ent = NULL, *spare = NULL;
        for (archive_entry_linkify(lr, &ent, &spare); r == 0 && ent; archive_entry_linkify(lr, &ent, &spare))
                r = write_entry(d, a, ent, e);
out:
        archive_entry_linkresolver_free(lr);
        archive_read_free(d);
        return r;
}

int exchange_export_rootfs(store *s, const struct store_ref *ref, int fd, const struct exchange_export_options *o,
                           roost_error *e)
{
        _cleanup_free_ char *tmp = NULL, *path = NULL;
        _cleanup_close_ int lockfd = -1, rootfd = -1;
        int basefd = AT_FDCWD, r;
        if (!store_read_only(s)) {
                if ((r = store_tmpdir(s, &tmp, &lockfd)) < 0)
                        return roost_error_set(e, r, "making a temporary directory in the store");
                basefd = store_dirfd(s);
                r = store_path(s, tmp, &path);
        } else {
                const char *dir = getenv("TMPDIR");
                if (asprintf(&tmp, "%s/roost-export.XXXXXX", dir && *dir ? dir : "/tmp") < 0)
                        return roost_error_set(e, -ENOMEM, "making a temporary directory");
                if (!mkdtemp(tmp))
                        return roost_error_set(e, -errno, "making a temporary directory %s", tmp);
                r = (path = strdup(tmp)) ? 0 : -ENOMEM;
        }
        char *rootpath = NULL;
        if (r == 0 && asprintf(&rootpath, "%s/rootfs", path) < 0)
                r = -ENOMEM;
        free(path);
        path = rootpath;
        if (r < 0) {
                roost_error_set(e, r, "making a temporary directory");
                goto out;
        }
        if (mkdir(path, 0755) < 0 || (rootfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = roost_error_set(e, -errno, "making a temporary directory %s", path);
                goto out;
        }
        if ((r = exchange_flatten(s, ref, rootfd, o, e)) < 0)
                goto out;
        struct archive *a;
        if ((r = exchange_tar_open(fd, &a, e)) < 0)
                goto out;
        if ((r = tar_tree(path, a, e)) < 0) {
                archive_write_free(a);
                goto out;
        }
        r = exchange_tar_close(a, "the archive", e);
out:
        /* Removed whatever happened: the next store command would too,
         * once this process is gone, but it need not wait for that. */
        (void)rm_rf_at(basefd, tmp);
        return r;
}
