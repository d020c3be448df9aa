/* launch: run a command in an image (or a directory tree) in its own
 * namespaces. Parses options, resolves the image, calls launch_run. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/opts.h"
#include "common/util.h"
#include "launch/explain.h"
#include "launch/steps.h"
#include "launch/container.h"
#include "launch/image.h"
#include "launch/launch.h"
#include "launch/report.h"

enum {
        OPT_ROOTFS = 256,
        OPT_STORE,
        OPT_ARCH,
        OPT_HOSTNAME,
        OPT_NET,
        OPT_NAME,
        OPT_READ_ONLY,
        OPT_LAYER_SIZE,
        OPT_CHROOT,
        OPT_PRIVILEGED,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
        OPT_SECCOMP,
        OPT_MEMORY,
        OPT_PIDS,
        OPT_CPUS,
        OPT_VERSION,
        OPT_MIRROR,
        OPT_CACERT,
        OPT_OFFLINE,
        OPT_EXPLAIN,
        OPT_STEP_TIMES,
        OPT_ENV_FILE,
        OPT_ENTRYPOINT,
        OPT_RM,
        OPT_RETRIES,
        OPT_TIMEOUT,
        OPT_TRUST,
        OPT_ALLOW_UNSIGNED,
        OPT_CREDS,
        OPT_AUTHFILE,
        OPT_PLAIN_HTTP,
};

static const struct opt options[] = {
        { OPT_ROOTFS, 0, "rootfs", "DIR",
          "run in DIR instead of an image; repeated, the\ndirectories stacked as layers, the first on top" },
        { OPT_STORE, 0, "store", "DIR",
          "the store (default: $ROOST_STORE, /var/lib/roost\nfor root, else ~/.local/share/roost)" },
        { OPT_ARCH, 0, "arch", "ARCH",
          "image architecture: aarch64, armv7, armhf, x86, x86_64,\n"
          "riscv64, ppc64le, s390x, loongarch64, or an OCI\n"
          "platform (linux/arm64, linux/arm/v7); another than the\n"
          "host's runs through qemu-user-static (default: the\n"
          "host's; for --rootfs, what the tree's /bin/sh is)" },
        { OPT_ARCH, 0, "platform", "OS/ARCH[/VARIANT]", "docker's spelling of --arch" },
        { OPT_MIRROR, 0, "mirror", "URL", "where to pull a missing image from (as pull)" },
        { OPT_CACERT, 0, "cacert", "FILE", "an extra trust anchor for the mirror (as pull)" },
        { OPT_TRUST, 0, "trust", "KEY.asc", "trust this key's release signatures too (as pull)" },
        { OPT_ALLOW_UNSIGNED, 0, "allow-unsigned", NULL, "accept a release with no signature (as pull)" },
        { OPT_CREDS, 0, "creds", "USER:PASS", "a registry's credentials (as pull; passed on by a pipe)" },
        { OPT_AUTHFILE, 0, "authfile", "FILE", "the registry credentials file to read (as pull)" },
        { OPT_PLAIN_HTTP, 0, "plain-http", NULL, "plain HTTP to a loopback registry (as pull)" },
        { OPT_OFFLINE, 0, "offline", NULL, "never download: the image must be in the store" },
        { OPT_RETRIES, 0, "retries", "N", "retry a failed download N times (as pull)" },
        { OPT_TIMEOUT, 0, "timeout", "S", "give up on a silent mirror after S seconds (as pull)" },
        { 'q', 'q', "quiet", NULL, "no progress output while pulling" },
        { OPT_HOSTNAME, 0, "hostname", "NAME", "the container's hostname" },
        { 'e', 'e', "env", "KEY[=VALUE]", "set an environment variable (KEY alone: from ours)" },
        { OPT_ENV_FILE, 0, "env-file", "FILE",
          "KEY=VALUE lines from FILE ('#' comments; KEY\nalone: from ours); -e wins over it" },
        { OPT_ENTRYPOINT, 0, "entrypoint", "CMD",
          "run CMD (one word) instead of the image's entrypoint,\nwith only the arguments after the image ('': none)" },
        { 'w', 'w', "workdir", "DIR",
          "working directory inside (default: the image's, else /;\nmade if missing)" },
        { 'u', 'u', "user", "NAME[:GROUP]",
          "user and group to run as, names or numbers, read\nfrom the image's /etc/passwd and /etc/group (HOME too)" },
        { 'v', 'v', "volume", "HOST:CONTAINER[:ro]", "bind a host path in (repeatable)" },
        { OPT_NET, 0, "net", "none|host", "private network with loopback (default) or the host's" },
        { OPT_NAME, 0, "name", "NAME", "keep the writable layer under NAME for the next launch" },
        { OPT_RM, 0, "rm", NULL, "discard the writable layer on exit (the default)" },
        { OPT_READ_ONLY, 0, "read-only", NULL, "no writable layer at all" },
        { OPT_LAYER_SIZE, 0, "layer-size", "SIZE",
          "bound of the discarded layer, held in memory (default\n1g, or a quarter of RAM if less; k, m, g suffix)" },
        { OPT_CHROOT, 0, "chroot", NULL, "plain chroot, not pivot_root (teaching mode:\nescapable)" },
        { OPT_EXPLAIN, 0, "explain", NULL, "print each step and its system call on stderr" },
        { OPT_STEP_TIMES, 0, "step-times", NULL, "print how long each step inside took, on stderr" },
        { 'i', 'i', "interactive", NULL, "keep stdin open (the default: it is always passed)" },
        { 't', 't', "tty", NULL, "force a pseudo-terminal (default: if stdin is one)" },
        { 'T', 'T', "no-tty", NULL, "refuse a pseudo-terminal" },
        { OPT_PRIVILEGED, 0, "privileged", NULL, "keep every capability; no seccomp, no masked paths" },
        { OPT_CAP_ADD, 0, "cap-add", "CAP", "add a capability (NET_ADMIN, ..., ALL)" },
        { OPT_CAP_DROP, 0, "cap-drop", "CAP", "drop a capability" },
        { OPT_SECCOMP, 0, "seccomp", "unconfined",
          "no seccomp filter (the only value: --seccomp=unconfined)" },
        { OPT_MEMORY, 0, "memory", "SIZE", "memory limit (bytes, or k, m, g suffix)" },
        { OPT_PIDS, 0, "pids", "N", "process limit" },
        { OPT_CPUS, 0, "cpus", "N", "CPU limit (may be fractional)" },
        { 'h', 'h', "help", NULL, "this help" },
        { OPT_VERSION, 0, "version", NULL, "version" },
        {},
};

/* in_order: what follows the image is the command's own, as docker run
 * reads it: "launch alpine ls -l" passes -l to ls. */
