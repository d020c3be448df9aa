/* launch: run a command in an image (or a directory tree) in its own
 * namespaces. Parses options, resolves the image, calls launch_run. */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/util.h"
#include "launch/explain.h"
#include "launch/steps.h"
#include "launch/image.h"
#include "launch/launch.h"

static const char usage[] =
        "Usage: launch [OPTIONS] IMAGE[:TAG] [--] [COMMAND [ARG...]]\n"
        "       launch [OPTIONS] --rootfs DIR [--] [COMMAND [ARG...]]\n"
        "Run COMMAND (default /bin/sh) in its own namespaces inside IMAGE's tree.\n"
        "\n"
        "      --rootfs DIR        run in DIR instead of an image\n"
        "      --store DIR         the store (default: ROOST_STORE, /var/lib/roost)\n"
        "      --arch ARCH         image architecture (default: the host's)\n"
        "      --mirror URL        where to pull a missing image from (as pull)\n"
        "      --cacert FILE       an extra trust anchor for the mirror (as pull)\n"
        "      --offline           never download: the image must be in the store\n"
        "      --retries N         retry a failed download N times (as pull)\n"
        "      --timeout S         give up on a silent mirror after S seconds (as pull)\n"
        "  -q, --quiet             no progress output while pulling\n"
        "      --hostname NAME     the container's hostname\n"
        "  -e, --env KEY[=VALUE]   set an environment variable (KEY alone: from ours)\n"
        "  -w, --workdir DIR       working directory inside (default /)\n"
        "  -u, --user UID[:GID]    numeric user and group to run as\n"
        "  -v, --volume HOST:CONTAINER[:ro]  bind a host path in (repeatable)\n"
        "      --net none|host     private network with loopback (default) or the host's\n"
        "      --name NAME         keep the writable layer under NAME for the next launch\n"
        "      --read-only         no writable layer at all\n"
        "      --chroot            plain chroot instead of pivot_root (teaching mode: escapable)\n"
        "      --explain           print each step and its system call on stderr as it happens\n"
        "      --step-times        print how long each step inside took, on stderr before the command\n"
        "  -t, --tty / -T, --no-tty  force or refuse a pseudo-terminal (default: if stdin is one)\n"
        "      --privileged        keep every capability, no seccomp filter, no masked paths\n"
        "      --cap-add CAP       add a capability (NET_ADMIN, ..., ALL)\n"
        "      --cap-drop CAP      drop a capability\n"
        "      --seccomp=unconfined  no seccomp filter\n"
        "      --memory SIZE       memory limit (bytes, or k, m, g suffix)\n"
        "      --pids N            process limit\n"
        "      --cpus N            CPU limit (may be fractional)\n"
        "  -h, --help              this help\n"
        "      --version           version\n"
        "\n"
        "Exit status: the command's (128+N if killed by signal N); 125 launch failed,\n"
        "126 the command cannot be run, 127 the command was not found.\n";

enum {
        OPT_ROOTFS = 256,
        OPT_STORE,
        OPT_ARCH,
        OPT_HOSTNAME,
        OPT_NET,
        OPT_NAME,
        OPT_READ_ONLY,
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
        OPT_RETRIES,
        OPT_TIMEOUT,
};

static const struct option options[] = {
        { "rootfs", required_argument, NULL, OPT_ROOTFS },
        { "store", required_argument, NULL, OPT_STORE },
        { "arch", required_argument, NULL, OPT_ARCH },
        { "mirror", required_argument, NULL, OPT_MIRROR },
        { "cacert", required_argument, NULL, OPT_CACERT },
        { "offline", no_argument, NULL, OPT_OFFLINE },
        { "retries", required_argument, NULL, OPT_RETRIES },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "quiet", no_argument, NULL, 'q' },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "env", required_argument, NULL, 'e' },
        { "workdir", required_argument, NULL, 'w' },
        { "user", required_argument, NULL, 'u' },
        { "volume", required_argument, NULL, 'v' },
        { "net", required_argument, NULL, OPT_NET },
        { "name", required_argument, NULL, OPT_NAME },
        { "read-only", no_argument, NULL, OPT_READ_ONLY },
        { "chroot", no_argument, NULL, OPT_CHROOT },
        { "explain", no_argument, NULL, OPT_EXPLAIN },
        { "step-times", no_argument, NULL, OPT_STEP_TIMES },
        { "tty", no_argument, NULL, 't' },
        { "no-tty", no_argument, NULL, 'T' },
        { "privileged", no_argument, NULL, OPT_PRIVILEGED },
        { "cap-add", required_argument, NULL, OPT_CAP_ADD },
        { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
        { "seccomp", required_argument, NULL, OPT_SECCOMP },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "pids", required_argument, NULL, OPT_PIDS },
        { "cpus", required_argument, NULL, OPT_CPUS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        {},
};

