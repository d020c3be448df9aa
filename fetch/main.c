/* pull: parse the command line, call fetch_pull, report. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/opts.h"
#include "common/util.h"
#include "fetch/fetch.h"
#include "fetch/progress.h"
#include "fetch/registry.h"

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
        ARG_TRUST,
        ARG_ALLOW_UNSIGNED,
        ARG_CREDS,
        ARG_PLAIN_HTTP,
        ARG_CREDS_FD,
        ARG_AUTHFILE,
        ARG_CHECK_LOGIN,
};

static const struct opt options[] = {
        { ARG_ARCH, 0, "arch", "ARCH", "Alpine architecture (default: the host's)" },
        { ARG_MIRROR, 0, "mirror", "URL",
          "https:// or file:// mirror (default: $ROOST_MIRROR,\nelse " FETCH_DEFAULT_MIRROR ")" },
        { ARG_CACERT, 0, "cacert", "FILE", "trust this CA certificate (PEM) too" },
        { ARG_CREDS, 0, "creds", "USER:PASS",
          "a registry's credentials (default: those auth.json\nor ~/.docker/config.json hold for it)" },
        { ARG_CREDS_FD, 0, "creds-fd", "N", "read USER:PASS from file descriptor N (as --creds,\nbut never in a command line)" },
        { ARG_AUTHFILE, 0, "authfile", "FILE",
          "read credentials from FILE only (default:\n$REGISTRY_AUTH_FILE, else podman's and docker's)" },
        { ARG_CHECK_LOGIN, 0, "check-login", "REGISTRY",
          "pull nothing: check --creds or --creds-fd against\nREGISTRY (roost login runs this)" },
        { ARG_PLAIN_HTTP, 0, "plain-http", NULL,
          "plain HTTP to a registry on a loopback address\n(never with credentials)" },
        { ARG_TRUST, 0, "trust", "KEY.asc",
          "trust signatures by this OpenPGP key too (repeatable;\n$ROOST_TRUST: colon-separated files)" },
        { ARG_ALLOW_UNSIGNED, 0, "allow-unsigned", NULL,
          "accept a release its mirror serves no signature for,\nmarked unsigned ($ROOST_ALLOW_UNSIGNED=1)" },
        { ARG_STORE, 0, "store", "DIR",
          "the store (default: $ROOST_STORE, /var/lib/roost\nfor root, else ~/.local/share/roost)" },
        { ARG_REFRESH, 0, "refresh", NULL, "resolve again even if the reference is stored" },
        { ARG_OFFLINE, 0, "offline", NULL, "never use the network; fail unless stored" },
        { ARG_RETRIES, 0, "retries", "N",
          "retry a failure that may pass N times in a row\n(default: $ROOST_RETRIES, else 5)" },
        { ARG_TIMEOUT, 0, "timeout", "S",
          "give up on a request that made no progress for S\nseconds, retries included (default:\n"
          "$ROOST_RETRY_MAX_TIME, else 300)" },
        { 'q', 'q', "quiet", NULL, "print nothing but warnings (each retry) and errors" },
        { ARG_JSON, 0, "json", NULL, "print the result as one JSON object" },
        { 'h', 'h', "help", NULL, "this text" },
        { ARG_VERSION, 0, "version", NULL, "the version" },
        {},
};

static const struct opts_spec spec = {
        .prog = "pull",
        .usage = "[OPTIONS] IMAGE[:VERSION] [VERSION]  (or REGISTRY/REPOSITORY[:TAG|@sha256:HEX])",
        .about = "Resolve an Alpine minirootfs on a mirror, download it over HTTPS, verify its\n"
                 "SHA-256 against the release index and its OpenPGP signature (FILE.asc, by\n"
                 "Alpine's key or a --trust one) as it streams in, and store it under a\n"
                 "reference; a release with no signature is refused unless --allow-unsigned. VERSION is a branch (3.22: its newest release), a\n"
                 "release (3.22.1), edge or latest-stable (the default). Options may come before\n"
                 "or after the image.\n"
                 "A registry's image (127.0.0.1:5000/team/app:1, docker.io/library/alpine:3.22)\n"
                 "comes over the distribution API v2 (HTTPS), checked against its digests.",
        .opts = options,
        .footer = "Exit status:\n"
                  "  0  pulled, or already stored\n"
                  "  1  any other failure\n"
                  "  2  bad command line, image name, version or architecture\n"
                  "  3  image, version or release not found on the mirror; a file or a file://\n"
                  "     mirror folder that does not exist\n"
                  "  4  network, TLS or HTTP failure (after retries where they may help)\n"
                  "  5  verification failed: checksum, size, signature (bad, or none without\n"
                  "     --allow-unsigned) or a malformed index/checksum file\n"
                  "  6  the store could not be opened or written\n"
                  "\n"
                  "See pull(1) for the environment variables that tune retries and stalls.",
};

/* --creds USER:PASS, which is then blanked in our command line (ps shows
 * it only until here), or --creds-fd N; 0 or the exit code. */
