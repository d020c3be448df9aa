/* roost: the front. pull, unpack and launch are their own binaries and are
 * exec'd, so the front never links a tool's main; the store commands
 * (images, rm, gc, verify, export, import) live here because they are the
 * store library's own CLI. */
#include "config.h"
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/error.h"
#include "store/roost-cli.h"

static const struct {
        const char *command, *stage;
} tools[] = {
        { "pull", "fetch" },
        { "unpack", "unpack" },
        { "launch", "launch" },
};

static const struct {
        const char *command;
        int (*run)(int argc, char **argv);
} commands[] = {
        { "images", cmd_images }, { "rm", cmd_rm },         { "gc", cmd_gc },
        { "verify", cmd_verify }, { "export", cmd_export }, { "import", cmd_import },
};

static void help(void)
{
        printf("Usage: roost COMMAND [ARGS...]\n"
               "\n"
               "Fetch, unpack and launch root filesystems.\n"
               "\n"
               "Commands:\n"
               "  pull IMAGE[:VERSION]      download and verify an image into the store\n"
               "  unpack IMAGE[:VERSION]    extract a stored image\n"
               "  launch IMAGE [CMD...]     run a command inside an image\n"
               "  images [--json|-q]        list stored images\n"
               "  rm [--prune] IMAGE...     remove references (--prune: and what they held)\n"
               "  rm --container NAME...    remove named containers' layers (launch --name)\n"
               "  gc                        remove what no reference needs\n"
               "  verify [IMAGE...]         hash stored archives again, check unpacked trees\n"
               "  export IMAGE FILE|-       write an image to one self-verifying file\n"
               "  import FILE|-             verify and store an exported image\n"
               "\n"
               "  -h, --help                this text\n"
               "  --version                 the version\n"
               "\n"
               "See roost(1) for the exit codes and the store's layout.\n");
}

/* The sibling binary, installed next to us or, in a build tree, in its
 * stage's folder. PATH is not searched: an unrelated program called "pull"
 * must never run in roost's place. */
static void exec_tool(const char *name, const char *stage, char **argv)
{
        char self[PATH_MAX], path[PATH_MAX + 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
                cli_error("cannot find my own binary: %s", strerror(errno));
                return;
        }
        self[n] = 0;
        const char *dir = dirname(self);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        argv[0] = (char *)name;
        execv(path, argv);
        snprintf(path, sizeof(path), "%s/../%s/%s", dir, stage, name);
        execv(path, argv);
        cli_error("cannot run %s next to %s: %s", name, dir, strerror(errno));
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                help();
                return EXIT_USAGE;
        }
        const char *cmd = argv[1];
        if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
                help();
                return 0;
        }
        if (!strcmp(cmd, "--version")) {
                cli_version();
                return 0;
        }
        for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
                if (!strcmp(cmd, tools[i].command)) {
                        exec_tool(tools[i].command, tools[i].stage, argv + 1);
                        return EXIT_FAIL;
                }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (!strcmp(cmd, commands[i].command))
                        return commands[i].run(argc - 1, argv + 1);
        cli_error("unknown command '%s'; try 'roost --help'", cmd);
        return EXIT_USAGE;
}
