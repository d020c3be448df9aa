/* What runs in the container, from the image's config and launch's command
 * line, with docker's precedence (docs/launch.md). Pure: no system call,
 * so that the unit tests hold every case (tests/unit/test-launch-config.c). */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "launch/launch.h"
#include "launch/report.h"

int launch_env_set(char ***env, size_t *n, const char *kv)
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

static size_t count(char *const *list)
{
        size_t n = 0;
        while (list && list[n])
                n++;
        return n;
}

static bool env_has(char *const *env, size_t n, const char *key)
{
        size_t klen = strlen(key);
        for (size_t i = 0; i < n; i++)
                if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=')
                        return true;
        return false;
}

static int set_pair(struct launch_command *c, const char *key, const char *value)
{
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        return launch_env_set(&c->env, &c->n_env, kv);
}

static int build_env(const struct launch_image_config *img, const struct launch_command_options *o,
                     struct launch_command *c, roost_error *e)
{
        int r;
        for (size_t i = 0; img->env && img->env[i]; i++) {
                const char *kv = img->env[i];
                if (!strchr(kv, '=') || kv[0] == '=')
                        return roost_error_set(e, 0, "the image's Env entry '%s' is not KEY=VALUE", kv),
                               -ROOST_EUSAGE;
                if ((r = launch_env_set(&c->env, &c->n_env, kv)) < 0)
                        return r;
        }
        if (!env_has(c->env, c->n_env, "PATH") && (r = set_pair(c, "PATH", LAUNCH_DEFAULT_PATH)) < 0)
                return r;
        if ((r = set_pair(c, "container", "roost")) < 0)
                return r;
        if (o->hostname && (r = set_pair(c, "HOSTNAME", o->hostname)) < 0)
                return r;
        if (o->term && (r = set_pair(c, "TERM", o->term)) < 0)
                return r;
        for (size_t i = 0; o->env && o->env[i]; i++)
                if ((r = launch_env_set(&c->env, &c->n_env, o->env[i])) < 0)
                        return r;
        return 0;
}

static int build_argv(const struct launch_image_config *img, const struct launch_command_options *o,
                      struct launch_command *c, roost_error *e)
{
        char *one[] = { (char *)o->entrypoint, NULL };
        char *const *entry = img->entrypoint, *const *rest = o->args;
        bool have_args = count(o->args) > 0;
        if (o->entrypoint)
                entry = *o->entrypoint ? one : NULL;
        if (!have_args)
                rest = o->entrypoint ? NULL : img->cmd;
        size_t ne = count(entry), nr = count(rest);
        if (ne + nr == 0) {
                roost_error_set(e, 0,
                                o->entrypoint ? "no command: --entrypoint '' clears the image's, and no "
                                                "command follows the image"
                                              : "no command: the image has no Entrypoint or Cmd, and no "
                                                "command follows the image");
                return -ROOST_EUSAGE;
        }
        if (!(c->argv = calloc(ne + nr + 1, sizeof(char *))))
                return -ENOMEM;
        if (ne)
                memcpy(c->argv, entry, ne * sizeof(char *));
        if (nr)
                memcpy(c->argv + ne, rest, nr * sizeof(char *));
        if (!c->argv[0][0])
                return roost_error_set(e, 0, "the command is empty"), -ROOST_EUSAGE;
        return 0;
}

int launch_command_resolve(const struct launch_image_config *img, const struct launch_command_options *o,
                           struct launch_command *ret, roost_error *e)
{
        static const struct launch_image_config none = { 0 };
        struct launch_command c = { 0 };
        int r;

        if (!img)
                img = &none;
        if ((r = build_argv(img, o, &c, e)) < 0 || (r = build_env(img, o, &c, e)) < 0)
                goto fail;
        c.cwd = o->workdir ? o->workdir : img->workdir && *img->workdir ? img->workdir : NULL;
        if (c.cwd && c.cwd[0] != '/') {
                roost_error_set(e, 0, "the image's WorkingDir '%s' is not absolute", c.cwd);
                r = -ROOST_EUSAGE;
                goto fail;
        }
        c.user = o->user ? o->user : img->user && *img->user ? img->user : NULL;
        *ret = c;
        return 0;
fail:
        if (r == -ENOMEM)
                roost_error_set(e, r, "the command's environment");
        launch_command_done(&c);
        return r;
}

void launch_command_done(struct launch_command *c)
{
        for (size_t i = 0; i < c->n_env; i++)
                free(c->env[i]);
        free(c->env);
        free(c->argv);
        *c = (struct launch_command){ 0 };
}
