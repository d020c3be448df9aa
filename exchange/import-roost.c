/* roost's earlier export: a tar whose first entry, roost-image.json, is
 * the reference and whose second, sha256/<hex>, the archive. The archive's
 * size, SHA-256 and SHA-512 are checked against the reference before
 * anything is published. What it cannot tell is a reference rewritten
 * together with its archive: the file proves its own consistency, not its
 * origin (docs/store.md). Read as roost import always read it. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/util.h"
#include "exchange/import-private.h"
#include "unpack/unpack.h"

#define JSON_ENTRY "roost-image.json"
#define JSON_MAX   (1 << 16)

/* The export's archive entry, its bytes handed to SINK: never more than
 * its reference says, and exactly that many. */
static int read_entry(struct archive *a, const struct store_ref *ref, int (*sink)(void *, const void *, size_t),
                      void *ctx, const char *label, roost_error *e)
{
        const void *buf;
        size_t len;
        int64_t off;
        uint64_t total = 0;
        int r;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                total += len;
                if (total > ref->size)
                        return roost_error_set(e, -ROOST_ESIZE, "%s: archive longer than its reference says", label);
                if ((r = sink(ctx, buf, len)) < 0)
                        return roost_error_set(e, r, "%s: storing the archive", label);
        }
        if (r != ARCHIVE_EOF)
                return roost_error_set(e, -ROOST_EARCHIVE, "%s: reading the archive: %s", label,
                                       archive_error_string(a));
        if (total != ref->size)
                return roost_error_set(e, -ROOST_ESIZE, "%s: archive is %llu bytes, its reference says %llu", label,
                                       (unsigned long long)total, (unsigned long long)ref->size);
        return 0;
}

static int to_blob(void *b, const void *buf, size_t n)
{
        return store_blob_write(b, buf, n);
}

static int to_hash(void *h, const void *buf, size_t n)
{
        return store_hash_update(h, buf, n);
}

/* The archive is stored already: the file must still carry the same
 * bytes, or its reference (sha512, size) would be taken on trust. */
static int check_only(struct archive *a, const struct store_ref *ref, const char *layer, const char *label,
                      roost_error *e)
{
        char got256[STORE_SHA256_HEX + 1], got512[STORE_SHA512_HEX + 1];
        store_hash *h;
        int r = store_hash_new(&h);
        if (r < 0)
                return roost_error_set(e, r, "%s: hashing the archive", label);
        r = read_entry(a, ref, to_hash, h, label, e);
        if (r == 0 && (r = store_hash_peek(h, got256, got512)) < 0)
                roost_error_set(e, r, "%s: hashing the archive", label);
        store_hash_free(h);
        if (r < 0)
                return r;
        if (strcmp(got256, layer))
                return roost_error_set(e, -ROOST_EDIGEST, "%s: archive sha256 (expected %.12s…)", label, layer);
        if (ref->sha512 && strcmp(got512, ref->sha512))
                return roost_error_set(e, -ROOST_EDIGEST, "%s: archive sha512", label);
        return 0;
}

static int store_archive(store *s, struct archive *a, const struct store_ref *ref, const char *layer,
                         const char *label, roost_error *e)
{
        store_blob *b;
        int r = store_blob_begin_layer(s, layer, true, &b);
        if (r < 0)
                return roost_error_set(e, r, "%s: storing the archive", label);
        if (r == 1)
                return check_only(a, ref, layer, label, e);
        if (store_blob_offset(b) && (r = store_blob_restart(b)) < 0) {
                store_blob_abort(b, false);
                return roost_error_set(e, r, "%s: storing the archive", label);
        }
        if ((r = read_entry(a, ref, to_blob, b, label, e)) < 0) {
                store_blob_abort(b, false);
                return r;
        }
        char got512[STORE_SHA512_HEX + 1];
        if (ref->sha512 && (store_blob_digests(b, NULL, got512) < 0 || strcmp(got512, ref->sha512))) {
                store_blob_abort(b, false);
                return roost_error_set(e, -ROOST_EDIGEST, "%s: archive sha512", label);
        }
        if ((r = store_blob_commit(b)) < 0)
                return roost_error_set(e, r,
                                       r == -ROOST_EFORMAT ? "%s: archive is not a whole gzip stream"
                                                           : "%s: archive sha256 (expected %.12s…)",
                                       label, layer);
        return 0;
}

int import_roost(store *s, int fd, const char *label, struct exchange_import_result *ret, roost_error *e)
{
        struct archive *a = archive_read_new();
        struct archive_entry *ent;
        struct store_ref ref = { 0 };
        char expect[96], layer[STORE_SHA256_HEX + 1], json[JSON_MAX + 1];
        int r;
        archive_read_support_format_tar(a);
        /* An export may travel compressed (export - | gzip). */
        unpack_read_filters(a);
        if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK ||
            archive_read_next_header(a, &ent) != ARCHIVE_OK || strcmp(archive_entry_pathname(ent), JSON_ENTRY) ||
            archive_entry_size(ent) <= 0 || archive_entry_size(ent) > JSON_MAX) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: not a roost export (no %s first)", label, JSON_ENTRY);
                goto out;
        }
        la_ssize_t k = archive_read_data(a, json, JSON_MAX);
        if (k != archive_entry_size(ent)) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: truncated %s", label, JSON_ENTRY);
                goto out;
        }
        json[k] = 0;
        if (store_ref_v1_parse(json, &ref, layer) < 0) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: %s is not a valid reference", label, JSON_ENTRY);
                goto out;
        }
        snprintf(expect, sizeof(expect), "sha256/%s", layer);
        if (archive_read_next_header(a, &ent) != ARCHIVE_OK || strcmp(archive_entry_pathname(ent), expect)) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: the archive entry does not match the reference's digest", label);
                goto out;
        }
        if ((r = store_archive(s, a, &ref, layer, label, e)) < 0)
                goto out;
        if (archive_read_next_header(a, &ent) != ARCHIVE_EOF) {
                r = import_fail(e, -ROOST_EFORMAT, "%s: unexpected entries after the archive", label);
                goto out;
        }
        if ((r = store_ref_v1_publish(s, &ref, layer)) < 0) {
                roost_error_set(e, r, "writing the reference %s:%s", ref.name, ref.tag);
                goto out;
        }
        /* store_ref_v1_publish wrote the image: its digest is the
         * reference's now. */
        struct store_ref got = { 0 };
        if (store_ref_read(s, ref.name, ref.tag, ref.arch, &got) == 0) {
                memcpy(ret->digest, got.digest, sizeof(ret->digest));
                store_ref_done(&got);
        }
        ret->n_layers = 1;
        if (!(ret->name = strdup(ref.name)) || !(ret->tag = strdup(ref.tag)) || !(ret->arch = strdup(ref.arch)))
                r = -ENOMEM;
out:
        archive_read_free(a);
        store_ref_done(&ref);
        return r;
}
