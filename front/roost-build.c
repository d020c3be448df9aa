/* roost build: a Dockerfile's image, step by step (commit/build.c). The
 * front reads the command line and the files, finds the sibling launch
 * and pull tools, and reports each step. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "commit/commit.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "front/roost-cli.h"
#include "unpack/unpack.h"

enum {
        OPT_TAG = 't',
        OPT_FILE = 'f',
        OPT_BUILD_ARG = 600,
        OPT_NO_CACHE,
        OPT_NETWORK,
        OPT_CREDS,
        OPT_AUTHFILE,
        OPT_CACERT,
        OPT_PLAIN_HTTP,
};

struct build_ctx {
        store *s;
        const struct roost_args *a;
        json_t *steps;       /* --json */
        bool quiet;
        /* FROM's pull: passed on, the credentials by a pipe */
        const char *creds, *authfile, *cacert;
        bool plain_http;
};

static void on_step(void *userdata, const struct build_step_report *r)
{
        struct build_ctx *c = userdata;
        if (c->steps)
                json_array_append_new(c->steps, json_pack("{s:I, s:s, s:b}", "step", (json_int_t)r->index + 1,
                                                          "instruction", r->text, "cached", r->cached));
        if (c->quiet)
                return;
        printf("STEP %zu/%zu: %s%s\n", r->index + 1, r->total, r->cached ? "CACHED " : "", r->text);
        fflush(stdout);
}

/* FROM an image not stored: pull it, as launch does on first use. */
static int on_pull(void *userdata, const char *image, roost_error *e)
{
        struct build_ctx *c = userdata;
        char path[PATH_MAX + 64];
        char *argv[20], fdtext[16];
        size_t n = 0;
        if (sibling_tool("pull", "fetch", path, sizeof(path)) < 0)
                return roost_error_set(e, 0, "FROM %s: cannot find the pull tool next to %s", image, path),
                       -ENOENT;
        argv[n++] = (char *)"pull";
        argv[n++] = (char *)"--store";
        argv[n++] = (char *)store_root(c->s);
        if (c->a->arch) {
                argv[n++] = (char *)"--arch";
                argv[n++] = (char *)c->a->arch;
        }
        if (c->quiet)
                argv[n++] = (char *)"--quiet";
        const struct pull_access access = {
                .creds = c->creds, .authfile = c->authfile, .cacert = c->cacert, .plain_http = c->plain_http
        };
        _cleanup_close_ int creds_fd = -1;
        int k = pull_access_args(&access, argv, &n, fdtext, &creds_fd);
        if (k < 0)
                return roost_error_set(e, k, "FROM %s: handing --creds to pull", image);
        argv[n++] = (char *)image;
        argv[n] = NULL;
        /* Its output on stderr: ours may be --json's or -q's. */
        int r = run_tool_on_stderr(path, argv, 127);
        if (r != 0)
                return roost_error_set(e, 0, "FROM %s: pull failed (exit %d)", image, r),
                       r == EXIT_NOTFOUND  ? -ROOST_ENOTFOUND
                       : r == EXIT_NETWORK ? -ROOST_ENETWORK
                                           : -ROOST_EFORMAT;
        return 0;
}

static void unpack_warn(void *userdata, const char *msg)
{
        (void)userdata;
        cli_warn("build: unpacking a layer: %s", msg);
}

static int on_unpack(void *userdata, const char *layer, roost_error *e)
{
        struct build_ctx *c = userdata;
        struct unpack_options uo = { .warn = unpack_warn };
        int r = unpack_image(c->s, layer, &uo, e);
        return r < 0 ? r : 0;
}