static struct {
        const char *rootfs, *store, *arch, *hostname, *name, *cwd, *mirror, *cacert;
        const char *retries, *timeout; /* handed to pull as typed: it checks them */
        bool offline, quiet;
        bool explain;
        char **env;
        size_t n_env;
        struct launch_volume *volumes;
        size_t n_volumes;
        uid_t uid;
        gid_t gid;
        enum launch_net net;
        bool read_only, chroot_only;
        int tty; /* -1 auto */
        struct sandbox_config sandbox;
        struct cgroup_limits limits;
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

static int parse_user(const char *s)
{
        unsigned long long u, g;
        char buf[64];
        /* Cut short, "000...0005" would read as 0: root. */
        if ((size_t)snprintf(buf, sizeof(buf), "%s", s) >= sizeof(buf))
                return -EINVAL;
        char *colon = strchr(buf, ':');
        if (colon)
                *colon = 0;
        if (parse_uint(buf, UINT32_MAX - 1, &u) < 0)
                return -EINVAL;
        g = u;
        if (colon && parse_uint(colon + 1, UINT32_MAX - 1, &g) < 0)
                return -EINVAL;
        arg.uid = (uid_t)u;
        arg.gid = (gid_t)g;
        return 0;
}

static bool env_key_valid(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '=' || s[i] == 0)
                        return false;
        return true;
}

static int env_set(char ***env, size_t *n, const char *kv)
{
        size_t klen = strcspn(kv, "=");
        for (size_t i = 0; i < *n; i++)
                if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free((*env)[i]);
                        (*env)[i] = d;
                        return 0;
                }
        char **ne = realloc(*env, (*n + 2) * sizeof(char *));
        if (!ne)
                return -ENOMEM;
        *env = ne;
        if (!(ne[*n] = strdup(kv)))
                return -ENOMEM;
        ne[++*n] = NULL;
        return 0;
}