static const struct opts_spec spec = {
        .prog = "launch",
        .usage = "[OPTIONS] IMAGE[:TAG] [--] [COMMAND [ARG...]]\n"
                 "[OPTIONS] --rootfs DIR [--rootfs DIR...] [--] [COMMAND [ARG...]]",
        .about = "Run COMMAND (default /bin/sh) in its own namespaces inside IMAGE's tree.\n"
                 "launch's options go before IMAGE; what follows it is the command's, verbatim.\n"
                 "\n"
                 "IMAGE alone (alpine) is the newest image of that name in the store for --arch:\n"
                 "by release version, else the last pulled; only when none is stored is\n"
                 "IMAGE:latest-stable pulled. IMAGE:TAG is the image pulled under TAG (pulled when\n"
                 "missing); an exact release (alpine:3.20.3) matches whatever tag pulled it.",
        .opts = options,
        .footer = "Exit status: the command's (128+N if killed by signal N); 125 launch failed\n"
                  "(a bad option included), 126 the command cannot be run, 127 the command was\n"
                  "not found. See launch(1).",
        .in_order = true,
};

static struct {
        const char **rootfs; /* --rootfs, in order: the top layer first */
        size_t n_rootfs;
        const char *store, *arch, *hostname, *name, *cwd, *mirror, *cacert;
        const char *entrypoint, *user; /* as given; NULL: the image's */
        const char *retries, *timeout; /* handed to pull as typed: it checks them */
        const char *authfile;
        char *creds; /* a copy: the password is blanked in our command line */
        bool plain_http;
        const char **trust;            /* --trust, handed to pull */
        size_t n_trust;
        bool offline, quiet, allow_unsigned;
        bool explain;
        char **env;
        size_t n_env;
        struct launch_volume *volumes;
        size_t n_volumes;
        enum launch_net net;
        bool read_only, chroot_only;
        int tty; /* -1 auto */
        struct sandbox_config sandbox;
        struct cgroup_limits limits;
        uint64_t layer_size; /* 0: launch's default */
} arg = { .net = LAUNCH_NET_NONE, .tty = -1 };

