/* -v HOST:CONTAINER[:ro|:rw], as docker spells it. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "launch/launch.h"
#include "launch/launch-private.h"

/* An absolute container path without "." or ".." components. */
static int normalise(const char *in, char **ret)
{
        if (in[0] != '/')
                return -EINVAL;
        char *out = malloc(strlen(in) + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (const char *p = in; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t n = strcspn(p, "/");
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        free(out);
                        return -EINVAL;
                }
                *o++ = '/';
                memcpy(o, p, n);
                o += n;
                p += n;
        }
        if (o == out) {
                free(out);
                return -EINVAL; /* "/" itself: the root is not a volume */
        }
        *o = 0;
        *ret = out;
        return 0;
}

/* A usage error's message is whole: no ": invalid argument" after it. */
#define usage_error(e, ...) (roost_error_set((e), 0, __VA_ARGS__), -ROOST_EUSAGE)

int launch_volume_parse(const char *spec, struct launch_volume *v, roost_error *e)
{
        *v = (struct launch_volume){ 0 };
        const char *c1 = strchr(spec, ':');
        if (!c1 || c1 == spec)
                return usage_error(e, "volume '%s': expected HOST:CONTAINER[:ro]", spec);
        const char *c2 = strchr(c1 + 1, ':');
        char *container = c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : strdup(c1 + 1);
        if (!container)
                return -ENOMEM;
        if (c2) {
                if (strcmp(c2 + 1, "ro") == 0)
                        v->read_only = true;
                else if (strcmp(c2 + 1, "rw") != 0) {
                        free(container);
                        return usage_error(e, "volume '%s': unknown mode '%s' (ro or rw)", spec, c2 + 1);
                }
        }
        int r = normalise(container, &v->container);
        free(container);
        if (r < 0)
                return roost_error_set(
                        e, -ROOST_EUSAGE,
                        "volume '%s': the container path must be absolute, not /, without . or ..", spec);
        if (spec[0] != '/') {
                launch_volume_done(v);
                return usage_error(e, "volume '%s': the host path must be absolute", spec);
        }
        if (!(v->host = strndup(spec, (size_t)(c1 - spec)))) {
                launch_volume_done(v);
                return -ENOMEM;
        }
        return 0;
}

void launch_volume_done(struct launch_volume *v)
{
        free(v->host);
        free(v->container);
        *v = (struct launch_volume){ 0 };
}

int launch_volumes_check(const struct launch_config *c, struct cgroup_device *devs, size_t *n_devs,
                         roost_error *e)
{
        *n_devs = 0;
        for (size_t i = 0; i < c->n_volumes; i++) {
                struct stat sb;
                if (stat(c->volumes[i].host, &sb) < 0)
                        return roost_error_set(e, -errno, "volume %s", c->volumes[i].host);
                if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode))
                        devs[(*n_devs)++] = (struct cgroup_device){
                                .type = S_ISCHR(sb.st_mode) ? 'c' : 'b',
                                .major = major(sb.st_rdev),
                                .minor = minor(sb.st_rdev),
                        };
        }
        return 0;
}
