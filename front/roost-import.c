/* roost import: the tar file roost export writes, carried to a machine
 * without network. Its first entry, roost-image.json, is the reference;
 * its second, sha256/<hex>, the archive. Import checks the archive's size,
 * SHA-256 and SHA-512 against the reference before anything is published.
 * What it cannot tell is a reference rewritten together with its archive:
 * the file proves its own consistency, not its origin (docs/store.md). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "front/roost-cli.h"
#include "unpack/unpack.h"

#define JSON_ENTRY "roost-image.json"
#define JSON_MAX   (1 << 16)

/* The export's archive entry, its bytes handed to SINK: never more than
 * its reference says, and exactly that many. */
static int read_entry(struct archive *a, const struct store_ref *ref,
                      int (*sink)(void *, const void *, size_t), void *ctx, roost_error *e)
{
        const void *buf;
        size_t len;
        int64_t off;
        uint64_t total = 0;
        int r;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                total += len;
                if (total > ref->size)
                        return roost_error_set(e, -ROOST_ESIZE, "archive longer than its reference says");
                if ((r = sink(ctx, buf, len)) < 0)
                        return roost_error_set(e, r, "storing the archive");
        }
        if (r != ARCHIVE_EOF)
                return roost_error_set(e, -ROOST_EARCHIVE, "reading the archive: %s",
                                       archive_error_string(a));
        if (total != ref->size)
                return roost_error_set(e, -ROOST_ESIZE, "archive is %llu bytes, its reference says %llu",
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
static int import_check_only(struct archive *a, const struct store_ref *ref, const char *layer, roost_error *e)
{
        char got256[STORE_SHA256_HEX + 1], got512[STORE_SHA512_HEX + 1];
        store_hash *h;
        int r = store_hash_new(&h);
        if (r < 0)
                return roost_error_set(e, r, "hashing the archive");
        r = read_entry(a, ref, to_hash, h, e);
        if (r == 0 && (r = store_hash_peek(h, got256, got512)) < 0)
                roost_error_set(e, r, "hashing the archive");
        store_hash_free(h);
        if (r < 0)
                return r;
        if (strcmp(got256, layer))
                return roost_error_set(e, -ROOST_EDIGEST, "archive sha256 (expected %.12s…)", layer);
        if (ref->sha512 && strcmp(got512, ref->sha512))
                return roost_error_set(e, -ROOST_EDIGEST, "archive sha512");
        return 0;
}

static int import_blob(store *s, struct archive *a, const struct store_ref *ref, const char *layer,
                       roost_error *e)
{
        store_blob *b;
        int r = store_blob_begin_layer(s, layer, true, &b);
        if (r < 0)
                return roost_error_set(e, r, "storing the archive");
        if (r == 1)
                return import_check_only(a, ref, layer, e);
        if (store_blob_offset(b) && (r = store_blob_restart(b)) < 0) {
                store_blob_abort(b, false);
                return roost_error_set(e, r, "storing the archive");
        }
        if ((r = read_entry(a, ref, to_blob, b, e)) < 0) {
                store_blob_abort(b, false);
                return r;
        }
        char got512[STORE_SHA512_HEX + 1];
        if (ref->sha512 && (store_blob_digests(b, NULL, got512) < 0 || strcmp(got512, ref->sha512))) {
                store_blob_abort(b, false);
                return roost_error_set(e, -ROOST_EDIGEST, "archive sha512");
        }
        if ((r = store_blob_commit(b)) < 0)
                return roost_error_set(e, r, r == -ROOST_EFORMAT ? "archive is not a whole gzip stream"
                                                                 : "archive sha256 (expected %.12s…)",
                                       layer);
        return 0;
}

int cmd_import(struct roost_args *globals, int argc, char **argv)
{
        static const struct opts_spec spec = {
                .prog = "roost import",
                .usage = "[OPTIONS] FILE|-",
                .about = "Check an export's archive (size, SHA-256, SHA-512) against its reference, then\n"
                         "store both (-: standard input). A tampered file leaves nothing behind.",
                .opts = roost_help_only,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args args = *globals;
        int r = roost_parse(argc, argv, &args, &spec);
        if (r)
                return r;
        if (args.n_operands != 1) {
                cli_error("import: give one file (or - for stdin)");
                return EXIT_USAGE;
        }
        const char *file = args.operands[0];
        store *s;
        if ((r = roost_open_store(&args, 0, &s)))
                return r;
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        /* An export may travel compressed (export - | gzip). */
        unpack_read_filters(a);
        struct archive_entry *ent;
        struct store_ref ref = { 0 };
        roost_error e = { "" };
        char expect[96], layer[STORE_SHA256_HEX + 1];
        int ret = 0;
        if ((strcmp(file, "-") ? archive_read_open_filename(a, file, 1 << 16)
                               : archive_read_open_fd(a, 0, 1 << 16)) != ARCHIVE_OK) {
                int err = archive_errno(a);
                if (err == ENOENT) { /* exit 3, as for every tool */
                        cli_error("import: %s: no such file", file);
                        ret = EXIT_NOTFOUND;
                } else if (err == EACCES || err == EISDIR || err == EPERM) {
                        cli_error("import: %s: %s", file, strerror(err));
                        ret = EXIT_FAIL;
                } else {
                        cli_error("import: %s: not a roost export: %s (expected the tar file that roost "
                                  "export writes, plain or compressed with gzip, xz, zstd or bzip2)",
                                  file, archive_error_string(a));
                        ret = EXIT_VERIFY;
                }
                goto out;
        }
        r = archive_read_next_header(a, &ent);
        if (r != ARCHIVE_OK || strcmp(archive_entry_pathname(ent), JSON_ENTRY) ||
            archive_entry_size(ent) <= 0 || archive_entry_size(ent) > JSON_MAX) {
                cli_error("import: %s: not a roost export (no %s first)", file, JSON_ENTRY);
                ret = EXIT_VERIFY;
                goto out;
        }
        char json[JSON_MAX + 1];
        la_ssize_t k = archive_read_data(a, json, JSON_MAX);
        if (k != archive_entry_size(ent)) {
                cli_error("import: %s: truncated %s", file, JSON_ENTRY);
                ret = EXIT_VERIFY;
                goto out;
        }
        json[k] = 0;
        if ((r = store_ref_v1_parse(json, &ref, layer)) < 0) {
                cli_error("import: %s: %s is not a valid reference", file, JSON_ENTRY);
                ret = EXIT_VERIFY;
                goto out;
        }
        snprintf(expect, sizeof(expect), "sha256/%s", layer);
        if (archive_read_next_header(a, &ent) != ARCHIVE_OK || strcmp(archive_entry_pathname(ent), expect)) {
                cli_error("import: %s: the archive entry does not match the reference's digest", file);
                ret = EXIT_VERIFY;
                goto out;
        }
        if ((r = import_blob(s, a, &ref, layer, &e)) < 0) {
                cli_error("import: %s: %s", file, e.msg);
                ret = roost_exit_code(r);
                goto out;
        }
        if (archive_read_next_header(a, &ent) != ARCHIVE_EOF) {
                cli_error("import: %s: unexpected entries after the archive", file);
                ret = EXIT_VERIFY;
                goto out;
        }
        if ((r = store_ref_v1_publish(s, &ref, layer)) < 0) {
                cli_error("import: writing the reference %s:%s: %s", ref.name, ref.tag, roost_strerror(r));
                ret = EXIT_STORE;
                goto out;
        }
        if (!args.quiet)
                printf("imported %s:%s %s (%s) sha256:%s\n", ref.name, ref.tag, ref.version, ref.arch, layer);
out:
        archive_read_free(a);
        store_ref_done(&ref);
        store_close(s);
        return ret;
}