static int creds_option(int id, const char *arg, char **creds)
{
        secret_freep(creds);
        *creds = NULL;
        if (id == ARG_CREDS) {
                if (!(*creds = secret_take_arg((char *)arg))) {
                        cli_error("%s", strerror(ENOMEM));
                        return EXIT_FAIL;
                }
                return 0;
        }
        char *end;
        errno = 0;
        long fd = strtol(arg, &end, 10);
        if (errno || *end || end == arg || fd < 0 || fd > INT_MAX) {
                cli_error("--creds-fd: '%s' is not a file descriptor", arg);
                return EXIT_USAGE;
        }
        int r = secret_read((int)fd, 4096, creds);
        close((int)fd);
        if (r < 0) {
                cli_error("--creds-fd %ld: %s", fd,
                          r == -E2BIG || r == -EINVAL ? "not one line of USER:PASS" : strerror(-r));
                return EXIT_USAGE;
        }
        return 0;
}

/* --check-login REGISTRY: roost login's question to the registry. */
static int login_check(const char *registry, int n_operands, struct fetch_options *o)
{
        _cleanup_free_ char *name = NULL;
        const char *colon = o->creds ? strchr(o->creds, ':') : NULL;
        if (n_operands || !colon || colon == o->creds) {
                cli_error("--check-login: give REGISTRY alone, and USER:PASS with --creds-fd or --creds");
                return EXIT_USAGE;
        }
        if (registry_login_name(registry, &name) < 0) {
                cli_error("'%s' is not a registry (HOST[:PORT])", registry);
                return EXIT_USAGE;
        }
        _cleanup_(secret_freep) char *user = strndup(o->creds, (size_t)(colon - o->creds));
        if (!user) {
                cli_error("%s", strerror(ENOMEM));
                return EXIT_FAIL;
        }
        o->warn = fetch_progress_warn;
        roost_error e = { "" };
        int r = fetch_login_check(name, user, colon + 1, o, &e);
        if (r < 0) {
                cli_error("%s", e.msg[0] ? e.msg : roost_strerror(r));
                return roost_exit_code(r);
        }
        return 0;
}

