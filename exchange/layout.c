/* roost export --format oci: one image as an OCI image layout (image-spec
 * v1.1, "image-layout.md") in a tar archive, the oci-archive that skopeo,
 * podman and buildah read:
 *
 *   oci-layout                   {"imageLayoutVersion":"1.0.0"}
 *   index.json                   one manifest descriptor, with its platform
 *                                and org.opencontainers.image.ref.name
 *   blobs/sha256/<hex>           the manifest, its config and its layers
 *
 * Blobs are the store's bytes, copied unchanged, so every digest (and the
 * image's, the manifest's) is the one roost shows. Each is hashed as it is
 * copied and a mismatch fails the export: a damaged store must not be
 * carried on as a good image. The index's own roost.* annotations (where
 * the store got the image) are not written: docs/exchange.md says why. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include "common/util.h"
#include "exchange/exchange-private.h"

#define LAYOUT_VERSION "{\"imageLayoutVersion\":\"1.0.0\"}"
#define REF_NAME       "org.opencontainers.image.ref.name"

int exchange_tar_open(int fd, struct archive **ret, roost_error *e)
{
        struct archive *a = archive_write_new();
        if (!a)
                return roost_error_set(e, -ENOMEM, "writing the archive");
        /* Extended attributes as SCHILY.xattr.* only: what GNU tar and
         * Go's archive/tar (skopeo, podman, umoci) read; libarchive's own
         * LIBARCHIVE.xattr.* beside them makes GNU tar warn on every one. */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_set_format_option(a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                roost_error_set(e, 0, "writing the archive: %s", archive_error_string(a));
                archive_write_free(a);
                return -ROOST_EARCHIVE;
        }
        *ret = a;
        return 0;
}

int exchange_tar_close(struct archive *a, const char *what, roost_error *e)
{
        int r = 0;
        if (archive_write_close(a) != ARCHIVE_OK) {
                int err = archive_errno(a);
                r = err > 0 ? roost_error_set(e, -err, "writing %s", what)
                            : roost_error_set(e, -EIO, "writing %s: %s", what, archive_error_string(a) ?: "failed");
        }
        archive_write_free(a);
        return r;
}

/* A failed archive_write_* as -errno: a system error says it all ("No
 * space left on device"); else libarchive's own words. */
static int tar_failed(struct archive *a, const char *what, roost_error *e)
{
        int err = archive_errno(a);
        if (err > 0)
                return roost_error_set(e, -err, "writing %s", what);
        return roost_error_set(e, -EIO, "writing %s: %s", what, archive_error_string(a) ?: "write failed");
}

static int tar_header(struct archive *a, const char *name, mode_t type, mode_t perm, int64_t size, roost_error *e)
{
        struct archive_entry *ent = archive_entry_new();
        if (!ent)
                return roost_error_set(e, -ENOMEM, "writing %s", name);
        archive_entry_set_pathname(ent, name);
        archive_entry_set_filetype(ent, type);
        archive_entry_set_perm(ent, perm);
        archive_entry_set_size(ent, type == AE_IFREG ? size : 0);
        /* Fixed times and owners: the same image exports to the same bytes. */
        archive_entry_set_mtime(ent, 0, 0);
        archive_entry_set_uid(ent, 0);
        archive_entry_set_gid(ent, 0);
        int r = archive_write_header(a, ent);
        archive_entry_free(ent);
        return r == ARCHIVE_OK ? 0 : tar_failed(a, name, e);
}

static int tar_data(struct archive *a, const char *name, const void *buf, size_t n, roost_error *e)
{
        la_ssize_t k = archive_write_data(a, buf, n);
        return k == (la_ssize_t)n ? 0 : tar_failed(a, name, e);
}

static int tar_file(struct archive *a, const char *name, const char *text, roost_error *e)
{
        size_t n = strlen(text);
        int r = tar_header(a, name, AE_IFREG, 0644, (int64_t)n, e);
        return r < 0 ? r : tar_data(a, name, text, n, e);
}