static int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
        char *end;
        if (!*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int add_user_env(const char *s)
{
        return launch_env_add(&arg.env, &arg.n_env, s);
}

static int parse_cap(const char *s, uint64_t *mask, bool *all)
{
        int cap;
        int r = sandbox_parse_cap(s, &cap);
        if (r < 0)
                return r;
        if (cap < 0)
                *all = true;
        else if (cap < 64)
                *mask |= UINT64_C(1) << cap;
        else
                return -EINVAL;
        return 0;
}

static void notice(const char *msg)
{
        if (!arg.quiet)
                cli_warn("%s", msg);
}

/* Notes given once per store; a store that cannot remember (read-only)
 * gives them each time. */
static store *note_store;
static bool note_once(const char *name)
{
        return store_note_once(note_store, name) != 0;
}

/* IMAGE is not stored for the host without --arch. Stored for one other
 * architecture, that one runs, saying so, as docker runs the image it has
 * whatever its platform; -ROOST_ENOTFOUND (for a pull) when none is. */
static int other_arch_image(store *s, const char *image, struct launch_image *ret, roost_error *e)
{
        int r = launch_image_other_arch(s, image, &arg.arch, e);
        if (r < 0)
                return r;
        if (!arg.arch)
                return -ROOST_ENOTFOUND;
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "%s is stored for %s, not for this host's %s: running that one (launch --arch %s %s pulls "
                 "the host's)",
                 image, arg.arch, host_alpine_arch(), host_alpine_arch(), image);
        notice(msg);
        return launch_image_resolve(s, image, arg.arch, ret, e);
}

/* Returns the number of operands (the image and the command, left in
 * *ret), or -exit code - 1. */
