/* roost import: an image from a file (exchange/import.c does the work). */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "exchange/exchange.h"
#include "front/roost-cli.h"

static const char *const format_names[] = {
        [EXCHANGE_INPUT_OCI] = "OCI layout",
        [EXCHANGE_INPUT_DOCKER] = "docker-archive",
        [EXCHANGE_INPUT_ROOST] = "roost export",
        [EXCHANGE_INPUT_ROOTFS] = "root filesystem",
};

/* The exit codes of ROOST_STORE_FOOTER: whatever is wrong with the input
 * (damaged, tampered, hostile, over a limit) is 5; what roost does not
 * store (zstd, foreign layers) 1; the store's own failures 6, an I/O error
 * among them: a medium that fails under the store's writes is one. */
static int import_exit(int r)
{
        switch (-r) {
        case ROOST_EUSAGE:
                return EXIT_USAGE;
        case ROOST_ENOTFOUND:
                return EXIT_NOTFOUND;
        case ROOST_EDIGEST:
        case ROOST_ESIZE:
        case ROOST_EFORMAT:
        case ROOST_EUNSAFE:
        case ROOST_EARCHIVE:
        case ROOST_ELIMIT:
        case ROOST_ESIGNATURE:
                return EXIT_VERIFY;
        case ENOSPC:
        case EDQUOT:
        case EROFS:
        case EIO:
        case ROOST_EOLDSTORE:
                return EXIT_STORE;
        default:
                return EXIT_FAIL;
        }
}

int cmd_import(struct roost_args *globals, int argc, char **argv)
{
        static const struct opts_spec spec = {
                .prog = "roost import",
                .usage = "[OPTIONS] FILE|DIR|- [NAME[:TAG]]",
                .about = "Store an image from a file (-: standard input), recognised by what it holds: an\n"
                         "OCI layout (a directory, or a tar of one, as skopeo and podman save write it), a\n"
                         "docker-archive (docker save), roost's earlier export, or a root filesystem\n"
                         "tarball (which needs NAME[:TAG]). NAME[:TAG] names the image; else the file's\n"
                         "own name for it is used. Every blob is checked against its digest before the\n"
                         "reference is written: a tampered file leaves none.",
                .opts = roost_help_only,
                .globals = roost_global_opts,
                .footer = ROOST_STORE_FOOTER,
        };
        struct roost_args args = *globals;
        int r = roost_parse(argc, argv, &args, &spec);
        if (r)
                return r;
        if (args.n_operands < 1 || args.n_operands > 2) {
                cli_error("import: give one file, directory or - for stdin, and optionally NAME[:TAG]");
                return EXIT_USAGE;
        }
        const char *file = args.operands[0];
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (args.n_operands == 2 && store_ref_parse(args.operands[1], NULL, &name, &tag) < 0) {
                cli_error("import: invalid image name '%s' (NAME[:TAG], as docker names images)", args.operands[1]);
                return EXIT_USAGE;
        }
        store *s;
        if ((r = roost_open_store(&args, 0, &s)))
                return r;
        struct exchange_import_options o = {
                .name = name, .tag = tag, .arch = args.arch, .arch_given = args.arch_given
        };
        struct exchange_import_result res = { 0 };
        roost_error e = { "" };
        int ret = 0;
        if ((r = exchange_import(s, file, &o, &res, &e)) < 0) {
                cli_error("import: %s", e.msg);
                ret = import_exit(r);
        } else if (!args.quiet)
                printf("imported %s:%s (%s, %s, %zu layer%s) sha256:%s\n", res.name, res.tag, res.arch,
                       format_names[res.format], res.n_layers, res.n_layers == 1 ? "" : "s", res.digest);
        exchange_import_result_done(&res);
        store_close(s);
        return ret;
}
