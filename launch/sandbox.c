/* Starting point of the hardening work (issue 6): everything here is still
 * permissive except the single-id user namespace map. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/sandbox.h"

int sandbox_parse_cap(const char *name, int *ret)
{
        return -EOPNOTSUPP;
}

int sandbox_mask_paths(const struct sandbox_config *c, roost_error *e)
{
        return 0;
}

int sandbox_apply(const struct sandbox_config *c, roost_error *e)
{
        return 0;
}

int cgroup_create(const char *id, const struct cgroup_limits *l, cgroup **ret, roost_error *e)
{
        *ret = NULL;
        if (l && (l->memory || l->pids || l->cpus > 0))
                return roost_error_set(e, -EOPNOTSUPP, "resource limits");
        return 0;
}

int cgroup_attach(cgroup *c, pid_t pid, roost_error *e)
{
        return 0;
}

void cgroup_destroy(cgroup *c)
{
}

static int write_proc(pid_t pid, const char *file, const char *text, roost_error *e)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return roost_error_set(e, -errno, "opening %s", path);
        int r = write_all(fd, text, strlen(text));
        return r < 0 ? roost_error_set(e, r, "writing %s", path) : 0;
}

int userns_map(pid_t child, roost_error *e)
{
        char map[64];
        int r;
        /* Without "deny" an unprivileged writer may not set a gid map. */
        if ((r = write_proc(child, "setgroups", "deny", e)) < 0)
                return r;
        snprintf(map, sizeof(map), "0 %d 1\n", (int)getuid());
        if ((r = write_proc(child, "uid_map", map, e)) < 0)
                return r;
        snprintf(map, sizeof(map), "0 %d 1\n", (int)getgid());
        return write_proc(child, "gid_map", map, e);
}