static int parse_args(int argc, char **argv, char ***ret)
{
        char *user_env[256];
        const char *env_files[64];
        size_t n_user_env = 0, n_env_files = 0;
        int c, r;
        bool cap_add_all = false, rm = false;
        opts_parser p;

        opts_init(&p, &spec, argc, argv);
        while ((c = opts_next(&p)) != 0) {
                switch (c) {
                case OPT_ROOTFS: {
                        const char **nr = realloc(arg.rootfs, (arg.n_rootfs + 1) * sizeof(*nr));
                        if (!nr)
                                return -LAUNCH_EXIT_ERROR - 1;
                        arg.rootfs = nr;
                        nr[arg.n_rootfs++] = p.arg;
                        break;
                }
                case OPT_STORE:
                        arg.store = p.arg;
                        break;
                case OPT_ARCH:
                        /* Passed on to pull and unpack in Alpine's name. */
                        if (!(arg.arch = alpine_arch_from(p.arg))) {
                                cli_error("--arch '%s': not an architecture Alpine builds for (aarch64, "
                                          "armv7, armhf, x86, x86_64, riscv64, ppc64le, s390x, loongarch64) "
                                          "nor its OCI platform (linux/arm64, linux/arm/v7, linux/386, ...)",
                                          p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_MIRROR:
                        arg.mirror = p.arg;
                        break;
                case OPT_CACERT:
                        arg.cacert = p.arg;
                        break;
                case OPT_CREDS:
                        secret_freep(&arg.creds);
                        if (!(arg.creds = secret_take_arg((char *)p.arg)))
                                return -LAUNCH_EXIT_ERROR - 1;
                        break;
                case OPT_AUTHFILE:
                        arg.authfile = p.arg;
                        break;
                case OPT_PLAIN_HTTP:
                        arg.plain_http = true;
                        break;
                case OPT_TRUST: {
                        const char **t = realloc(arg.trust, (arg.n_trust + 1) * sizeof(*t));
                        if (!t)
                                return -LAUNCH_EXIT_ERROR - 1;
                        t[arg.n_trust++] = p.arg;
                        arg.trust = t;
                        break;
                }
                case OPT_ALLOW_UNSIGNED:
                        arg.allow_unsigned = true;
                        break;
                case OPT_OFFLINE:
                        arg.offline = true;
                        break;
                case OPT_RETRIES:
                        arg.retries = p.arg;
                        break;
                case OPT_TIMEOUT:
                        arg.timeout = p.arg;
                        break;
                case OPT_EXPLAIN:
                        arg.explain = true;
                        break;
                case OPT_STEP_TIMES:
                        launch_step_times = true;
                        break;
                case 'q':
                        arg.quiet = true;
                        break;
                case OPT_HOSTNAME:
                        if (!*p.arg || strlen(p.arg) > 64 || strchr(p.arg, '/') || strchr(p.arg, '\n')) {
                                cli_error("--hostname '%s': 1 to 64 characters, no '/'", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.hostname = p.arg;
                        break;
                case 'e':
                        if (n_user_env >= ELEMENTSOF(user_env)) {
                                cli_error("-e: too many variables");
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        user_env[n_user_env++] = (char *)p.arg;
                        break;
                case OPT_ENV_FILE:
                        if (n_env_files >= ELEMENTSOF(env_files)) {
                                cli_error("--env-file: too many files");
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        env_files[n_env_files++] = p.arg;
                        break;
                case 'w':
                        if (p.arg[0] != '/') {
                                cli_error("-w '%s': the working directory must be absolute", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.cwd = p.arg;
                        break;
                case 'u': {
                        /* Checked now, before anything is done; parsed
                         * again once the image's User is known. */
                        roost_error e;
                        struct launch_user u;
                        if (launch_user_parse(p.arg, &u, &e) < 0) {
                                cli_error("%s", e.msg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.user = p.arg;
                        break;
                }
                case OPT_ENTRYPOINT:
                        arg.entrypoint = p.arg;
                        break;
                case 'v': {
                        roost_error e;
                        struct launch_volume *nv = realloc(arg.volumes, (arg.n_volumes + 1) * sizeof(*nv));
                        if (!nv)
                                return -LAUNCH_EXIT_ERROR - 1;
                        arg.volumes = nv;
                        if (launch_volume_parse(p.arg, &nv[arg.n_volumes], &e) < 0) {
                                cli_error("%s", e.msg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.n_volumes++;
                        break;
                }
                case OPT_NET:
                        if (strcmp(p.arg, "none") == 0)
                                arg.net = LAUNCH_NET_NONE;
                        else if (strcmp(p.arg, "host") == 0)
                                arg.net = LAUNCH_NET_HOST;
                        else {
                                cli_error("--net '%s': expected none or host", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_NAME:
                        if (!store_ref_name_valid(p.arg)) {
                                cli_error("--name '%s': lowercase letters, digits, '.', '_' and '-', at most "
                                          "128",
                                          p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.name = p.arg;
                        break;
                case OPT_RM:
                        rm = true;
                        break;
                case OPT_READ_ONLY:
                        arg.read_only = true;
                        break;
                case OPT_LAYER_SIZE:
                        if (launch_layer_size_parse(p.arg, &arg.layer_size) < 0) {
                                cli_error("--layer-size '%s': expected at least 1m, such as 512m or 2g",
                                          p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_CHROOT:
                        arg.chroot_only = true;
                        break;
                case 'i':
                        /* docker's -i: standard input is always passed on. */
                        break;
                case 't':
                        arg.tty = 1;
                        break;
                case 'T':
                        arg.tty = 0;
                        break;
                case OPT_PRIVILEGED:
                        arg.sandbox.privileged = true;
                        break;
                case OPT_CAP_ADD:
                case OPT_CAP_DROP:
                        r = c == OPT_CAP_ADD
                                    ? parse_cap(p.arg, &arg.sandbox.cap_add, &cap_add_all)
                                    : parse_cap(p.arg, &arg.sandbox.cap_drop, &arg.sandbox.cap_drop_all);
                        if (r < 0) {
                                cli_error("%s '%s': unknown capability",
                                          c == OPT_CAP_ADD ? "--cap-add" : "--cap-drop", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        if (cap_add_all)
                                arg.sandbox.cap_add = ~UINT64_C(0);
                        break;
                case OPT_SECCOMP:
                        if (strcmp(p.arg, "unconfined") != 0) {
                                cli_error("--seccomp '%s': only 'unconfined' is supported", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.sandbox.seccomp_unconfined = true;
                        break;
                case OPT_MEMORY:
                        if (cgroup_parse_size(p.arg, &arg.limits.memory) < 0 || arg.limits.memory == 0) {
                                cli_error("--memory '%s': expected a size such as 512m or 2g", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_PIDS: {
                        unsigned long long v;
                        if (parse_uint(p.arg, UINT32_MAX, &v) < 0 || v == 0) {
                                cli_error("--pids '%s': expected a positive number", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.limits.pids = v;
                        break;
                }
                case OPT_CPUS: {
                        double v;
                        if (cgroup_parse_cpus(p.arg, &v) < 0 || v <= 0) {
                                cli_error("--cpus '%s': expected a positive number such as 0.5", p.arg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.limits.cpus = v;
                        break;
                }
                case 'h':
                        opts_help(&spec);
                        return -0 - 1;
                case OPT_VERSION:
                        cli_version();
                        return -0 - 1;
                default:
                        return -LAUNCH_EXIT_ERROR - 1;
                }
        }
        if (arg.read_only && arg.name) {
                cli_error("--read-only and --name exclude each other: a read-only container keeps no layer");
                return -LAUNCH_EXIT_ERROR - 1;
        }
        if (rm && arg.name) {
                cli_error("--rm and --name exclude each other: --name keeps the layer, --rm (the default) "
                          "discards it");
                return -LAUNCH_EXIT_ERROR - 1;
        }

        /* The user's part of the command's environment: the --env-files,
         * then -e in order: the last word wins, as in docker. It goes over
         * the image's Env and launch's defaults (launch_command_resolve).
         * HOME, unless given, is the user's in the image's /etc/passwd,
         * added in the container (launch/user.c). */
        for (size_t i = 0; i < n_env_files; i++) {
                roost_error e;
                if (launch_env_file_read(env_files[i], &arg.env, &arg.n_env, &e) < 0) {
                        cli_error("%s", e.msg);
                        return -LAUNCH_EXIT_ERROR - 1;
                }
        }
        for (size_t i = 0; i < n_user_env; i++)
                if ((r = add_user_env(user_env[i])) < 0) {
                        cli_error("-e '%s': expected KEY=VALUE or KEY", user_env[i]);
                        return -LAUNCH_EXIT_ERROR - 1;
                }
        *ret = p.operands;
        return p.n_operands;
}

int main(int argc, char **argv)
{
        /* A --rootfs tree has no config: it runs as one whose Cmd is
         * /bin/sh, as an Alpine image's config says. */
        static char *default_cmd[] = { (char *)"/bin/sh", NULL };
        struct launch_image_config image_config = { .cmd = default_cmd };
        struct launch_image img = { 0 };
        struct launch_command cmd = { 0 };
        struct launch_user user = { 0 };
        _cleanup_free_ char *store_root = NULL, *scratch = NULL;
        struct launch_container named = { .lock = -1 };
        roost_error e = { "" };
        store *s = NULL;
        int r, status = LAUNCH_EXIT_ERROR;

        char **operands;
        int n = parse_args(argc, argv, &operands), i = 0;
        if (n < 0)
                return -n - 1;
        if (arg.explain && (r = explain_start(STDERR_FILENO)) < 0) {
                cli_error("--explain: copying stderr: %s", strerror(-r));
                return LAUNCH_EXIT_ERROR;
        }
        const char *image = NULL;
        if (!arg.rootfs) {
                if (i >= n) {
                        cli_error("no image given (launch IMAGE [COMMAND...], or --rootfs DIR; see launch "
                                  "--help)");
                        return LAUNCH_EXIT_ERROR;
                }
                image = operands[i++];
        }
        if (i < n && strcmp(operands[i], "--") == 0)
                i++;
        /* The operands are NULL-terminated, as argv is. */
        char **args = operands + i;

        if ((r = store_default_root(arg.store, &store_root)) < 0) {
                cli_error("finding the store: %s", roost_strerror(r));
                return LAUNCH_EXIT_ERROR;
        }
        if ((r = store_open(store_root, STORE_READ, &s)) < 0) {
                cli_error("opening the store %s: %s", store_root, roost_strerror(r));
                return LAUNCH_EXIT_ERROR;
        }
        note_store = s;
        if (image) {
                r = launch_image_resolve(s, image, arg.arch, &img, &e);
                if (r == -ROOST_ENOTFOUND && !arg.arch && host_alpine_arch())
                        r = other_arch_image(s, image, &img, &e);
                if (r == -ROOST_ENOTFOUND) {
                        e.msg[0] = 0;
                        const struct launch_pull_options po = {
                                .store = arg.store,
                                .arch = arg.arch,
                                .mirror = arg.mirror,
                                .cacert = arg.cacert,
                                .creds = arg.creds,
                                .authfile = arg.authfile,
                                .plain_http = arg.plain_http,
                                .retries = arg.retries,
                                .timeout = arg.timeout,
                                .trust = arg.trust,
                                .n_trust = arg.n_trust,
                                .offline = arg.offline,
                                .quiet = arg.quiet,
                                .allow_unsigned = arg.allow_unsigned,
                        };
                        r = launch_image_pull(s, image, &po, &img, &e);
                }
                /* The container may run for days: launch keeps no password
                 * past the pull (docs/pull.md, Credentials in memory). */
                secret_freep(&arg.creds);
                if (r < 0) {
                        /* pull or unpack said why already, on their own line;
                         * E is what to do about it */
                        if (e.msg[0])
                                cli_error("%s", e.msg);
                        goto out;
                }
                image_config = (struct launch_image_config){
                        .env = img.config.env,
                        .entrypoint = img.config.entrypoint,
                        .cmd = img.config.cmd,
                        .workdir = img.config.workdir,
                        .user = img.config.user,
                };
        }

        bool tty = arg.tty >= 0 ? arg.tty : isatty(STDIN_FILENO);
        if (tty && !isatty(STDIN_FILENO)) {
                cli_error("--tty: standard input is not a terminal");
                goto out;
        }
        const char *hostname = arg.hostname ? arg.hostname : arg.name ? arg.name : "roost";
        const char *term = getenv("TERM");
        const struct launch_command_options co = {
                .args = args,
                .entrypoint = arg.entrypoint,
                .env = arg.env,
                .workdir = arg.cwd,
                .user = arg.user,
                .hostname = hostname,
                .term = tty && !getenv("ROOST_NO_TERM") ? term : NULL,
        };
        if (launch_command_resolve(&image_config, &co, &cmd, &e) < 0 ||
            (cmd.user && launch_user_parse(cmd.user, &user, &e) < 0)) {
                cli_error("%s", e.msg);
                goto out;
        }

        const char *const *lowers = image ? (const char *const *)img.lowers : arg.rootfs;
        size_t n_lowers = image ? img.n_lowers : arg.n_rootfs;
        if ((r = store_path(s, "tmp", &scratch)) < 0) {
                cli_error("the store's tmp/: %s", roost_strerror(r));
                goto out;
        }
        if (arg.name && launch_container_open(s, arg.name, lowers, n_lowers, image ? &img : NULL, &named, &e) < 0) {
                cli_error("%s", e.msg);
                goto out;
        }

        struct launch_config c = {
                .lowers = lowers,
                .n_lowers = n_lowers,
                /* An image's is its platform's; a --rootfs tree's is
                 * --arch, else found in the tree. */
                .arch = image ? img.arch : arg.arch,
                .argv = cmd.argv,
                .env = cmd.env,
                .cwd = cmd.cwd,
                .user = user,
                .hostname = hostname,
                .name = arg.name,
                .volumes = arg.volumes,
                .n_volumes = arg.n_volumes,
                .net = arg.net,
                .overlay = arg.read_only ? LAUNCH_OVERLAY_READ_ONLY
                           : arg.name    ? LAUNCH_OVERLAY_NAMED
                                         : LAUNCH_OVERLAY_DISCARD,
                .chroot_only = arg.chroot_only,
                .tty = tty,
                .sandbox = arg.sandbox,
                .limits = arg.limits,
                .layer_size = arg.layer_size,
                .scratch = scratch,
                .upper = named.upper,
                .work = named.work,
                .notice = notice,
                .note_once = note_once,
        };
        if (arg.sandbox.seccomp_unconfined && !arg.sandbox.privileged)
                cli_warn("warning: --seccomp=unconfined: the container runs with no seccomp filter; "
                         "every system call its capabilities allow is open to it");
        if (explaining())
                for (size_t k = 0; k < n_lowers; k++)
                        explain_line("launch %s: lower %zu of %zu%s: %s", image ? image : "--rootfs", k + 1,
                                     n_lowers, k == 0 ? " (top)" : "", lowers[k]);
        EXPLAIN("launch %s: the command %s%s", image ? image : "--rootfs", cmd.argv[0],
                tty ? ", with a pseudo-terminal" : "");
        fflush(stdout);
        /* The tree is marked in use; holding the store lock for the
         * container's whole life would only make gc wait for it. */
        (void)store_unlock(s);
        if (launch_run(&c, &status, &e) < 0)
                cli_error("%s", e.msg);
        else
                store_keep(s);
out:
        launch_command_done(&cmd);
        launch_container_done(&named);
        launch_image_done(&img);
        store_close(s);
        for (size_t k = 0; k < arg.n_volumes; k++)
                launch_volume_done(&arg.volumes[k]);
        free(arg.volumes);
        free(arg.rootfs);
        for (size_t k = 0; k < arg.n_env; k++)
                free(arg.env[k]);
        free(arg.env);
        return status;
}
