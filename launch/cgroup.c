/* Resource limits through cgroups: the unified (v2) hierarchy where it
 * holds the controllers we need, the v1 controllers otherwise.
 *
 * The container's cgroup is roost/ID below the caller's own cgroup, not
 * at the root of the hierarchy as docker's daemon does: launch has no
 * daemon, and a container that left its caller's cgroup would escape the
 * limits set on the caller (a CI job, a systemd unit). While launch runs
 * it holds an flock on the cgroup's directory; cgroup_cleanup_stale only
 * removes cgroups nobody holds and nothing runs in, so a launch that was
 * SIGKILLed leaves a cgroup the next launch or `roost gc` removes, and a
 * launch in progress is never disturbed: not even between its mkdir and
 * its flock, since it holds the folder roost/ shared from one to the
 * other and a sweep takes roost/ exclusively (cgroup_sweep_guard). */
#include "config.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <linux/magic.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/cgroup-private.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

static const char *const controllers[CG_N] = { "memory", "pids", "cpu" };

#define CPU_PERIOD_US 100000

/* DIR/NAME into BUF; a path too long is an error, never a truncated
 * path that names something else. */
int cgroup_join(char *buf, size_t n, const char *dir, const char *name)
{
        int k = snprintf(buf, n, "%s/%s", dir, name);
        return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int cgroup_parse_size(const char *s, uint64_t *ret)
{
        char *end;
        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -EINVAL;
        unsigned shift = 0;
        switch (tolower((unsigned char)*end)) {
        case 'k':
                shift = 10;
                end++;
                break;
        case 'm':
                shift = 20;
                end++;
                break;
        case 'g':
                shift = 30;
                end++;
                break;
        case 't':
                shift = 40;
                end++;
                break;
        default:
                break;
        }
        if (tolower((unsigned char)*end) == 'b' && (shift || end[1] == '\0'))
                end++;
        if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift)))
                return -EINVAL;
        *ret = (uint64_t)v << shift;
        return 0;
}

