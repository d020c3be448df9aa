/* pull: parse the command line, call fetch_pull, report. */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "fetch/fetch.h"
#include "fetch/progress.h"

static void help(void)
{
        printf("Usage: pull [OPTIONS] IMAGE[:VERSION] [VERSION]\n"
               "\n"
               "Resolve an Alpine minirootfs on a mirror, download it over HTTPS, verify its\n"
               "SHA-256 and SHA-512 against the release index and the published .sha256, and\n"
               "store it under a reference. VERSION is a branch (3.22: its newest release), a\n"
               "release (3.22.1), edge or latest-stable (the default).\n"
               "\n"
               "Options:\n"
               "      --arch ARCH      Alpine architecture (default: the host's)\n"
               "      --mirror URL     https:// or file:// mirror (default: $ROOST_MIRROR,\n"
               "                       else %s)\n"
               "      --cacert FILE    trust this CA certificate (PEM) too\n"
               "      --store DIR      the store (default: $ROOST_STORE, /var/lib/roost for root,\n"
               "                       else ~/.local/share/roost)\n"
               "      --refresh        resolve again even if the reference is stored\n"
               "      --offline        never use the network; fail unless stored\n"
               "      --retries N      retry a failure that may pass N times in a row (default:\n"
               "                       $ROOST_RETRIES, else 5)\n"
               "      --timeout S      give up on a request that made no progress for S seconds,\n"
               "                       retries included (default: $ROOST_RETRY_MAX_TIME, else 300)\n"
               "  -q, --quiet          print nothing but warnings (each retry) and errors\n"
               "      --json           print the result as one JSON object\n"
               "  -h, --help           this text\n"
               "      --version        the version\n"
               "\n"
               "Exit status:\n"
               "  0  pulled, or already stored\n"
               "  1  any other failure\n"
               "  2  bad command line, image name, version or architecture\n"
               "  3  image, version or release not found on the mirror; a file or a file://\n"
               "     mirror folder that does not exist\n"
               "  4  network, TLS or HTTP failure (after retries where they may help)\n"
               "  5  verification failed: checksum, size or a malformed index/checksum file\n"
               "  6  the store could not be opened or written\n"
               "\n"
               "See pull(1) for the environment variables that tune retries and stalls.\n",
               FETCH_DEFAULT_MIRROR);
}

enum {
        ARG_ARCH = 0x100,
        ARG_MIRROR,
        ARG_CACERT,
        ARG_STORE,
        ARG_REFRESH,
        ARG_OFFLINE,
        ARG_JSON,
        ARG_VERSION,
        ARG_RETRIES,
        ARG_TIMEOUT,
};

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "arch", required_argument, NULL, ARG_ARCH },
                { "mirror", required_argument, NULL, ARG_MIRROR },
                { "cacert", required_argument, NULL, ARG_CACERT },
                { "store", required_argument, NULL, ARG_STORE },
                { "refresh", no_argument, NULL, ARG_REFRESH },
                { "offline", no_argument, NULL, ARG_OFFLINE },
                { "retries", required_argument, NULL, ARG_RETRIES },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "quiet", no_argument, NULL, 'q' },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        struct fetch_options o = { .retries = -1 };
        const char *store_dir = NULL;
        bool quiet = false, json = false;
        int c;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                switch (c) {
                case ARG_ARCH:
                        o.arch = optarg;
                        break;
                case ARG_MIRROR:
                        o.mirror = optarg;
                        break;
                case ARG_CACERT:
                        o.cacert = optarg;
                        break;
                case ARG_STORE:
                        store_dir = optarg;
                        break;
                case ARG_REFRESH:
                        o.refresh = true;
                        break;
                case ARG_OFFLINE:
                        o.offline = true;
                        break;
                case ARG_RETRIES:
                        if (fetch_retries_parse(optarg, &o.retries) < 0) {
                                cli_error("--retries: '%s' is not a number from 0 to 100", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_TIMEOUT:
                        if (fetch_timeout_parse(optarg, &o.timeout) < 0) {
                                cli_error("--timeout: '%s' is not a number of seconds (0 < S <= 86400)",
                                          optarg);
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
                        help();
                        return 0;
                case ARG_VERSION:
                        cli_version();
                        return 0;
                default:
                        cli_error("try 'pull --help'");
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc || argc - optind > 2) {
                cli_error("%s: try 'pull alpine 3.22' or 'pull --help'",
                          optind >= argc ? "which image?" : "too many arguments");
                return EXIT_USAGE;
        }
        const char *image = argv[optind], *version = optind + 1 < argc ? argv[optind + 1] : NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (version && strchr(image, ':')) {
                cli_error("%s: give the version once, as IMAGE:VERSION or IMAGE VERSION", image);
                return EXIT_USAGE;
        }
        int r = store_ref_parse(image, version ? version : "latest-stable", &name, &tag);
        if (r < 0) {
                cli_error("'%s%s%s' is not a valid reference", image, version ? " " : "",
                          version ? version : "");
                return EXIT_USAGE;
        }
        if (version) {
                free(tag);
                if (!store_ref_tag_valid(version) || !(tag = strdup(version))) {
                        cli_error("'%s' is not a valid version", version);
                        return EXIT_USAGE;
                }
        }

        _cleanup_free_ char *root = NULL;
        if ((r = store_default_root(store_dir, &root)) < 0) {
                cli_error("finding the store: %s (use --store DIR)", roost_strerror(r));
                return EXIT_STORE;
        }
        store_dir = root;
        store *s = NULL;
        if ((r = store_open(store_dir, 0, &s)) < 0) {
                cli_error("opening the store %s: %s", store_dir, roost_strerror(r));
                return EXIT_STORE;
        }

        struct fetch_progress progress;
        fetch_progress_init(&progress, quiet || json);
        o.progress = fetch_progress_report;
        o.warn = fetch_progress_warn;
        o.userdata = &progress;
        struct store_ref ref = { 0 };
        roost_error e = { "" };
        r = fetch_pull(s, name, tag, &o, &ref, &e);
        fetch_progress_end(&progress);
        store_close(s);
        if (r < 0) {
                cli_error("%s", e.msg[0] ? e.msg : roost_strerror(r));
                return roost_exit_code(r);
        }
        if (json) {
                _cleanup_free_ char *text = NULL;
                if ((r = store_ref_to_json(&ref, &text)) < 0) {
                        store_ref_done(&ref);
                        cli_error("formatting JSON: %s", roost_strerror(r));
                        return EXIT_FAIL;
                }
                printf("%s\n", text);
        } else if (!quiet) {
                char size[32];
                fetch_format_bytes(ref.size, size, sizeof(size));
                printf("reference: %s:%s (%s)\nversion:   %s\nsha256:    %s\nsize:      %llu bytes (%s)\n",
                       ref.name, ref.tag, ref.arch, ref.version, ref.sha256, (unsigned long long)ref.size,
                       size);
        }
        store_ref_done(&ref);
        if (fflush(stdout) != 0) {
                cli_error("writing output: %s", strerror(errno));
                return EXIT_FAIL;
        }
        return 0;
}