int cmd_build(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { OPT_TAG, 't', "tag", "IMAGE[:TAG]", "the name of the image built (required)" },
                { OPT_FILE, 'f', "file", "FILE", "the Dockerfile (default: DIR/Dockerfile)" },
                { OPT_BUILD_ARG, 0, "build-arg", "K=V", "a value for ARG K (repeatable; K alone: ours)" },
                { OPT_NO_CACHE, 0, "no-cache", NULL, "run every step, reusing no cached one" },
                { OPT_NETWORK, 0, "network", "none|host",
                  "RUN's network (default: host's, as docker build)" },
                { OPT_CREDS, 0, "creds", "USER:PASS", "FROM a registry with these credentials (as pull)" },
                { OPT_AUTHFILE, 0, "authfile", "FILE", "FROM: the registry credentials file (as pull)" },
                { OPT_CACERT, 0, "cacert", "FILE", "FROM: trust this CA certificate too (as pull)" },
                { OPT_PLAIN_HTTP, 0, "plain-http", NULL, "FROM a loopback registry over HTTP (as pull)" },
                { ROOST_OPT_JSON, 0, "json", NULL, "the image and each step, as JSON" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost build",
                .usage = "[OPTIONS] -t IMAGE[:TAG] DIR",
                .about = "Build an image from a Dockerfile: FROM, RUN, COPY, ENV, ARG, WORKDIR, USER,\n"
                         "CMD, ENTRYPOINT, LABEL (anything else is refused, naming its line). RUN runs\n"
                         "through launch; RUN and COPY make a layer each. Each step is cached by its\n"
                         "parent and instruction; .dockerignore in DIR leaves files out of COPY.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = "Exit status: 0 done, 2 usage (a refused instruction), 3 no such image or\n"
                          "file, 6 the store; a RUN that fails: its status. See roost(1).",
        };
        struct roost_args a = *args;
        _cleanup_free_ char **bargs = calloc((size_t)argc + 1, sizeof(char *));
        size_t n_bargs = 0;
        const char *tagarg = NULL, *file = NULL, *authfile = NULL, *cacert = NULL;
        _cleanup_(secret_freep) char *creds = NULL;
        bool no_cache = false, net_none = false, plain_http = false;
        opts_parser p;
        int id, r;
        if (!bargs)
                return EXIT_FAIL;
        opts_init(&p, &spec, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case OPT_TAG:
                        tagarg = p.arg;
                        break;
                case OPT_FILE:
                        file = p.arg;
                        break;
                case OPT_BUILD_ARG:
                        bargs[n_bargs++] = (char *)p.arg;
                        break;
                case OPT_NO_CACHE:
                        no_cache = true;
                        break;
                case OPT_NETWORK:
                        if (strcmp(p.arg, "none") && strcmp(p.arg, "host")) {
                                cli_error("build: --network is none or host, not '%s'", p.arg);
                                return EXIT_USAGE;
                        }
                        net_none = !strcmp(p.arg, "none");
                        break;
                case OPT_CREDS:
                        secret_freep(&creds);
                        if (!(creds = secret_take_arg((char *)p.arg)))
                                return EXIT_FAIL;
                        break;
                case OPT_AUTHFILE:
                        authfile = p.arg;
                        break;
                case OPT_CACERT:
                        cacert = p.arg;
                        break;
                case OPT_PLAIN_HTTP:
                        plain_http = true;
                        break;
                case ROOST_OPT_JSON:
                        a.json = true;
                        break;
                case ROOST_OPT_HELP:
                        opts_help(&spec);
                        return 0;
                default:
                        if ((r = roost_global_opt(&a, id, p.arg)))
                                return r;
                }
        }
        if (p.n_operands != 1 || !tagarg) {
                cli_error("build: expected -t IMAGE[:TAG] DIR, e.g. roost build -t app:1 .");
                return EXIT_USAGE;
        }
        _cleanup_free_ char *name = NULL, *tag = NULL;
        if (store_ref_parse(tagarg, "latest", &name, &tag) < 0) {
                cli_error("build: '%s' is not a valid IMAGE[:TAG]", tagarg);
                return EXIT_USAGE;
        }
        /* --build-arg K takes K's value from our environment, as docker. */
        _cleanup_free_ char **owned = calloc(n_bargs + 1, sizeof(char *));
        if (!owned)
                return EXIT_FAIL;
        for (size_t i = 0; i < n_bargs; i++) {
                if (strchr(bargs[i], '='))
                        continue;
                const char *v = getenv(bargs[i]);
                if (!v)
                        continue; /* unset: the ARG keeps its default */
                if (asprintf(&owned[i], "%s=%s", bargs[i], v) < 0)
                        return EXIT_FAIL;
                bargs[i] = owned[i];
        }
        const char *dir = p.operands[0];
        _cleanup_close_ int ctxfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ctxfd < 0) {
                cli_error("build: the context %s: %s", dir, strerror(errno));
                return errno == ENOENT ? EXIT_NOTFOUND : EXIT_FAIL;
        }
        _cleanup_free_ char *text = NULL, *ignore = NULL;
        size_t len;
        r = file ? read_file_at(AT_FDCWD, file, 1 << 20, &text, &len)
                 : read_file_at(ctxfd, "Dockerfile", 1 << 20, &text, &len);
        if (r < 0) {
                cli_error("build: reading %s%s: %s", file ? file : dir, file ? "" : "/Dockerfile",
                          roost_strerror(r));
                for (size_t i = 0; i < n_bargs; i++)
                        free(owned[i]);
                return r == -ENOENT ? EXIT_NOTFOUND : EXIT_FAIL;
        }
        r = read_file_at(ctxfd, ".dockerignore", 1 << 20, &ignore, &len);
        if (r < 0 && r != -ENOENT) {
                cli_error("build: reading %s/.dockerignore: %s", dir, roost_strerror(r));
                return EXIT_FAIL;
        }
        roost_error e = { "" };
        struct dockerfile df = { 0 };
        if ((r = dockerfile_parse(text, &df, &e)) < 0) {
                cli_error("build: %s: %s", file ? file : "Dockerfile", e.msg);
                return roost_exit_code(r);
        }
        /* As docker says of a --build-arg no ARG declares. */
        for (size_t i = 0; i < n_bargs; i++) {
                size_t klen = strcspn(bargs[i], "=");
                bool used = false;
                for (size_t j = 0; !used && j < df.n; j++)
                        used = df.steps[j].kind == DF_ARG && !strncmp(df.steps[j].args, bargs[i], klen) &&
                               (df.steps[j].args[klen] == '=' || !df.steps[j].args[klen]);
                if (!used)
                        cli_warn("build: --build-arg %.*s: no ARG %.*s in the Dockerfile; ignored", (int)klen,
                                 bargs[i], (int)klen, bargs[i]);
        }
        /* A rootless build would need COPY's files owned by the user
         * namespace's ids and each layer written from a namespace mapped as
         * launch's (as roost commit does): not yet. */
        if (geteuid() != 0) {
                cli_error("build: roost build runs as root for now (a rootless build is not supported yet)");
                dockerfile_done(&df);
                return EXIT_FAIL;
        }

        struct build_ctx c = { .a = &a,
                               .quiet = a.quiet || a.json,
                               .creds = creds,
                               .authfile = authfile,
                               .cacert = cacert,
                               .plain_http = plain_http };
        char launch[PATH_MAX + 64];
        if ((r = sibling_tool("launch", "launch", launch, sizeof(launch))) < 0) {
                if (r == -ENOENT)
                        cli_error("build: cannot find the launch tool next to %s", launch);
                else
                        cli_error("build: cannot find my own binary: %s", strerror(-r));
                dockerfile_done(&df);
                return EXIT_FAIL;
        }
        if ((r = roost_open_store(&a, 0, &c.s))) {
                dockerfile_done(&df);
                return r;
        }
        if (a.json)
                c.steps = json_array();
        struct build_options o = {
                .ctxfd = ctxfd,
                .dockerignore = ignore,
                .build_args = bargs,
                .n_build_args = n_bargs,
                .no_cache = no_cache,
                .net_none = net_none,
                .arch = a.arch,
                .launch = launch,
                .store_root = store_root(c.s),
                /* -q and --json keep stdout for the answer. */
                .out_fd = c.quiet ? STDERR_FILENO : STDOUT_FILENO,
                .total = df.n,
                .step = on_step,
                .pull = on_pull,
                .unpack = on_unpack,
                .userdata = &c,
        };
        char digest[STORE_SHA256_HEX + 1];
        r = build_run(c.s, &df, &o, name, tag, digest, &e);
        dockerfile_done(&df);
        for (size_t i = 0; i < n_bargs; i++)
                free(owned[i]);
        int ret = 0;
        if (r != 0) {
                cli_error("build: %s", e.msg);
                ret = r > 0 ? r : roost_exit_code(r);
        } else if (a.json) {
                json_t *j = json_pack("{s:s+, s:s+, s:o}", "id", "sha256:", digest, "reference", name, "",
                                      "steps", c.steps);
                c.steps = NULL;
                if (j) {
                        json_object_set_new(j, "reference", json_sprintf("%s:%s", name, tag));
                        char *out = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        if (out)
                                printf("%s\n", out);
                        free(out);
                }
                json_decref(j);
        } else if (a.quiet)
                printf("sha256:%s\n", digest);
        else
                printf("%s:%s sha256:%s\n", name, tag, digest);
        json_decref(c.steps);
        store_close(c.s);
        return ret;
}
