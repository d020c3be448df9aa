/* roost login and logout: a registry's credentials in podman's auth.json.
 * The front asks for the password and writes the file; the pull tool
 * checks the credentials against the registry (the front links no
 * libcurl), reading them from a pipe, never from its command line. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "common/util.h"
#include "fetch/registry.h"
#include "front/roost-cli.h"

#define SECRET_MAX 4096

enum {
        OPT_USERNAME = 'u',
        OPT_PASSWORD_STDIN = 700,
        OPT_AUTHFILE,
        OPT_CACERT,
        OPT_PLAIN_HTTP,
        OPT_GET_LOGIN,
        OPT_ALL,
};

/* The terminal as it was, for a ^C while the password is typed unseen. */
static struct termios saved;
static int tty_fd = -1;

static void restore_tty(int sig)
{
        tcsetattr(tty_fd, TCSAFLUSH, &saved);
        signal(sig, SIG_DFL);
        raise(sig);
}

/* Ask on the terminal (standard input; the question on standard error,
 * standard output being the answer's): a line, echoed or not. */
static int prompt(const char *question, bool echo, char **ret)
{
        const int fd = STDIN_FILENO;
        struct termios t;
        bool off = !echo && tcgetattr(fd, &saved) == 0;
        if (off) {
                tty_fd = fd;
                signal(SIGINT, restore_tty);
                signal(SIGTERM, restore_tty);
                t = saved;
                t.c_lflag &= ~(tcflag_t)ECHO;
                t.c_lflag |= ECHONL;
                tcsetattr(fd, TCSAFLUSH, &t);
        }
        (void)!write(STDERR_FILENO, question, strlen(question));
        char buf[SECRET_MAX + 2];
        size_t n = 0;
        int r = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0 || buf[n] == '\n')
                        break;
                if (++n > SECRET_MAX) {
                        r = -E2BIG;
                        break;
                }
        }
        if (off) {
                tcsetattr(fd, TCSAFLUSH, &saved);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
        }
        buf[n] = 0;
        if (r == 0 && !(*ret = strdup(buf)))
                r = -ENOMEM;
        explicit_bzero(buf, sizeof(buf));
        return r;
}

/* Ask the pull tool whether REGISTRY takes USER and PASS: its exit status. */
static int check(const char *registry, const char *user, const char *pass, const char *cacert,
                 bool plain_http, bool quiet)
{
        char path[PATH_MAX + 64], fdtext[16];
        int r = sibling_tool("pull", "fetch", path, sizeof(path));
        if (r < 0) {
                cli_error("cannot find the pull tool next to %s", path);
                return EXIT_FAIL;
        }
        _cleanup_(secret_freep) char *creds = secret_concat(user, ":", pass);
        if (!creds)
                return EXIT_FAIL;
        char *argv[14];
        size_t n = 0;
        /* Its messages then read "login: ...". */
        argv[n++] = (char *)"login";
        argv[n++] = (char *)"--check-login";
        argv[n++] = (char *)registry;
        const struct pull_access access = { .creds = creds, .cacert = cacert, .plain_http = plain_http };
        int fd;
        if ((r = pull_access_args(&access, argv, &n, fdtext, &fd)) < 0) {
                cli_error("handing the credentials to pull: %s", strerror(-r));
                return EXIT_FAIL;
        }
        /* Someone waits at the terminal: a registry that is down is said
         * within seconds (1 + 2), not pull's half a minute. */
        argv[n++] = (char *)"--retries";
        argv[n++] = (char *)"2";
        if (quiet)
                argv[n++] = (char *)"--quiet";
        argv[n] = NULL;
        r = run_tool_on_stderr(path, argv, EXIT_FAIL);
        close(fd);
        return r < 0 ? EXIT_FAIL : r;
}

static int auth_file(const char *given, char **ret)
{
        int r = given ? ((*ret = strdup(given)) ? 0 : -ENOMEM) : registry_auth_file(ret);
        if (r < 0)
                cli_error("finding auth.json: %s", strerror(-r));
        return r;
}