int cgroup_parse_cpus(const char *s, double *ret)
{
        char *end;
        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        double v = strtod(s, &end);
        /* Below a hundredth of a CPU the kernel's minimum quota (1 ms per
         * 100 ms period) would be hit anyway. */
        if (errno || *end || !isfinite(v) || v < 0.01 || v > 4096)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int write_at(const char *dir, const char *file, const char *text)
{
        char path[PATH_MAX];
        if (cgroup_join(path, sizeof(path), dir, file) < 0)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

static bool exists_at(const char *dir, const char *file)
{
        char path[PATH_MAX];
        return cgroup_join(path, sizeof(path), dir, file) == 0 && access(path, F_OK) == 0;
}

/* Where a hierarchy is mounted (cgroup2 when CONTROLLER is NULL) and the
 * caller's cgroup in it, as one directory. */
int cgroup_caller_dir(const char *controller, char **ret)
{
        _cleanup_fclose_ FILE *mi = fopen("/proc/self/mountinfo", "re");
        _cleanup_fclose_ FILE *cg = fopen("/proc/self/cgroup", "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        char mnt[PATH_MAX] = "", root[PATH_MAX] = "", own[PATH_MAX] = "";
        bool found = false;

        if (!mi || !cg)
                return -errno;
        while (!found && getline(&line, &n, mi) > 0) {
                char r[PATH_MAX], m[PATH_MAX], fstype[64], opts[1024];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
                    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
                        continue;
                if (controller ? strcmp(fstype, "cgroup") != 0 : strcmp(fstype, "cgroup2") != 0)
                        continue;
                if (controller) {
                        bool has = false;
                        for (char *t = strtok(opts, ","); t; t = strtok(NULL, ","))
                                has |= strcmp(t, controller) == 0;
                        if (!has)
                                continue;
                }
                snprintf(mnt, sizeof(mnt), "%s", m);
                snprintf(root, sizeof(root), "%s", r);
                found = true;
        }
        if (!found)
                return -ENOENT;

        found = false;
        while (!found && getline(&line, &n, cg) > 0) {
                /* "4:memory:/a/b", "2:cpu,cpuacct:/", "0::/a" */
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = '\0';
                char *path = c2 + 1;
                path[strcspn(path, "\n")] = '\0';
                if (controller) {
                        for (char *t = strtok(c1 + 1, ","); t; t = strtok(NULL, ","))
                                found |= strcmp(t, controller) == 0;
                } else
                        found = c1[1] == '\0';
                if (found)
                        snprintf(own, sizeof(own), "%s", path);
        }
        if (!found)
                return -ENOENT;
        /* Mounted from a subtree (inside another container): our path is
         * relative to that subtree's root. */
        const char *rel = own;
        size_t rl = strlen(root);
        if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0)
                rel = own + rl;
        if (asprintf(ret, "%s%s%s", mnt, *rel == '/' ? "" : "/", strcmp(rel, "/") == 0 ? "" : rel) < 0)
                return -ENOMEM;
        return 0;
}

static bool v2_has(const char *dir, const char *controller)
{
        char path[PATH_MAX], text[4096];
        if (cgroup_join(path, sizeof(path), dir, "cgroup.controllers") < 0 ||
            sandbox_read_small_at(AT_FDCWD, path, text, sizeof(text)) < 0)
                return false;
        for (char *t = strtok(text, " \n"); t; t = strtok(NULL, " \n"))
                if (strcmp(t, controller) == 0)
                        return true;
        return false;
}

static bool id_ok(const char *id)
{
        return id && *id && strlen(id) < 128 && !strchr(id, '/') && strcmp(id, ".") != 0 &&
               strcmp(id, "..") != 0;
}

static int make_dir(const char *path, bool fresh, roost_error *e)
{
        if (mkdir(path, 0755) < 0 && (fresh || errno != EEXIST)) {
                int r = -errno;
                if (r == -EACCES || r == -EPERM || r == -EROFS)
                        return roost_error_set(
                                e, r,
                                "resource limits need a cgroup this user may manage, run as root or "
                                "in a delegated cgroup (systemd-run --user -p Delegate=yes); creating %s",
                                path);
                return roost_error_set(e, r, "creating cgroup %s", path);
        }
        return 0;
}

/* The device cgroup's names and descriptors, let go of (its directory
 * stays). */
void cgroup_dev_release(cgroup *c)
{
        free(c->dev_path);
        free(c->dev_own);
        if (c->dev_fd >= 0)
                close(c->dev_fd);
        if (c->dev_lockfd >= 0)
                close(c->dev_lockfd);
        c->dev_path = c->dev_own = NULL;
        c->dev_fd = c->dev_lockfd = -1;
}

static void cgroup_free(cgroup *c)
{
        if (!c)
                return;
        for (int i = 0; i < CG_N; i++)
                free(c->path[i]);
        for (int i = 0; i < CG_N; i++)
                if (c->lockfd[i] >= 0)
                        close(c->lockfd[i]);
        cgroup_dev_release(c);
        free(c);
}

static int limit_write(const char *dir, const char *file, const char *text, roost_error *e)
{
        EXPLAIN("write(\"%s/%s\", \"%s\") — a cgroup limit", dir, file, text);
        int r = write_at(dir, file, text);
        return r < 0 ? roost_error_set(e, r, "setting %s/%s to %s", dir, file, text) : 0;
}

static int limits_v1(cgroup *c, const struct cgroup_limits *l, roost_error *e)
{
        char buf[64];
        int r;
        if (c->path[CG_MEMORY]) {
                snprintf(buf, sizeof(buf), "%" PRIu64, l->memory);
                if ((r = limit_write(c->path[CG_MEMORY], "memory.limit_in_bytes", buf, e)) < 0)
                        return r;
                /* memory+swap at the same value: no swapping past the
                 * limit, the OOM killer ends a runaway instead. Only where
                 * the kernel accounts swap. */
                if (exists_at(c->path[CG_MEMORY], "memory.memsw.limit_in_bytes") &&
                    (r = limit_write(c->path[CG_MEMORY], "memory.memsw.limit_in_bytes", buf, e)) < 0)
                        return r;
        }
        if (c->path[CG_PIDS]) {
                snprintf(buf, sizeof(buf), "%" PRIu64, l->pids);
                if ((r = limit_write(c->path[CG_PIDS], "pids.max", buf, e)) < 0)
                        return r;
        }
        if (c->path[CG_CPU]) {
                long quota = lround(l->cpus * CPU_PERIOD_US);
                snprintf(buf, sizeof(buf), "%d", CPU_PERIOD_US);
                if ((r = limit_write(c->path[CG_CPU], "cpu.cfs_period_us", buf, e)) < 0)
                        return r;
                snprintf(buf, sizeof(buf), "%ld", quota < 1000 ? 1000 : quota);
                if ((r = limit_write(c->path[CG_CPU], "cpu.cfs_quota_us", buf, e)) < 0)
                        return r;
        }
        return 0;
}

static int limits_v2(cgroup *c, const struct cgroup_limits *l, roost_error *e)
{
        char buf[64];
        const char *d = c->path[0];
        int r;
        if (l->memory) {
                snprintf(buf, sizeof(buf), "%" PRIu64, l->memory);
                if ((r = limit_write(d, "memory.max", buf, e)) < 0)
                        return r;
                if (exists_at(d, "memory.swap.max") && (r = limit_write(d, "memory.swap.max", "0", e)) < 0)
                        return r;
        }
        if (l->pids) {
                snprintf(buf, sizeof(buf), "%" PRIu64, l->pids);
                if ((r = limit_write(d, "pids.max", buf, e)) < 0)
                        return r;
        }
        if (l->cpus > 0) {
                long quota = lround(l->cpus * CPU_PERIOD_US);
                snprintf(buf, sizeof(buf), "%ld %d", quota < 1000 ? 1000 : quota, CPU_PERIOD_US);
                if ((r = limit_write(d, "cpu.max", buf, e)) < 0)
                        return r;
        }
        return 0;
}

/* Taken right after mkdir, under cgroup_sweep_guard, so that
 * cgroup_cleanup_stale never sees the new directory empty and unlocked. */
static int lock_dir(cgroup *c, int i, roost_error *e)
{
        c->lockfd[i] = open(c->path[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->lockfd[i] < 0 || flock(c->lockfd[i], LOCK_EX | LOCK_NB) < 0)
                return roost_error_set(e, -errno, "locking cgroup %s", c->path[i]);
        return 0;
}

int cgroup_sweep_guard(const char *roost, roost_error *e)
{
        int fd = open(roost, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_SH) < 0) {
                int r = roost_error_set(e, -errno, "locking cgroup %s", roost);
                if (fd >= 0)
                        close(fd);
                return r;
        }
        return fd;
}

/* Create leaf PATH below ROOST (PATH must not exist yet: ids are unique)
 * and keep it in slot I only once it is ours. */
static int make_leaf(cgroup *c, int i, const char *roost, const char *path, roost_error *e)
{
        _cleanup_close_ int guard = cgroup_sweep_guard(roost, e);
        if (guard < 0)
                return guard;
        int r = make_dir(path, true, e);
        if (r < 0)
                return r;
        EXPLAIN("mkdir(\"%s\") — the container's cgroup, below launch's own", path);
        /* Tests: stay in the gap between the mkdir and the lock, so that a
         * sweep can be run into it (tests/harden-limits.sh). */
        const char *gap = getenv("ROOST_LAUNCH_TEST_CGROUP_GAP");
        if (gap) {
                fprintf(stderr, "launch: test: %s made, not yet locked\n", path);
                usleep((useconds_t)(atof(gap) * 1e6));
        }
        if (!(c->path[i] = strdup(path))) {
                rmdir(path);
                return -ENOMEM;
        }
        return lock_dir(c, i, e);
}

static int limits_create(cgroup *c, const char *id, const struct cgroup_limits *l, const bool want[CG_N],
                         roost_error *e)
{
        _cleanup_free_ char *v2 = NULL;
        int r;

        bool use_v2 = cgroup_caller_dir(NULL, &v2) == 0;
        for (int i = 0; i < CG_N && use_v2; i++)
                if (want[i] && !v2_has(v2, controllers[i]))
                        use_v2 = false;
        if (use_v2) {
                char roost[PATH_MAX], sub[64] = "";
                c->version = 2;
                for (int i = 0; i < CG_N; i++)
                        if (want[i])
                                snprintf(sub + strlen(sub), sizeof(sub) - strlen(sub), "%s+%s",
                                         *sub ? " " : "", controllers[i]);
                if ((r = cgroup_join(roost, sizeof(roost), v2, "roost")) < 0)
                        return r;
                /* Controllers reach a child only through its parent's
                 * subtree_control. EBUSY here is v2's rule that a cgroup with
                 * processes of its own cannot hand controllers down: the
                 * caller must run from a delegated leaf. */
                if ((r = write_at(v2, "cgroup.subtree_control", sub)) < 0)
                        return roost_error_set(e, r, "enabling %s in %s/cgroup.subtree_control", sub, v2);
                if ((r = make_dir(roost, false, e)) < 0)
                        return r;
                if ((r = write_at(roost, "cgroup.subtree_control", sub)) < 0)
                        return roost_error_set(e, r, "enabling %s in %s/cgroup.subtree_control", sub, roost);
                char leaf[PATH_MAX];
                if ((r = cgroup_join(leaf, sizeof(leaf), roost, id)) < 0)
                        return r;
                if ((r = make_leaf(c, 0, roost, leaf, e)) < 0)
                        return r;
                return limits_v2(c, l, e);
        }
        c->version = 1;
        for (int i = 0; i < CG_N; i++) {
                _cleanup_free_ char *base = NULL;
                char roost[PATH_MAX];
                if (!want[i])
                        continue;
                if ((r = cgroup_caller_dir(controllers[i], &base)) < 0)
                        return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r,
                                               "no cgroup %s controller on this host (needed for --%s)",
                                               controllers[i],
                                               i == CG_MEMORY ? "memory"
                                               : i == CG_PIDS ? "pids"
                                                              : "cpus");
                if ((r = cgroup_join(roost, sizeof(roost), base, "roost")) < 0)
                        return r;
                if ((r = make_dir(roost, false, e)) < 0)
                        return r;
                char leaf[PATH_MAX];
                if ((r = cgroup_join(leaf, sizeof(leaf), roost, id)) < 0)
                        return r;
                if ((r = make_leaf(c, i, roost, leaf, e)) < 0)
                        return r;
        }
        return limits_v1(c, l, e);
}

/* Kill what runs in the cgroup DIR. */
static void kill_procs(const char *dir)
{
        char procs[PATH_MAX];
        if (cgroup_join(procs, sizeof(procs), dir, "cgroup.procs") < 0)
                return;
        _cleanup_fclose_ FILE *f = fopen(procs, "re");
        int pid;
        while (f && fscanf(f, "%d", &pid) == 1)
                if (pid > 0)
                        kill(pid, SIGKILL);
}

/* nftw has no argument for its callback: whether rmdir_one kills what
 * keeps a cgroup busy (cgroup_destroy) or leaves it (the sweep). */
static bool rmdir_kills;

static int rmdir_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
        (void)sb;
        (void)ftw;
        if (type == FTW_DP && rmdir(path) < 0 && errno == EBUSY && rmdir_kills)
                kill_procs(path);
        return 0;
}

