/* roost export: one tar file that carries an image to a machine without
 * network. Its first entry, roost-image.json, is the reference;
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

static int export_write(struct archive *a, const char *name, int64_t size, int fd, const char *data)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0444);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return -EIO;
        if (data)
                return archive_write_data(a, data, (size_t)size) == size ? 0 : -EIO;
        static unsigned char buf[1 << 16];
        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                if (archive_write_data(a, buf, (size_t)k) != k)
                        return -EIO;
        }
}

int cmd_export(struct roost_args *globals, int argc, char **argv)
{
        static const struct opts_spec spec = {
                .prog = "roost export",
                .usage = "[OPTIONS] IMAGE[:TAG] FILE|-",
                .about = "Write an image to one self-verifying tar file (-: standard output), for\n"
                         "roost import on a machine without network.",
                .opts = roost_help_only,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args args = *globals;
        int r = roost_parse(argc, argv, &args, &spec);
        if (r)
                return r;
        if (args.n_operands != 2) {
                cli_error("export: give an image and a file (or - for stdout)");
                return EXIT_USAGE;
        }
        const char *refname = args.operands[0], *file = args.operands[1];
        store *s;
        if ((r = roost_open_store(&args, STORE_READ, &s)))
                return r;
        struct store_ref ref = { 0 };
        _cleanup_free_ char *json = NULL;
        _cleanup_close_ int blob = -1;
        char entry[96];
        int ret = 0;
        if ((r = roost_read_ref(s, &args, refname, &ref)) < 0) {
                cli_error("export: %s: %s", refname,
                          r == -ROOST_ENOTFOUND ? "no such image in the store" : roost_strerror(r));
                ret = roost_exit_code(r);
                goto out;
        }
        if (ref.n_layers != 1) {
                cli_error("export: %s has %zu layers: export writes single-layer images", refname, ref.n_layers);
                ret = EXIT_USAGE;
                goto out;
        }
        if ((blob = store_blob_open(s, ref.layers[0].digest)) < 0 || store_ref_v1_json(&ref, &json) < 0) {
                cli_error("export: %s: archive missing from the store; pull it again", refname);
                ret = EXIT_STORE;
                goto out;
        }
        snprintf(entry, sizeof(entry), "sha256/%s", ref.layers[0].digest);
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        int ar = strcmp(file, "-") ? archive_write_open_filename(a, file) : archive_write_open_fd(a, 1);
        if (ar != ARCHIVE_OK || export_write(a, JSON_ENTRY, (int64_t)strlen(json), -1, json) < 0 ||
            export_write(a, entry, (int64_t)ref.size, blob, NULL) < 0 ||
            archive_write_close(a) != ARCHIVE_OK) {
                cli_error("export: writing %s: %s", file, archive_error_string(a) ?: "write failed");
                ret = EXIT_FAIL;
                if (strcmp(file, "-"))
                        unlink(file);
        }
        archive_write_free(a);
out:
        store_ref_done(&ref);
        store_close(s);
        return ret;
}