static int get_login(const char *authfile, const char *registry)
{
        _cleanup_(secret_freep) char *user = NULL, *pass = NULL;
        int r = registry_creds_lookup(authfile, registry, &user, &pass);
        if (r == -ENOENT || r == -ENOTDIR) {
                cli_error("login: not logged in to %s", registry);
                return EXIT_NOTFOUND;
        }
        if (r < 0) {
                cli_error("login: reading the credentials for %s: %s", registry, roost_strerror(r));
                return EXIT_FAIL;
        }
        printf("%s\n", user);
        return 0;
}

int cmd_login(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { OPT_USERNAME, 'u', "username", "USER", "the user name (default: asked on the terminal)" },
                { OPT_PASSWORD_STDIN, 0, "password-stdin", NULL,
                  "read the password from standard input (default:\nasked on the terminal, unseen)" },
                { OPT_AUTHFILE, 0, "authfile", "FILE",
                  "the credentials file (default: $REGISTRY_AUTH_FILE,\nelse "
                  "$XDG_RUNTIME_DIR/containers/auth.json, else\n/run/containers/UID/auth.json)" },
                { OPT_CACERT, 0, "cacert", "FILE", "trust this CA certificate (PEM) too" },
                { OPT_PLAIN_HTTP, 0, "plain-http", NULL,
                  "plain HTTP to a registry on a loopback address\n(which then may ask for no credentials)" },
                { OPT_GET_LOGIN, 0, "get-login", NULL, "print the user name logged in to REGISTRY" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost login",
                .usage = "[OPTIONS] REGISTRY",
                .about = "Check a user name and password against REGISTRY (HOST[:PORT]) and keep them\n"
                         "in auth.json, as podman login does (mode 0600); pull, launch and build then\n"
                         "use them.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = "Exit status: 0 logged in, 1 other failure (auth.json not written), 2 usage,\n"
                          "3 --get-login: not logged in, 4 the registry refused the credentials or\n"
                          "could not be reached. See roost(1).",
        };
        struct roost_args a = *args;
        const char *username = NULL, *authfile = NULL, *cacert = NULL;
        bool from_stdin = false, plain_http = false, get = false;
        opts_parser p;
        int id, r;
        registry_json_wipe_freed(); /* auth.json's strings are wiped when freed */
        opts_init(&p, &spec, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case OPT_USERNAME:
                        username = p.arg;
                        break;
                case OPT_PASSWORD_STDIN:
                        from_stdin = true;
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
                case OPT_GET_LOGIN:
                        get = true;
                        break;
                case ROOST_OPT_HELP:
                        opts_help(&spec);
                        return 0;
                default:
                        if ((r = roost_global_opt(&a, id, p.arg)))
                                return r;
                }
        }
        _cleanup_free_ char *name = NULL, *file = NULL;
        if (p.n_operands != 1) {
                cli_error("login: expected REGISTRY, e.g. roost login registry.example:5000");
                return EXIT_USAGE;
        }
        if ((r = registry_login_name(p.operands[0], &name)) < 0) {
                cli_error("login: '%s' is not a registry (HOST[:PORT])", p.operands[0]);
                return r == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
        }
        if (get)
                return get_login(authfile, name);
        /* A file login could not add to is said before anything is asked. */
        if (auth_file(authfile, &file) < 0)
                return EXIT_FAIL;
        if ((r = registry_creds_file_check(file)) < 0) {
                cli_error("login: %s %s", file,
                          r == -ROOST_EFORMAT ? "is not a JSON object: fix or remove it" : roost_strerror(r));
                return EXIT_FAIL;
        }
        _cleanup_(secret_freep) char *user = NULL, *pass = NULL;
        /* As docker and podman: the terminal is standard input's, and with
         * none the password must come from --password-stdin. */
        if (!from_stdin && !isatty(STDIN_FILENO)) {
                cli_error("login: standard input is not a terminal to ask for the password on: give "
                          "--password-stdin");
                return EXIT_USAGE;
        }
        if (username)
                user = strdup(username);
        else if (from_stdin) {
                cli_error("login: --password-stdin needs --username");
                return EXIT_USAGE;
        } else if ((r = prompt("Username: ", true, &user)) < 0)
                return EXIT_FAIL;
        r = from_stdin ? secret_read(STDIN_FILENO, SECRET_MAX, &pass) : prompt("Password: ", false, &pass);
        if (r < 0 || !user) {
                cli_error("login: reading the password: %s", r == -E2BIG    ? "longer than 4096 bytes"
                                                             : r == -EINVAL ? "more than one line of text"
                                                                            : strerror(r < 0 ? -r : ENOMEM));
                return r == -E2BIG || r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
        }
        if (!*user || strchr(user, ':') || !*pass) {
                cli_error("login: %s",
                          !*pass ? "an empty password" : "a user name is not empty and holds no ':'");
                return EXIT_USAGE;
        }
        if ((r = check(name, user, pass, cacert, plain_http, a.quiet)) != 0)
                return r;
        if ((r = registry_creds_store(file, name, user, pass)) < 0) {
                cli_error("login: writing %s: %s", file, roost_strerror(r));
                return EXIT_FAIL;
        }
        if (!a.quiet)
                printf("Login Succeeded!\n");
        return 0;
}