/* Remove DIR and the cgroups below it, deepest first: a container that
 * keeps CAP_SYS_ADMIN may have made cgroups of its own below its cgroup,
 * and rmdir says EBUSY while any is left. Returns whether DIR is gone. */
bool cgroup_rmdir_tree(const char *dir, bool kills)
{
        rmdir_kills = kills;
        (void)nftw(dir, rmdir_one, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return access(dir, F_OK) < 0 && errno == ENOENT;
}


int cgroup_create(const char *id, const struct cgroup_limits *l, const struct cgroup_devices *d, cgroup **ret,
                  roost_error *e)
{
        bool want[CG_N] = { l && l->memory, l && l->pids, l && l->cpus > 0 };
        bool limits = want[CG_MEMORY] || want[CG_PIDS] || want[CG_CPU];
        cgroup *c;
        int r;

        *ret = NULL;
        if (!limits && !d)
                return 0;
        if (!id_ok(id))
                return roost_error_set(e, -EINVAL, "bad cgroup name \"%s\"", id ? id : "");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (int i = 0; i < CG_N; i++)
                c->lockfd[i] = -1;
        c->dev_fd = c->dev_lockfd = -1;
        if ((limits && (r = limits_create(c, id, l, want, e)) < 0) ||
            (d && (r = cgroup_dev_create(c, id, d, e)) < 0)) {
                cgroup_destroy(c);
                return r;
        }
        if (!limits && !c->dev_path) {
                cgroup_free(c);
                return 0;
        }
        *ret = c;
        return 0;
}

int cgroup_attach(cgroup *c, pid_t pid, roost_error *e)
{
        char buf[32];
        if (!c)
                return 0;
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (int i = 0; i < CG_N; i++) {
                /* v2 limits and device program: the child is below. */
                if (!c->path[i] || (c->version == 2 && c->dev_version == DEV_V2))
                        continue;
                EXPLAIN("write(\"%s/cgroup.procs\", \"%s\") — the child joins the cgroup before it runs "
                        "anything; its children will be in it too",
                        c->path[i], buf);
                int r = write_at(c->path[i], "cgroup.procs", buf);
                if (r < 0)
                        return roost_error_set(e, r, "moving the container into %s", c->path[i]);
        }
        if (c->dev_moved) {
                EXPLAIN("write(\"%s/cgroup.procs\", \"%s\") — clone3 was refused: the child joins its "
                        "device cgroup before it runs anything",
                        c->dev_path, buf);
                int r = write_at(c->dev_path, "cgroup.procs", buf);
                if (r < 0)
                        return roost_error_set(e, r, "moving the container into %s", c->dev_path);
        }
        if (c->dev_fd >= 0 && c->dev_version == DEV_V1) {
                EXPLAIN("write(\"%s/cgroup.procs\", \"%s\") — the child joins its device cgroup before it "
                        "runs anything",
                        c->dev_path, buf);
                int r = write_all(c->dev_fd, buf, strlen(buf));
                if (r < 0)
                        return roost_error_set(e, r, "moving the container into %s", c->dev_path);
        }
        return 0;
}

int cgroup_clone_fd(const cgroup *c)
{
        return c && c->dev_version == DEV_V2 && !c->dev_moved ? c->dev_fd : -1;
}

void cgroup_clone_refused(cgroup *c)
{
        if (c && c->dev_version == DEV_V2)
                c->dev_moved = true;
}

bool cgroup_owned(const cgroup *c)
{
        if (!c)
                return false;
        for (int i = 0; i < CG_N; i++)
                if (c->path[i])
                        return true;
        return c->dev_own != NULL;
}

/* Kill everything in DIR and remove it. v1 has no cgroup.kill, so the
 * processes are listed and killed until none is left; a fork bomb may add
 * new ones between the read and the kill, hence the loop. rmdir fails with
 * EBUSY until the last of them is really gone. */
static int remove_dir(const char *dir)
{
        if (exists_at(dir, "cgroup.kill"))
                (void)write_at(dir, "cgroup.kill", "1");
        for (int tries = 0; tries < 2000; tries++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                if (cgroup_rmdir_tree(dir, true))
                        return 0;
                nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        }
        return -EBUSY;
}

void cgroup_destroy(cgroup *c)
{
        if (!c)
                return;
        /* The container's own device cgroup first: its parent (v2: the
         * limits' too) then goes at the first rmdir, with no walk below. */
        if (c->dev_single)
                (void)rmdir(c->dev_path);
        for (int i = 0; i < CG_N; i++)
                if (c->path[i])
                        (void)remove_dir(c->path[i]);
        if (c->dev_own)
                (void)remove_dir(c->dev_own);
        cgroup_free(c);
}

const char *cgroup_path(const cgroup *c, const char *controller)
{
        if (!c)
                return NULL;
        if (controller && strcmp(controller, "devices") == 0)
                return c->dev_path;
        if (c->version == 2)
                return c->path[0];
        for (int i = 0; i < CG_N; i++)
                if (controller && strcmp(controller, controllers[i]) == 0)
                        return c->path[i];
        return NULL;
}

const char *cgroup_version(const cgroup *c)
{
        return c && c->version == 2 ? "v2" : "v1";
}

/* Remove what launches that were killed left in BASE/roost: every
 * directory nobody holds (a launch in progress holds its own with an
 * flock) is removed with what a container made below it, unless
 * something still runs there. roost/dev, the device cgroup containers
 * share, stays. */
static int cleanup_in(const char *base)
{
        char roost[PATH_MAX];
        int n = 0;
        if (cgroup_join(roost, sizeof(roost), base, "roost") < 0)
                return 0;
        /* A launch between its mkdir and its lock holds this shared: its
         * cgroup is not a dead one. The next sweep will look again. */
        _cleanup_close_ int guard = open(roost, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (guard < 0 || flock(guard, LOCK_EX | LOCK_NB) < 0)
                return 0;
        DIR *d = opendir(roost);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                char dir[PATH_MAX];
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    !strcmp(de->d_name, "dev"))
                        continue;
                if (cgroup_join(dir, sizeof(dir), roost, de->d_name) < 0)
                        continue;
                _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                /* Held: a launch is using it (processes or not yet). */
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                if (cgroup_rmdir_tree(dir, false))
                        n++;
        }
        closedir(d);
        return n;
}

int cgroup_cleanup_stale(void)
{
        /* NULL: the unified hierarchy */
        static const char *const all[] = { "memory", "pids", "cpu", "devices", NULL };
        int n = 0;
        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                _cleanup_free_ char *base = NULL;
                if (cgroup_caller_dir(all[i], &base) == 0)
                        n += cleanup_in(base);
        }
        return n;
}