/* blobs/sha256/HEX, copied from the store and hashed on the way. */
static int tar_blob(store *s, struct archive *a, const char *hex, roost_error *e)
{
        char name[96];
        snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
        uint64_t size;
        int r = store_blob_size(s, hex, &size);
        if (r < 0)
                return r == -ENOENT ? (roost_error_set(e, 0, "blob %.12s missing from the store; run roost verify",
                                                       hex),
                                       -ROOST_EDIGEST)
                                    : roost_error_set(e, r, "blob %.12s", hex);
        _cleanup_close_ int fd = store_blob_open(s, hex);
        if (fd < 0)
                return roost_error_set(e, fd, "opening blob %.12s", hex);
        if ((r = tar_header(a, name, AE_IFREG, 0644, (int64_t)size, e)) < 0)
                return r;
        store_hash *h;
        if ((r = store_hash_new(&h)) < 0)
                return roost_error_set(e, r, "hashing blob %.12s", hex);
        static unsigned char buf[1 << 17];
        uint64_t done = 0;
        while (done < size) {
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = roost_error_set(e, k < 0 ? -errno : -ROOST_ESIZE, "reading blob %.12s", hex);
                        break;
                }
                if ((uint64_t)k > size - done)
                        k = (ssize_t)(size - done); /* grew since: the hash says so */
                store_hash_update(h, buf, (size_t)k);
                if ((r = tar_data(a, name, buf, (size_t)k, e)) < 0)
                        break;
                done += (uint64_t)k;
        }
        char got[STORE_SHA256_HEX + 1], got512[STORE_SHA512_HEX + 1];
        if (r == 0 && store_hash_peek(h, got, got512) == 0 && strcmp(got, hex))
                r = roost_error_set(e, -ROOST_EDIGEST,
                                    "blob %.12s in the store no longer matches its digest (got %.12s); "
                                    "run roost verify",
                                    hex, got);
        store_hash_free(h);
        return r;
}

int exchange_ref_name(const struct store_ref *ref, char **ret)
{
        char *t;
        if (asprintf(&t, "%s:%s", ref->name, ref->tag) < 0)
                return -ENOMEM;
        *ret = t;
        return 0;
}

/* index.json: the one manifest, as the store's index lists it, without
 * the store's own annotations. */
static int index_json(store *s, const struct store_ref *ref, char **ret, roost_error *e)
{
        uint64_t size;
        int r = store_blob_size(s, ref->digest, &size);
        if (r < 0)
                return roost_error_set(e, r, "manifest %.12s", ref->digest);
        const char *arch, *variant;
        if (store_arch_to_platform(ref->arch, &arch, &variant) < 0)
                return roost_error_set(e, 0, "no OCI platform for architecture %s", ref->arch), -EINVAL;
        _cleanup_free_ char *refname = NULL;
        if (exchange_ref_name(ref, &refname) < 0)
                return -ENOMEM;
        char digest[STORE_SHA256_HEX + 8];
        snprintf(digest, sizeof(digest), "sha256:%s", ref->digest);
        json_t *platform = json_pack("{s:s, s:s}", "architecture", arch, "os", "linux");
        if (platform && variant)
                json_object_set_new(platform, "variant", json_string(variant));
        json_t *o = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:o, s:{s:s}}]}", "schemaVersion", 2, "mediaType",
                              STORE_MEDIA_INDEX, "manifests", "mediaType", STORE_MEDIA_MANIFEST, "digest", digest,
                              "size", (json_int_t)size, "platform", platform, "annotations", REF_NAME, refname);
        /* The release's detached signature travels as a blob the
         * descriptor names, so that an import can check it again: evidence,
         * not a verdict (docs/exchange.md). */
        if (o && ref->signature && store_digest_valid(ref->signature)) {
                char sig[STORE_SHA256_HEX + 8];
                snprintf(sig, sizeof(sig), "sha256:%s", ref->signature);
                json_object_set_new(json_object_get(json_array_get(json_object_get(o, "manifests"), 0), "annotations"),
                                    EXCHANGE_SIGNATURE, json_string(sig));
        }
        char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
        json_decref(o);
        if (!text)
                return roost_error_set(e, -ENOMEM, "writing index.json");
        *ret = text;
        return 0;
}

int exchange_export_oci(store *s, const struct store_ref *ref, int fd, roost_error *e)
{
        _cleanup_free_ char *index = NULL;
        int r = index_json(s, ref, &index, e);
        if (r < 0)
                return r;
        struct archive *a;
        if ((r = exchange_tar_open(fd, &a, e)) < 0)
                return r;
        /* oci-layout first: a reader that streams the archive knows what it
         * holds at once; the blobs after index.json, manifest first. */
        if ((r = tar_file(a, "oci-layout", LAYOUT_VERSION, e)) < 0 ||
            (r = tar_file(a, "index.json", index, e)) < 0 ||
            (r = tar_header(a, "blobs/", AE_IFDIR, 0755, 0, e)) < 0 ||
            (r = tar_header(a, "blobs/sha256/", AE_IFDIR, 0755, 0, e)) < 0 ||
            (r = tar_blob(s, a, ref->digest, e)) < 0 || (r = tar_blob(s, a, ref->config, e)) < 0)
                goto fail;
        for (size_t i = 0; i < ref->n_layers; i++) {
                /* A layer listed twice (an empty layer repeated) is one blob. */
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen = seen || !strcmp(ref->layers[j].digest, ref->layers[i].digest);
                if (!seen && (r = tar_blob(s, a, ref->layers[i].digest, e)) < 0)
                        goto fail;
        }
        if (ref->signature && store_digest_valid(ref->signature) && (r = tar_blob(s, a, ref->signature, e)) < 0)
                goto fail;
        return exchange_tar_close(a, "the archive", e);
fail:
        archive_write_free(a);
        return r;
}
