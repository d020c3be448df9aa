/* An image's first use: pull and unpack, run as the sibling tools, so
 * that launch itself links neither libcurl nor libarchive. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/util.h"
#include "launch/image.h"
#include "launch/launch.h"

/* Run the sibling tool NAME (sibling_tool) and return its exit status.
 * Linking libcurl and libarchive instead would cost every launch their
 * loading (docs/launch.md, "Speed"). The command's stdout is the
 * container's alone: what pull and unpack report goes to stderr, as
 * docker's pull does. */
static int run_tool(const char *name, const char *stage, char **argv)
{
        char path[PATH_MAX + 64];
        int r = sibling_tool(name, stage, path, sizeof(path));
        if (r == -ENOENT) {
                cli_error("cannot run %s next to %s: %s", name, path, strerror(ENOENT));
                return LAUNCH_EXIT_ERROR;
        }
        return r < 0 ? r : run_tool_on_stderr(path, argv, LAUNCH_EXIT_ERROR);
}

/* First use of an image: pull (unless it is stored) and unpack it, with
 * their own progress output, then find its tree. Their messages are
 * launch's: the tools name themselves by argv[0]. */
int launch_image_pull(store *s, const char *image, const struct launch_pull_options *o, struct launch_image *ret,
                      roost_error *e)
{
        _cleanup_free_ char *ref = NULL;
        bool stored;
        int r = launch_image_missing(s, image, o->arch, &ref, &stored);
        if (r < 0)
                return roost_error_set(e, r, "image %s", image);
        _cleanup_free_ char **argv = calloc(32 + 2 * o->n_trust, sizeof(*argv));
        size_t n = 0;
        if (!argv)
                return roost_error_set(e, -ENOMEM, "running pull");
        argv[n++] = (char *)"launch";
        if (o->store) {
                argv[n++] = (char *)"--store";
                argv[n++] = (char *)o->store;
        }
        if (o->arch) {
                argv[n++] = (char *)"--arch";
                argv[n++] = (char *)o->arch;
        }
        size_t common = n;
        if (o->mirror) {
                argv[n++] = (char *)"--mirror";
                argv[n++] = (char *)o->mirror;
        }
        /* No pipe of credentials for a pull that will not run. */
        const struct pull_access access = {
                .creds = stored ? NULL : o->creds,
                .authfile = o->authfile,
                .cacert = o->cacert,
                .plain_http = o->plain_http,
        };
        char fdtext[16];
        _cleanup_close_ int creds_fd = -1;
        if ((r = pull_access_args(&access, argv, &n, fdtext, &creds_fd)) < 0)
                return roost_error_set(e, r, "handing --creds to pull");
        for (size_t i = 0; i < o->n_trust; i++) {
                argv[n++] = (char *)"--trust";
                argv[n++] = (char *)o->trust[i];
        }
        if (o->allow_unsigned)
                argv[n++] = (char *)"--allow-unsigned";
        if (o->offline)
                argv[n++] = (char *)"--offline";
        if (o->retries) {
                argv[n++] = (char *)"--retries";
                argv[n++] = (char *)o->retries;
        }
        if (o->timeout) {
                argv[n++] = (char *)"--timeout";
                argv[n++] = (char *)o->timeout;
        }
        if (o->quiet)
                argv[n++] = (char *)"--quiet";
        argv[n++] = ref;
        argv[n] = NULL;
        r = stored ? 0 : run_tool("pull", "fetch", argv);
        /* unpack is not to inherit it. */
        if (creds_fd >= 0)
                close(TAKE_FD(creds_fd));
        if (r != 0)
                return r < 0 ? roost_error_set(e, r, "running pull")
                             : launch_image_pull_failed(s, image, o->arch, o->offline, r, e);
        n = common;
        if (o->quiet)
                argv[n++] = (char *)"--quiet";
        argv[n++] = ref;
        argv[n] = NULL;
        r = run_tool("unpack", "unpack", argv);
        if (r != 0)
                return r < 0 ? roost_error_set(e, r, "running unpack") : -ROOST_EARCHIVE;
        return launch_image_resolve(s, ref, o->arch, ret, e);
}