int cmd_logout(struct roost_args *args, int argc, char **argv)
{
        static const struct opt opts[] = {
                { OPT_ALL, 'a', "all", NULL, "remove every registry's credentials" },
                { OPT_AUTHFILE, 0, "authfile", "FILE", "the credentials file (default: as roost login)" },
                ROOST_OPT_HELP_ENTRY,
                {},
        };
        static const struct opts_spec spec = {
                .prog = "roost logout",
                .usage = "[OPTIONS] REGISTRY\n--all",
                .about = "Remove REGISTRY's credentials from auth.json (the file roost login writes),\n"
                         "keeping everything else it holds.",
                .opts = opts,
                .globals = roost_global_opts,
                .footer = "Exit status: 0 removed, 1 other failure, 2 usage, 3 not logged in. See roost(1).",
        };
        struct roost_args a = *args;
        const char *authfile = NULL;
        bool all = false;
        opts_parser p;
        int id, r;
        registry_json_wipe_freed(); /* auth.json's strings are wiped when freed */
        opts_init(&p, &spec, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case OPT_ALL:
                        all = true;
                        break;
                case OPT_AUTHFILE:
                        authfile = p.arg;
                        break;
                case ROOST_OPT_HELP:
                        opts_help(&spec);
                        return 0;
                default:
                        if ((r = roost_global_opt(&a, id, p.arg)))
                                return r;
                }
        }
        _cleanup_free_ char *name = NULL, *file = NULL;
        if (p.n_operands != !all) {
                cli_error("logout: expected REGISTRY or --all");
                return EXIT_USAGE;
        }
        if (!all && (r = registry_login_name(p.operands[0], &name)) < 0) {
                cli_error("logout: '%s' is not a registry (HOST[:PORT])", p.operands[0]);
                return r == -ENOMEM ? EXIT_FAIL : EXIT_USAGE;
        }
        if (auth_file(authfile, &file) < 0)
                return EXIT_FAIL;
        r = all ? registry_creds_remove_all(file) : registry_creds_remove(file, name);
        if (r == -ENOENT || r == -ENOTDIR) {
                if (all)
                        return 0; /* nothing to remove is what --all wants */
                _cleanup_free_ char *docker = NULL;
                _cleanup_(secret_freep) char *u = NULL, *pw = NULL;
                bool theirs = !authfile && registry_docker_file(&docker) == 0 &&
                              registry_creds_lookup(docker, name, &u, &pw) == 0;
                cli_error("logout: not logged in to %s in %s%s", name, file,
                          theirs ? " (docker's config.json holds credentials for it: docker logout removes "
                                   "them)"
                                 : "");
                return EXIT_NOTFOUND;
        }
        if (r < 0) {
                cli_error("logout: writing %s: %s", file, roost_strerror(r));
                return EXIT_FAIL;
        }
        if (!a.quiet)
                printf("Removed login credentials for %s\n", all ? "all registries" : name);
        return 0;
}
