/* push: parse the command line, call push_image, report. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/opts.h"
#include "common/util.h"
#include "fetch/fetch.h"
#include "fetch/progress.h"
#include "fetch/registry.h"
#include "push/push.h"
#include "store/json.h"

enum {
        ARG_ARCH = 0x100,
        ARG_CACERT,
        ARG_CREDS,
        ARG_PLAIN_HTTP,
        ARG_STORE,
        ARG_RETRIES,
        ARG_TIMEOUT,
        ARG_CHUNK,
        ARG_JSON,
        ARG_VERSION,
};

static const struct opt options[] = {
        { ARG_ARCH, 0, "arch", "ARCH", "push only this platform's image (default: every\nstored one)" },
        { ARG_CACERT, 0, "cacert", "FILE", "trust this CA certificate (PEM) too" },
        { ARG_CREDS, 0, "creds", "USER:PASS",
          "the registry's credentials (default: those auth.json\nor ~/.docker/config.json hold for it)" },
        { ARG_PLAIN_HTTP, 0, "plain-http", NULL,
          "plain HTTP to a registry on a loopback address\n(never with credentials)" },
        { ARG_STORE, 0, "store", "DIR",
          "the store (default: $ROOST_STORE, /var/lib/roost\nfor root, else ~/.local/share/roost)" },
        { ARG_RETRIES, 0, "retries", "N",
          "retry a failure that may pass N times in a row\n(default: $ROOST_RETRIES, else 5)" },
        { ARG_TIMEOUT, 0, "timeout", "S",
          "give up on a request that made no progress for S\nseconds (default: $ROOST_RETRY_MAX_TIME, else 300)" },
        { ARG_CHUNK, 0, "chunk-size", "SIZE",
          "send a blob larger than SIZE (1M to 4G) in chunks of\nSIZE, resumed where a broken one stopped; 0: one\n"
          "request per blob (default: 64M)" },
        { 'q', 'q', "quiet", NULL, "print nothing but warnings (each retry) and errors" },
        { ARG_JSON, 0, "json", NULL, "print the result as one JSON object" },
        { 'h', 'h', "help", NULL, "this text" },
        { ARG_VERSION, 0, "version", NULL, "the version" },
        {},
};

static const struct opts_spec spec = {
        .prog = "push",
        .usage = "[OPTIONS] IMAGE[:TAG] REGISTRY/REPOSITORY[:TAG]",
        .about = "Send a stored image to an OCI distribution registry over HTTPS, byte for byte:\n"
                 "its digests there are the store's. Each blob is checked with HEAD first and\n"
                 "only the missing ones are sent (mounted from another repository of the\n"
                 "registry where the store knows one has it); then the manifests, then the tag:\n"
                 "the image's manifest for one platform, an OCI index for more.",
        .opts = options,
        .footer = "Exit status:\n"
                  "  0  pushed\n"
                  "  1  any other failure\n"
                  "  2  bad command line, image name or destination; --plain-http to a host\n"
                  "     that is not on loopback\n"
                  "  3  no such image in the store; a repository the registry does not know\n"
                  "  4  network, TLS or HTTP failure (after retries where they may help), a\n"
                  "     registry that refuses access or asks to slow down\n"
                  "  5  the registry says a blob or manifest is not what its digest or size says\n"
                  "  6  the store could not be opened\n"
                  "\n"
                  "See push(1).",
};

struct out {
        struct fetch_progress progress;
        bool quiet;
};

static void show_blob(void *userdata, const char *hex, uint64_t size, enum push_fate fate, const char *from)
{
        struct out *o = userdata;
        char human[32];
        if (o->quiet)
                return;
        fetch_progress_end(&o->progress);
        fetch_format_bytes(size, human, sizeof(human));
        printf("%-9s sha256:%.12s (%s)%s%s\n",
               fate == PUSH_UPLOADED  ? "uploaded"
               : fate == PUSH_MOUNTED ? "mounted"
                                      : "present",
               hex, human, from ? " from " : "", from ? from : "");
        fflush(stdout);
}

int main(int argc, char **argv)
{
        store_enable_migration();
        registry_json_wipe_freed(); /* auth.json's and a token's strings are wiped when freed */
        struct push_options o = { .retries = -1, .chunk_size = 64u << 20 };
        const char *store_dir = NULL;
        _cleanup_(secret_freep) char *creds = NULL;
        bool quiet = false, json = false;
        opts_parser p;
        int c;
        opts_init(&p, &spec, argc, argv);
        while ((c = opts_next(&p)) != 0) {
                switch (c) {
                case ARG_ARCH:
                        if (!store_arch_valid(p.arg)) {
                                cli_error("--arch: '%s' is not an architecture roost knows", p.arg);
                                return EXIT_USAGE;
                        }
                        o.arch = p.arg;
                        break;
                case ARG_CACERT:
                        o.cacert = p.arg;
                        break;
                case ARG_CREDS:
                        /* Out of ps's sight as soon as it is read. */
                        secret_freep(&creds);
                        if (!(o.creds = creds = secret_take_arg((char *)p.arg))) {
                                cli_error("%s", strerror(ENOMEM));
                                return EXIT_FAIL;
                        }
                        break;
                case ARG_PLAIN_HTTP:
                        o.plain_http = true;
                        break;
                case ARG_STORE:
                        store_dir = p.arg;
                        break;
                case ARG_RETRIES:
                        if (fetch_retries_parse(p.arg, &o.retries) < 0) {
                                cli_error("--retries: '%s' is not a number from 0 to 100", p.arg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_TIMEOUT:
                        if (fetch_timeout_parse(p.arg, &o.timeout) < 0) {
                                cli_error("--timeout: '%s' is not a number of seconds (0 < S <= 86400)", p.arg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_CHUNK:
                        if (push_chunk_size_parse(p.arg, &o.chunk_size) < 0) {
                                cli_error("--chunk-size: '%s' is not 0 or a size from 1M to 4G", p.arg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'q':
                        quiet = true;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        opts_help(&spec);
                        return 0;
                case ARG_VERSION:
                        cli_version();
                        return 0;
                default:
                        return EXIT_USAGE;
                }
        }
        if (p.n_operands != 2) {
                cli_error("%s: try 'push IMAGE REGISTRY/REPOSITORY[:TAG]' or 'push --help'",
                          p.n_operands < 2 ? "give an image and a destination" : "too many arguments");
                return EXIT_USAGE;
        }
        _cleanup_free_ char *root = NULL;
        int r = store_default_root(store_dir, &root);
        if (r < 0) {
                cli_error("finding the store: %s (use --store DIR)", roost_strerror(r));
                return EXIT_STORE;
        }
        store *s = NULL;
        if ((r = store_open(root, STORE_READ | STORE_NO_CREATE, &s)) < 0) {
                if (r == -ENOENT) {
                        cli_error("%s: no such image in the store (the store %s does not exist)", p.operands[0],
                                  root);
                        return EXIT_NOTFOUND;
                }
                cli_error("opening the store %s: %s", root, roost_strerror(r));
                return EXIT_STORE;
        }
        struct out out = { .quiet = quiet || json };
        fetch_progress_init(&out.progress, quiet || json);
        o.progress = fetch_progress_report;
        o.warn = fetch_progress_warn;
        o.blob = show_blob;
        o.userdata = &out; /* its first member is the progress printer */
        struct push_report rep;
        roost_error e = { "" };
        r = push_image(s, p.operands[0], p.operands[1], &o, &rep, &e);
        fetch_progress_end(&out.progress);
        store_close(s);
        if (r < 0) {
                cli_error("%s", e.msg[0] ? e.msg : roost_strerror(r));
                push_report_done(&rep);
                return roost_exit_code(r);
        }
        if (json) {
                _cleanup_json_ json_t *j = json_pack(
                        "{s:s, s:s+, s:b, s:i, s:i, s:i, s:i, s:I}", "reference", rep.reference, "digest", "sha256:",
                        rep.digest, "index", rep.index, "manifests", (int)rep.manifests, "uploaded",
                        (int)rep.uploaded, "mounted", (int)rep.mounted, "present", (int)rep.present,
                        "bytes_uploaded", (json_int_t)rep.bytes_uploaded);
                _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
                if (!text) {
                        cli_error("formatting JSON: %s", strerror(ENOMEM));
                        push_report_done(&rep);
                        return EXIT_FAIL;
                }
                printf("%s\n", text);
        } else if (!quiet) {
                char human[32];
                fetch_format_bytes(rep.bytes_uploaded, human, sizeof(human));
                printf("pushed:   %s\ndigest:   sha256:%s (%s)\nblobs:    %u uploaded (%s), %u mounted, %u present\n",
                       rep.reference, rep.digest,
                       rep.index ? "an index of its platforms" : "the image's manifest", rep.uploaded, human,
                       rep.mounted, rep.present);
        }
        push_report_done(&rep);
        if (fflush(stdout) != 0) {
                cli_error("writing output: %s", strerror(errno));
                return EXIT_FAIL;
        }
        return 0;
}
