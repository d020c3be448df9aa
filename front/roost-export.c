/* roost export: the command line. What it writes (an OCI image layout, a
 * flattened root file system, a runtime bundle) is exchange's
 * (exchange/exchange.h, docs/exchange.md). */
#include "config.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "exchange/exchange.h"
#include "front/roost-cli.h"

static void show_warning(void *userdata, const char *msg)
{
        (void)userdata;
        cli_warn("export: warning: %s", msg);
}

/* Exit codes as the other commands': what roost knows (no such image 3,
 * damaged store 5, corrupt layer 7, usage 2) as roost_exit_code says;
 * the destination's system errors (a directory not writable, a full
 * disk, a bundle directory not empty) are 1, not the store's 6. */
static int export_exit_code(int r)
{
        return -r > ROOST_ERR_BASE ? roost_exit_code(r) : EXIT_FAIL;
}

int cmd_export(struct roost_args *globals, int argc, char **argv)
{
        static const struct opt opts[] = {
                { ROOST_OPT_FORMAT, 0, "format", "FORMAT",
                  "oci (default): an OCI image layout as a tar archive,\n"
                  "for skopeo, podman load, umoci; rootfs: the image's\n"
                  "files as one tar archive, as docker export; bundle:\n"
                  "an OCI runtime bundle directory, for runc and crun" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost export",
                .usage = "[OPTIONS] IMAGE[:TAG] FILE|-\n--format bundle [OPTIONS] IMAGE[:TAG] DIR",
                .about = "Write a stored image for other tools: an OCI image layout (digests unchanged),\n"
                         "a flattened root file system, or a runtime bundle. FILE or DIR appears only\n"
                         "once complete; - writes a tar format to standard output.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args args = *globals;
        int r = roost_parse(argc, argv, &args, &spec);
        if (r)
                return r;
        struct exchange_export_options o = { .warn = show_warning };
        if (args.format && exchange_format_parse(args.format, &o.format) < 0) {
                cli_error("export: unknown format '%s'; use oci, rootfs or bundle", args.format);
                return EXIT_USAGE;
        }
        if (args.n_operands != 2) {
                cli_error(o.format == EXCHANGE_FORMAT_BUNDLE ? "export: give an image and a directory"
                                                             : "export: give an image and a file (or - for stdout)");
                return EXIT_USAGE;
        }
        const char *refname = args.operands[0], *dest = args.operands[1];
        if (!strcmp(dest, "-") && o.format == EXCHANGE_FORMAT_BUNDLE) {
                cli_error("export: a bundle is a directory; name one, not -");
                return EXIT_USAGE;
        }
        if (!strcmp(dest, "-") && isatty(STDOUT_FILENO)) {
                cli_error("export: standard output is a terminal; redirect it, or name a file");
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&args, STORE_READ, &s)))
                return r;
        struct store_ref ref = { 0 };
        roost_error e = { "" };
        int ret = 0;
        if ((r = roost_read_ref(s, &args, refname, &ref)) < 0) {
                cli_error("export: %s: %s", refname,
                          r == -ROOST_ENOTFOUND ? "no such image in the store" : roost_strerror(r));
                ret = roost_exit_code(r);
        } else if ((r = exchange_export(s, &ref, dest, &o, &e)) < 0) {
                cli_error("export: %s:%s: %s", ref.name, ref.tag, e.msg[0] ? e.msg : roost_strerror(r));
                ret = export_exit_code(r);
        }
        store_ref_done(&ref);
        store_close(s);
        return ret;
}
