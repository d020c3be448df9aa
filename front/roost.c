/* roost: the front. pull, unpack, launch and push are their own binaries and are
 * exec'd, so the front never links a tool's main; the store commands
 * (images, rm, gc, verify, export, import, commit, containers, tag,
 * inspect, build, login, logout) are its own, on top of the store library,
 * launch's cgroup sweep (gc), libarchive (export, import), commit/ and
 * fetch's credentials files (login, logout: pull checks them with the
 * registry), none of which knows of the others. */
#include "config.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "front/roost-cli.h"

static const struct {
        const char *command, *stage;
} tools[] = {
        { "pull", "fetch" },
        { "unpack", "unpack" },
        { "launch", "launch" },
        { "push", "push" },
};

static const struct {
        const char *command;
        int (*run)(struct roost_args *a, int argc, char **argv);
} commands[] = {
        { "images", cmd_images }, { "rm", cmd_rm },         { "gc", cmd_gc },
        { "verify", cmd_verify }, { "export", cmd_export }, { "import", cmd_import },
        { "commit", cmd_commit }, { "containers", cmd_containers }, { "tag", cmd_tag },
        { "inspect", cmd_inspect }, { "build", cmd_build }, { "login", cmd_login },
        { "logout", cmd_logout },
};

static const struct opt front_opts[] = {
        ROOST_OPT_HELP_ENTRY,
        { ROOST_OPT_VERSION, 0, "version", NULL, "the version" },
        {},
};

static const struct opts_spec front = {
        .prog = "roost",
        .usage = "[GLOBAL OPTIONS] COMMAND [ARGS...]",
        .about = "Fetch, unpack and launch root filesystems.\n"
                 "\n"
                 "Commands (each has its own --help):\n"
                 "  pull IMAGE[:VERSION]      download and verify an image into the store\n"
                 "  unpack IMAGE[:VERSION]    extract a stored image\n"
                 "  launch IMAGE [CMD...]     run a command inside an image\n"
                 "  push IMAGE REGISTRY/REPO  send a stored image to a registry, digests unchanged\n"
                 "  images [--json|-q]        list stored images\n"
                 "  rm [--prune] IMAGE...     remove references (--prune: and what they held)\n"
                 "  rm --container NAME...    remove named containers' layers (launch --name)\n"
                 "  gc                        remove what no reference needs\n"
                 "  verify [IMAGE...]         hash stored archives again, check unpacked trees\n"
                 "  export IMAGE FILE|DIR|-   write an image as an OCI archive, a rootfs tarball\n"
                 "                            or a runtime bundle (--format)\n"
                 "  import FILE|DIR|- [NAME]  store an OCI layout or archive, a docker-archive or\n"
                 "                            a rootfs tarball, every blob verified\n"
                 "  commit CONTAINER IMAGE    make an image of a named container's layer\n"
                 "  build -t IMAGE DIR        build an image from DIR/Dockerfile\n"
                 "  containers [--json]       list named containers (launch --name)\n"
                 "  tag IMAGE NEW[:TAG]       give an image another name\n"
                 "  inspect IMAGE...          an image's config, layers and provenance as JSON\n"
                 "  login REGISTRY            check and keep a registry's credentials (auth.json)\n"
                 "  logout REGISTRY|--all     remove them\n"
                 "\n"
                 "Options may come before or after operands; \"--\" ends them. For launch, what\n"
                 "follows the image is the command's.",
        .opts = front_opts,
        .globals = roost_global_opts,
        .footer = "The global options go to pull, unpack, launch and push in front of their own.\n"
                  "See roost(1) for the exit codes and the store's layout.",
        .in_order = true,
};

/* Become the sibling tool NAME (sibling_tool); returns only on failure,
 * having said why. */
static void exec_tool(const char *name, const char *stage, char **argv)
{
        char path[PATH_MAX + 64];
        int r = sibling_tool(name, stage, path, sizeof(path));
        if (r == -ENOENT) {
                cli_error("cannot run %s next to %s: %s", name, path, strerror(ENOENT));
                return;
        }
        if (r < 0) {
                cli_error("cannot find my own binary: %s", strerror(-r));
                return;
        }
        argv[0] = (char *)name;
        execv(path, argv);
        cli_error("cannot run %s: %s", path, strerror(errno));
}

/* The tool's command line: roost's global options in front of the tool's
 * own arguments, where every tool reads them (launch's must precede the
 * image). */
static char **tool_argv(const struct roost_args *g, int argc, char **argv)
{
        char **v = calloc((size_t)argc + 6, sizeof(*v));
        int n = 0;
        if (!v)
                return NULL;
        v[n++] = argv[0];
        if (g->store) {
                v[n++] = (char *)"--store";
                v[n++] = (char *)g->store;
        }
        if (g->arch) {
                v[n++] = (char *)"--arch";
                v[n++] = (char *)g->arch;
        }
        if (g->quiet)
                v[n++] = (char *)"--quiet";
        for (int i = 1; i < argc; i++)
                v[n++] = argv[i];
        return v;
}

int main(int argc, char **argv)
{
        store_enable_migration();
        if (argc < 2) {
                opts_help(&front);
                return EXIT_USAGE;
        }
        struct roost_args g = { 0 };
        opts_parser p;
        int id, r;
        opts_init(&p, &front, argc, argv);
        while ((id = opts_next(&p)) != 0) {
                switch (id) {
                case -1:
                        return EXIT_USAGE;
                case ROOST_OPT_HELP:
                        opts_help(&front);
                        return 0;
                case ROOST_OPT_VERSION:
                        cli_version();
                        return 0;
                default:
                        if ((r = roost_global_opt(&g, id, p.arg)))
                                return r;
                }
        }
        if (!p.n_operands) {
                cli_error("which command? try 'roost --help'");
                return EXIT_USAGE;
        }
        const char *cmd = p.operands[0];
        if (!strcmp(cmd, "help")) {
                opts_help(&front);
                return 0;
        }
        for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
                if (!strcmp(cmd, tools[i].command)) {
                        char **v = tool_argv(&g, p.n_operands, p.operands);
                        if (v)
                                exec_tool(tools[i].command, tools[i].stage, v);
                        free(v);
                        return EXIT_FAIL;
                }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(cmd, commands[i].command))
                        return commands[i].run(&g, p.n_operands, p.operands);
        cli_error("unknown command '%s'; try 'roost --help'", cmd);
        return EXIT_USAGE;
}
