/* A root filesystem tarball, as docker import takes one: it becomes an
 * image of one layer, for the platform --arch names (else the host's).
 * gzip and plain tars are stored as they are, so the layer's digest is
 * the file's own SHA-256; other compressions (xz, zstd, bzip2) are stored
 * as the plain tar inside, since OCI layers are gzip or plain here. The
 * config is docker import's: Env PATH and no Cmd (launch then wants a
 * command), no created time, so that the same tarball imported anywhere
 * for one platform is the same image. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/util.h"
#include "exchange/import-private.h"
#include "unpack/unpack.h"

#define BLOCK (1 << 16)

/* Everything SRC holds (inflated first when INFLATE) into SINK. */
static int rootfs_read(struct import_source *src, bool inflate, int (*sink)(void *, const void *, size_t), void *ctx,
                       roost_error *e)
{
        int r = 0;
        if (!inflate) {
                _cleanup_free_ unsigned char *buf = malloc(BLOCK);
                if (!buf)
                        return -ENOMEM;
                for (off_t off = 0;;) {
                        ssize_t k = pread(src->fd, buf, BLOCK, off);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return roost_error_set(e, -errno, "reading %s", src->label);
                        if (k == 0)
                                return 0;
                        if ((r = sink(ctx, buf, (size_t)k)) < 0)
                                return roost_error_set(e, r, "storing %s", src->label);
                        off += k;
                }
        }
        struct archive *a = archive_read_new();
        struct archive_entry *ent;
        if (!a)
                return -ENOMEM;
        archive_read_support_format_raw(a);
        unpack_read_filters(a);
        if (lseek(src->fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, src->fd, BLOCK) != ARCHIVE_OK ||
            archive_read_next_header(a, &ent) != ARCHIVE_OK)
                r = -ROOST_EARCHIVE;
        const void *buf;
        size_t len;
        int64_t off;
        while (r == 0 && (r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
                r = sink(ctx, buf, len) < 0 ? -EIO : 0;
        if (r == ARCHIVE_EOF)
                r = 0;
        else if (r != 0 && r != -EIO)
                r = import_fail(e, -ROOST_EARCHIVE, "%s: inflating: %s", src->label, archive_error_string(a) ?: "failed");
        else if (r == -EIO)
                r = roost_error_set(e, r, "storing %s", src->label);
        archive_read_free(a);
        return r;
}

static int to_hash(void *h, const void *buf, size_t n)
{
        return store_hash_update(h, buf, n);
}

static int to_blob(void *b, const void *buf, size_t n)
{
        return store_blob_write(b, buf, n);
}

int import_rootfs(struct import_source *src, store *s, const struct exchange_import_options *o,
                  struct import_image *ret, roost_error *e)
{
        bool gzip = src->filter == ARCHIVE_FILTER_GZIP, inflate = !gzip && src->filter != ARCHIVE_FILTER_NONE;
        char sha[STORE_SHA256_HEX + 1], diff[STORE_SHA256_HEX + 1];
        uint64_t size = 0;
        store_hash *h;
        /* The digest first (one read), then the bytes into a blob of that
         * name (a second read), verified again as they are published. */
        int r = store_hash_new(&h);
        if (r < 0)
                return roost_error_set(e, r, "hashing %s", src->label);
        if ((r = rootfs_read(src, inflate, to_hash, h, e)) == 0)
                r = store_hash_peek(h, sha, NULL);
        store_hash_free(h);
        if (r < 0)
                return r;
        store_blob *b;
        if ((r = store_blob_begin_layer(s, sha, gzip, &b)) < 0)
                return roost_error_set(e, r, "storing %s", src->label);
        if (r == 0) {
                if ((store_blob_offset(b) && (r = store_blob_restart(b)) < 0) ||
                    (r = rootfs_read(src, inflate, to_blob, b, e)) < 0) {
                        store_blob_abort(b, false);
                        return r;
                }
                if ((r = store_blob_commit(b)) < 0)
                        return roost_error_set(e, 0, "%s: %s", src->label,
                                               r == -ROOST_EDIGEST   ? "changed while it was read"
                                               : r == -ROOST_EFORMAT ? "not a whole gzip stream"
                                                                     : roost_strerror(r)),
                               r;
        }
        if ((r = store_blob_size(s, sha, &size)) < 0 || (r = store_layer_diff_id(s, sha, gzip, diff)) < 0)
                return roost_error_set(e, r, "%s: the stored layer", src->label);
        static char path[] = "PATH=" STORE_DEFAULT_PATH, by[] = "roost import";
        char *env[] = { path, NULL };
        struct store_layer l = { .digest = sha, .diff_id = diff, .size = size,
                                 .media_type = (char *)(gzip ? STORE_MEDIA_LAYER_GZIP : STORE_MEDIA_LAYER_TAR) };
        struct store_image_config c = { .env = env, .created_by = by };
        if ((r = store_image_put(s, o->arch, &l, 1, &c, NULL, ret->digest)) < 0)
                return roost_error_set(e, r, "writing the image's config and manifest");
        ret->arch = o->arch;
        ret->n_layers = 1;
        return 0;
}