static int add_user_env(const char *s)
{
        const char *eq = strchr(s, '=');
        if (!env_key_valid(s, eq ? (size_t)(eq - s) : strlen(s)))
                return -EINVAL;
        if (eq)
                return env_set(&arg.env, &arg.n_env, s);
        /* -e KEY: docker passes our value on, or nothing when unset. */
        const char *v = getenv(s);
        if (!v)
                return 0;
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", s, v) < 0)
                return -ENOMEM;
        return env_set(&arg.env, &arg.n_env, kv);
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

/* Run the sibling tool NAME (installed next to us, or in its stage's folder
 * of a build tree) and return its exit status. PATH is not searched, as in
 * roost: an unrelated "pull" must never run in our place. Linking libcurl
 * and libarchive instead would cost every launch their loading (8 ms here,
 * more than a whole launch: docs/launch.md). */
static int run_tool(const char *name, const char *stage, char **argv)
{
        char self[PATH_MAX], path[PATH_MAX + 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                return -errno;
        self[n] = 0;
        *strrchr(self, '/') = 0;
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* The command's stdout is the container's alone: what pull
                 * and unpack report goes to stderr, as docker's pull does. */
                if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                        _exit(LAUNCH_EXIT_ERROR);
                snprintf(path, sizeof(path), "%s/%s", self, name);
                execv(path, argv);
                snprintf(path, sizeof(path), "%s/../%s/%s", self, stage, name);
                execv(path, argv);
                cli_error("cannot run %s next to %s: %s", name, self, strerror(errno));
                _exit(LAUNCH_EXIT_ERROR);
        }
        int ws;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* First use of an image: pull and unpack it, with their own progress
 * output and messages, then find its tree. */
static int pull_image(store *s, const char *image, char **ret_tree, int *ret_use_fd, roost_error *e)
{
        char *argv[24];
        size_t n = 0;
        argv[n++] = (char *)"pull";
        if (arg.store) {
                argv[n++] = (char *)"--store";
                argv[n++] = (char *)arg.store;
        }
        if (arg.arch) {
                argv[n++] = (char *)"--arch";
                argv[n++] = (char *)arg.arch;
        }
        size_t common = n;
        if (arg.mirror) {
                argv[n++] = (char *)"--mirror";
                argv[n++] = (char *)arg.mirror;
        }
        if (arg.cacert) {
                argv[n++] = (char *)"--cacert";
                argv[n++] = (char *)arg.cacert;
        }
        if (arg.offline)
                argv[n++] = (char *)"--offline";
        if (arg.retries) {
                argv[n++] = (char *)"--retries";
                argv[n++] = (char *)arg.retries;
        }
        if (arg.timeout) {
                argv[n++] = (char *)"--timeout";
                argv[n++] = (char *)arg.timeout;
        }
        if (arg.quiet)
                argv[n++] = (char *)"--quiet";
        argv[n++] = (char *)image;
        argv[n] = NULL;
        int r = run_tool("pull", "fetch", argv);
        if (r != 0)
                return r < 0 ? roost_error_set(e, r, "running pull") : -ROOST_ENOTFOUND;
        n = common;
        argv[0] = (char *)"unpack";
        if (arg.quiet)
                argv[n++] = (char *)"--quiet";
        argv[n++] = (char *)image;
        argv[n] = NULL;
        r = run_tool("unpack", "unpack", argv);
        if (r != 0)
                return r < 0 ? roost_error_set(e, r, "running unpack") : -ROOST_EARCHIVE;
        return launch_image_resolve(s, image, arg.arch, ret_tree, ret_use_fd, e);
}

static void notice(const char *msg)
{
        if (!arg.quiet)
                cli_warn("%s", msg);
}

/* Returns the index of the first non-option argument, or -exit code - 1. */
static int parse_args(int argc, char **argv)
{
        char *user_env[256];
        size_t n_user_env = 0;
        int c, r;
        bool cap_add_all = false;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+e:w:u:v:tTqh", options, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOTFS:
                        arg.rootfs = optarg;
                        break;
                case OPT_STORE:
                        arg.store = optarg;
                        break;
                case OPT_ARCH:
                        if (!store_arch_valid(optarg)) {
                                cli_error("--arch '%s': not a valid architecture name", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.arch = optarg;
                        break;
                case OPT_MIRROR:
                        arg.mirror = optarg;
                        break;
                case OPT_CACERT:
                        arg.cacert = optarg;
                        break;
                case OPT_OFFLINE:
                        arg.offline = true;
                        break;
                case OPT_RETRIES:
                        arg.retries = optarg;
                        break;
                case OPT_TIMEOUT:
                        arg.timeout = optarg;
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
                        if (!*optarg || strlen(optarg) > 64 || strchr(optarg, '/') || strchr(optarg, '\n')) {
                                cli_error("--hostname '%s': 1 to 64 characters, no '/'", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.hostname = optarg;
                        break;
                case 'e':
                        if (n_user_env >= ELEMENTSOF(user_env)) {
                                cli_error("-e: too many variables");
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        user_env[n_user_env++] = optarg;
                        break;
                case 'w':
                        if (optarg[0] != '/') {
                                cli_error("-w '%s': the working directory must be absolute", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.cwd = optarg;
                        break;
                case 'u':
                        if (parse_user(optarg) < 0) {
                                cli_error("-u '%s': expected UID[:GID], numeric", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case 'v': {
                        roost_error e;
                        struct launch_volume *nv = realloc(arg.volumes, (arg.n_volumes + 1) * sizeof(*nv));
                        if (!nv)
                                return -LAUNCH_EXIT_ERROR - 1;
                        arg.volumes = nv;
                        if (launch_volume_parse(optarg, &nv[arg.n_volumes], &e) < 0) {
                                cli_error("%s", e.msg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.n_volumes++;
                        break;
                }
                case OPT_NET:
                        if (strcmp(optarg, "none") == 0)
                                arg.net = LAUNCH_NET_NONE;
                        else if (strcmp(optarg, "host") == 0)
                                arg.net = LAUNCH_NET_HOST;
                        else {
                                cli_error("--net '%s': expected none or host", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_NAME:
                        if (!store_ref_name_valid(optarg)) {
                                cli_error("--name '%s': lowercase letters, digits, '.', '_' and '-', at most "
                                          "128",
                                          optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.name = optarg;
                        break;
                case OPT_READ_ONLY:
                        arg.read_only = true;
                        break;
                case OPT_CHROOT:
                        arg.chroot_only = true;
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
                                    ? parse_cap(optarg, &arg.sandbox.cap_add, &cap_add_all)
                                    : parse_cap(optarg, &arg.sandbox.cap_drop, &arg.sandbox.cap_drop_all);
                        if (r < 0) {
                                cli_error("%s '%s': unknown capability",
                                          c == OPT_CAP_ADD ? "--cap-add" : "--cap-drop", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        if (cap_add_all)
                                arg.sandbox.cap_add = ~UINT64_C(0);
                        break;
                case OPT_SECCOMP:
                        if (strcmp(optarg, "unconfined") != 0) {
                                cli_error("--seccomp '%s': only 'unconfined' is supported", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.sandbox.seccomp_unconfined = true;
                        break;
                case OPT_MEMORY:
                        if (cgroup_parse_size(optarg, &arg.limits.memory) < 0 || arg.limits.memory == 0) {
                                cli_error("--memory '%s': expected a size such as 512m or 2g", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        break;
                case OPT_PIDS: {
                        unsigned long long v;
                        if (parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0) {
                                cli_error("--pids '%s': expected a positive number", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.limits.pids = v;
                        break;
                }
                case OPT_CPUS: {
                        double v;
                        if (cgroup_parse_cpus(optarg, &v) < 0 || v <= 0) {
                                cli_error("--cpus '%s': expected a positive number such as 0.5", optarg);
                                return -LAUNCH_EXIT_ERROR - 1;
                        }
                        arg.limits.cpus = v;
                        break;
                }
                case 'h':
                        fputs(usage, stdout);
                        return -0 - 1;
                case OPT_VERSION:
                        cli_version();
                        return -0 - 1;
                default:
                        if (optopt && optopt < 256)
                                cli_error("unknown or incomplete option '-%c' (see launch --help)", optopt);
                        else
                                cli_error("unknown or incomplete option '%s' (see launch --help)",
                                          argv[optind - 1]);
                        return -LAUNCH_EXIT_ERROR - 1;
                }
        }
        if (arg.read_only && arg.name) {
                cli_error("--read-only and --name exclude each other: a read-only container keeps no layer");
                return -LAUNCH_EXIT_ERROR - 1;
        }

        /* The command's environment: docker's defaults, then -e in order. */
        const char *defaults[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                arg.uid == 0 ? "HOME=/root" : "HOME=/",
                "container=roost",
        };
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                if (env_set(&arg.env, &arg.n_env, defaults[i]) < 0)
                        return -LAUNCH_EXIT_ERROR - 1;
        for (size_t i = 0; i < n_user_env; i++)
                if ((r = add_user_env(user_env[i])) < 0) {
                        cli_error("-e '%s': expected KEY=VALUE or KEY", user_env[i]);
                        return -LAUNCH_EXIT_ERROR - 1;
                }
        return optind;
}

int main(int argc, char **argv)
{
        static char *default_cmd[] = { (char *)"/bin/sh", NULL };
        _cleanup_free_ char *store_root = NULL, *tree = NULL, *hostenv = NULL, *termenv = NULL;
        _cleanup_close_ int tree_use = -1;
        roost_error e = { "" };
        store *s = NULL;
        int r, status = LAUNCH_EXIT_ERROR;

        int i = parse_args(argc, argv);
        if (i < 0)
                return -i - 1;
        if (arg.explain && (r = explain_start(STDERR_FILENO)) < 0) {
                cli_error("--explain: copying stderr: %s", strerror(-r));
                return LAUNCH_EXIT_ERROR;
        }
        const char *image = NULL;
        if (!arg.rootfs) {
                if (i >= argc) {
                        cli_error("no image given (launch IMAGE [COMMAND...], or --rootfs DIR; see launch "
                                  "--help)");
                        return LAUNCH_EXIT_ERROR;
                }
                image = argv[i++];
        }
        if (i < argc && strcmp(argv[i], "--") == 0)
                i++;
        char **cmd = i < argc ? argv + i : default_cmd;
        if (!cmd[0][0]) {
                cli_error("the command is empty");
                return LAUNCH_EXIT_ERROR;
        }

        if ((r = store_default_root(arg.store, &store_root)) < 0) {
                cli_error("finding the store: %s", roost_strerror(r));
                return LAUNCH_EXIT_ERROR;
        }
        if ((r = store_open(store_root, 0, &s)) < 0) {
                cli_error("opening the store %s: %s", store_root, roost_strerror(r));
                return LAUNCH_EXIT_ERROR;
        }
        if (image) {
                r = launch_image_resolve(s, image, arg.arch, &tree, &tree_use, &e);
                if (r == -ROOST_ENOTFOUND) {
                        e.msg[0] = 0;
                        r = pull_image(s, image, &tree, &tree_use, &e);
                }
                if (r < 0) {
                        /* pull or unpack said why already, on their own line */
                        if (e.msg[0])
                                cli_error("%s", e.msg);
                        goto out;
                }
        }

        bool tty = arg.tty >= 0 ? arg.tty : isatty(STDIN_FILENO);
        if (tty && !isatty(STDIN_FILENO)) {
                cli_error("--tty: standard input is not a terminal");
                goto out;
        }
        const char *hostname = arg.hostname ? arg.hostname : arg.name ? arg.name : "roost";
        if (asprintf(&hostenv, "HOSTNAME=%s", hostname) < 0 || env_set(&arg.env, &arg.n_env, hostenv) < 0)
                goto out;
        const char *term = getenv("TERM");
        if (tty && term && asprintf(&termenv, "TERM=%s", term) >= 0 && !getenv("ROOST_NO_TERM"))
                env_set(&arg.env, &arg.n_env, termenv);

        struct launch_config c = {
                .rootfs = tree ? tree : arg.rootfs,
                .argv = cmd,
                .env = arg.env,
                .cwd = arg.cwd,
                .uid = arg.uid,
                .gid = arg.gid,
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
                .store = s,
                .notice = notice,
        };
        if (arg.sandbox.seccomp_unconfined && !arg.sandbox.privileged)
                cli_warn("warning: --seccomp=unconfined: the container runs with no seccomp filter; "
                         "every system call its capabilities allow is open to it");
        EXPLAIN("launch %s: the tree %s, the command %s%s", image ? image : "--rootfs", c.rootfs, cmd[0],
                tty ? ", with a pseudo-terminal" : "");
        fflush(stdout);
        /* The tree is marked in use; holding the store lock for the
         * container's whole life would only make gc wait for it. */
        (void)store_unlock(s);
        if (launch_run(&c, &status, &e) < 0)
                cli_error("%s", e.msg);
out:
        store_close(s);
        for (size_t k = 0; k < arg.n_volumes; k++)
                launch_volume_done(&arg.volumes[k]);
        free(arg.volumes);
        for (size_t k = 0; k < arg.n_env; k++)
                free(arg.env[k]);
        free(arg.env);
        return status;
}