int main(int argc, char **argv)
{
        store_enable_migration();
        registry_json_wipe_freed(); /* auth.json's and a token's strings are wiped when freed */
        struct fetch_options o = { .retries = -1 };
        _cleanup_free_ const char **trust = calloc((size_t)argc, sizeof(*trust));
        if (!trust) {
                cli_error("%s", strerror(ENOMEM));
                return EXIT_FAIL;
        }
        o.trust = trust;
        const char *store_dir = NULL, *check_login = NULL;
        _cleanup_(secret_freep) char *creds = NULL;
        bool quiet = false, json = false;
        opts_parser p;
        int c, r;
        opts_init(&p, &spec, argc, argv);
        while ((c = opts_next(&p)) != 0) {
                switch (c) {
                case ARG_ARCH:
                        o.arch = p.arg;
                        break;
                case ARG_MIRROR:
                        o.mirror = p.arg;
                        break;
                case ARG_CACERT:
                        o.cacert = p.arg;
                        break;
                case ARG_CREDS:
                case ARG_CREDS_FD:
                        if ((r = creds_option(c, p.arg, &creds)) != 0)
                                return r;
                        o.creds = creds;
                        break;
                case ARG_AUTHFILE:
                        o.authfile = p.arg;
                        break;
                case ARG_CHECK_LOGIN:
                        check_login = p.arg;
                        break;
                case ARG_PLAIN_HTTP:
                        o.plain_http = true;
                        break;
                case ARG_TRUST:
                        trust[o.n_trust++] = p.arg;
                        break;
                case ARG_ALLOW_UNSIGNED:
                        o.allow_unsigned = true;
                        break;
                case ARG_STORE:
                        store_dir = p.arg;
                        break;
                case ARG_REFRESH:
                        o.refresh = true;
                        break;
                case ARG_OFFLINE:
                        o.offline = true;
                        break;
                case ARG_RETRIES:
                        if (fetch_retries_parse(p.arg, &o.retries) < 0) {
                                cli_error("--retries: '%s' is not a number from 0 to 100", p.arg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_TIMEOUT:
                        if (fetch_timeout_parse(p.arg, &o.timeout) < 0) {
                                cli_error("--timeout: '%s' is not a number of seconds (0 < S <= 86400)",
                                          p.arg);
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
        if (check_login)
                return login_check(check_login, p.n_operands, &o);
        char **args = p.operands;
        int n = p.n_operands;
        if (n < 1 || n > 2) {
                cli_error("%s: try 'pull alpine 3.22' or 'pull --help'",
                          n < 1 ? "which image?" : "too many arguments");
                return EXIT_USAGE;
        }
        const char *image = args[0], *version = n > 1 ? args[1] : NULL;
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (version && strchr(image, ':')) {
                cli_error("%s: give the version once, as IMAGE:VERSION or IMAGE VERSION", image);
                return EXIT_USAGE;
        }
        /* A registry's image (docker's rule: a first component with a '.'
         * or a ':', or localhost) is "latest" by default, and its name is
         * the registry's own: docker.io/alpine is docker.io/library/alpine. */
        r = registry_image_name(image, &name, &tag);
        if (r == 0 && !tag && !(tag = strdup(store_ref_name_remote(name) ? "latest" : "latest-stable")))
                r = -ENOMEM;
        if (r < 0) {
                cli_error("'%s%s%s' is not a valid reference", image, version ? " " : "",
                          version ? version : "");
                return EXIT_USAGE;
        }
        if (version) {
                free(tag);
                tag = NULL;
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
                if (r == -EROFS || r == -EACCES)
                        cli_error("the store %s is %s: pulling into it needs to write", store_dir,
                                  r == -EROFS ? "read-only" : "not writable by this user");
                else
                        cli_error("opening the store %s: %s", store_dir, roost_strerror(r));
                return EXIT_STORE;
        }

        struct fetch_progress progress;
        fetch_progress_init(&progress, quiet || json);
        o.progress = fetch_progress_report;
        o.warn = fetch_progress_warn;
        o.userdata = &progress;
        _cleanup_store_ref_ struct store_ref ref = { 0 };
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
                        cli_error("formatting JSON: %s", roost_strerror(r));
                        return EXIT_FAIL;
                }
                printf("%s\n", text);
        } else if (!quiet) {
                char size[32];
                fetch_format_bytes(ref.size, size, sizeof(size));
                printf("reference: %s:%s (%s)\nversion:   %s\nimage:     sha256:%s\nlayer:     sha256:%s\n"
                       "size:      %llu bytes (%s)\nsigned:    %s\n",
                       ref.name, ref.tag, ref.arch, ref.version ? ref.version : "-", ref.digest,
                       ref.n_layers ? ref.layers[0].digest : "-", (unsigned long long)ref.size, size,
                       ref.signer ? ref.signer : ref.verdict ? "no (unsigned)" : "-");
        }
        if (fflush(stdout) != 0) {
                cli_error("writing output: %s", strerror(errno));
                return EXIT_FAIL;
        }
        return 0;
}
