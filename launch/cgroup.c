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
 * launch in progress is never disturbed. */
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
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

enum { CG_MEMORY, CG_PIDS, CG_CPU, CG_N };
static const char *const controllers[CG_N] = { "memory", "pids", "cpu" };

struct cgroup {
        int version;      /* of the limits: 1 or 2 */
        char *path[CG_N]; /* v1: one directory per controller used; v2: path[0] */
        int lockfd[CG_N]; /* flocks held while the container runs */
        /* The device cgroup the container joins, its cgroup.procs open; and
         * when that cgroup is the launch's own, the directory above it that
         * holds its list, which cgroup_destroy removes. */
        char *dev_path;
        int dev_version; /* DEV_V1, DEV_V2 */
        int dev_fd;      /* v1: its cgroup.procs; v2: the directory, for CLONE_INTO_CGROUP */
        bool dev_moved;  /* v2, but clone3 was refused: cgroup_attach moves the child */
        bool dev_single; /* dev_path is this launch's alone (below dev_own or the v2 limits') */
        char *dev_own;
        int dev_lockfd;
};

#define CPU_PERIOD_US 100000

/* DIR/NAME into BUF; a path too long is an error, never a truncated
 * path that names something else. */
static int join(char *buf, size_t n, const char *dir, const char *name)
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
        if (join(path, sizeof(path), dir, file) < 0)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

static bool exists_at(const char *dir, const char *file)
{
        char path[PATH_MAX];
        return join(path, sizeof(path), dir, file) == 0 && access(path, F_OK) == 0;
}

/* Where a hierarchy is mounted (cgroup2 when CONTROLLER is NULL) and the
 * caller's cgroup in it, as one directory. */
static int caller_dir(const char *controller, char **ret)
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
        if (join(path, sizeof(path), dir, "cgroup.controllers") < 0 ||
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
static void dev_release(cgroup *c)
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
        dev_release(c);
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

/* Taken right after mkdir, before cgroup_cleanup_stale could see the new
 * directory empty and unlocked for long. */
static int lock_dir(cgroup *c, int i, roost_error *e)
{
        c->lockfd[i] = open(c->path[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->lockfd[i] < 0 || flock(c->lockfd[i], LOCK_EX | LOCK_NB) < 0)
                return roost_error_set(e, -errno, "locking cgroup %s", c->path[i]);
        return 0;
}

/* Create leaf PATH (which must not exist yet: ids are unique) and keep it
 * in slot I only once it is ours. */
static int make_leaf(cgroup *c, int i, const char *path, roost_error *e)
{
        int r = make_dir(path, true, e);
        if (r < 0)
                return r;
        EXPLAIN("mkdir(\"%s\") — the container's cgroup, below launch's own", path);
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

        bool use_v2 = caller_dir(NULL, &v2) == 0;
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
                if ((r = join(roost, sizeof(roost), v2, "roost")) < 0)
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
                if ((r = join(leaf, sizeof(leaf), roost, id)) < 0)
                        return r;
                if ((r = make_leaf(c, 0, leaf, e)) < 0)
                        return r;
                return limits_v2(c, l, e);
        }
        c->version = 1;
        for (int i = 0; i < CG_N; i++) {
                _cleanup_free_ char *base = NULL;
                char roost[PATH_MAX];
                if (!want[i])
                        continue;
                if ((r = caller_dir(controllers[i], &base)) < 0)
                        return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r,
                                               "no cgroup %s controller on this host (needed for --%s)",
                                               controllers[i],
                                               i == CG_MEMORY ? "memory"
                                               : i == CG_PIDS ? "pids"
                                                              : "cpus");
                if ((r = join(roost, sizeof(roost), base, "roost")) < 0)
                        return r;
                if ((r = make_dir(roost, false, e)) < 0)
                        return r;
                char leaf[PATH_MAX];
                if ((r = join(leaf, sizeof(leaf), roost, id)) < 0)
                        return r;
                if ((r = make_leaf(c, i, leaf, e)) < 0)
                        return r;
        }
        return limits_v1(c, l, e);
}

/* Kill what runs in the cgroup DIR. */
static void kill_procs(const char *dir)
{
        char procs[PATH_MAX];
        if (join(procs, sizeof(procs), dir, "cgroup.procs") < 0)
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
static bool rmdir_tree(const char *dir, bool kills)
{
        rmdir_kills = kills;
        (void)nftw(dir, rmdir_one, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        return access(dir, F_OK) < 0 && errno == ENOENT;
}

/* The caller's cgroup as /proc/self/cgroup names it ("/a/b"), in the v1
 * hierarchy of CONTROLLER or (NULL) the unified one, into BUF. */
static int own_cgroup(const char *controller, char *buf, size_t n)
{
        char text[4096];
        int r = sandbox_read_small_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* "5:devices:/a/b", "2:cpu,cpuacct:/", "0::/a" */
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                bool found = false;
                if (!c2)
                        continue;
                *c2 = '\0';
                if (!controller)
                        found = c2 == c1 + 1;
                for (char *t = strtok(c1 + 1, ","); controller && t && !found; t = strtok(NULL, ","))
                        found = strcmp(t, controller) == 0;
                if (found)
                        return snprintf(buf, n, "%s", c2 + 1) < (int)n ? 0 : -ENAMETOOLONG;
        }
        return -ENOENT;
}

/* Where the container's device cgroup comes from. */
enum { DEV_V1 = 1, DEV_V2 = 2 };

/* Keep DIR as the container's device cgroup: v1, its cgroup.procs open
 * for cgroup_attach's write; v2, the directory itself for clone3's
 * CLONE_INTO_CGROUP, checked to be on the unified hierarchy. */
static int dev_open(cgroup *c, int version, const char *dir, roost_error *e)
{
        char procs[PATH_MAX];
        if (join(procs, sizeof(procs), dir, "cgroup.procs") < 0)
                return -ENAMETOOLONG;
        _cleanup_close_ int fd = version == DEV_V1 ? open(procs, O_WRONLY | O_CLOEXEC)
                                                   : open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sf;
        if (fd < 0)
                return roost_error_set(e, -errno, "opening %s", version == DEV_V1 ? procs : dir);
        if (version == DEV_V2 && (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC))
                return roost_error_set(e, -ENOTDIR, "%s is no cgroup2 directory", dir);
        if (!(c->dev_path = strdup(dir)))
                return -ENOMEM;
        c->dev_version = version;
        c->dev_fd = TAKE_FD(fd);
        return 0;
}

static int dev_mkdir(const char *path, bool fresh, roost_error *e)
{
        if (mkdir(path, 0755) < 0 && (fresh || errno != EEXIST))
                return roost_error_set(e, -errno, "creating cgroup %s", path);
        return 0;
}

/* The allow-list into the cgroup DIR (open as DIRFD). */
static int dev_list(int version, int dirfd, const char *dir, const struct cgroup_devices *d, roost_error *e)
{
        return version == DEV_V1 ? cgroup_devices_v1_write(dir, d, e)
                                 : cgroup_devices_bpf_attach(dirfd, dir, d, e);
}

static const char *dev_what(int version)
{
        return version == DEV_V1 ? "devices controller, v1" : "a BPF device program, cgroup v2";
}

/* The shared device cgroup, roost/dev/shared below the caller's cgroup,
 * its list in roost/dev. Made once, by the first launch that finds it
 * missing, under an flock of roost/dev so that no launch joins a
 * half-made one: shared appears only once its parent holds the whole list
 * (in v1 a child copies its parent's list when it is made; in v2 the
 * parent's program holds for it). Later launches only open it. A launch
 * that dies between the program's attach and the mkdir leaves one more
 * copy of the same program: harmless. Into DIR (PATH_MAX). */
static int dev_shared_make(int version, char *dir, roost_error *e)
{
        _cleanup_free_ char *base = NULL;
        char roost[PATH_MAX], dev[PATH_MAX];
        int r;

        if ((r = caller_dir(version == DEV_V1 ? "devices" : NULL, &base)) < 0)
                return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r, "no %s", dev_what(version));
        if (join(roost, sizeof(roost), base, "roost") < 0 || join(dev, sizeof(dev), roost, "dev") < 0 ||
            join(dir, PATH_MAX, dev, "shared") < 0)
                return roost_error_set(e, -ENAMETOOLONG, "cgroup %s", base);
        EXPLAIN("mkdir(\"%s\") — once, kept: the parent of the device cgroup containers share, which holds "
                "their allow-list",
                dev);
        if ((r = dev_mkdir(roost, false, e)) < 0 || (r = dev_mkdir(dev, false, e)) < 0)
                return r;
        _cleanup_close_ int lock = open(dev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return roost_error_set(e, -errno, "locking cgroup %s", dev);
        if (access(dir, F_OK) == 0)
                return 0;
        if ((r = dev_list(version, lock, dev, NULL, e)) < 0)
                return r;
        EXPLAIN("mkdir(\"%s\") — the shared device cgroup, made once below its parent's list", dir);
        return dev_mkdir(dir, true, e);
}

/* A launch without CAP_SYS_ADMIN or device volumes joins the shared
 * cgroup: its allow-list costs one read of /proc/self/cgroup and one
 * open. The open guesses where the hierarchy is mounted, as systemd
 * mounts it, rather than reading /proc/self/mountinfo (72 us here, more
 * than all the rest); what it finds there is a cgroup roost made, and
 * elsewhere the slow path finds the real place. */
static int dev_shared(cgroup *c, int version, roost_error *e)
{
        static const char *const v1[] = { "/sys/fs/cgroup/devices" };
        static const char *const v2[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
        const char *const *mnt = version == DEV_V1 ? v1 : v2;
        size_t n_mnt = version == DEV_V1 ? ELEMENTSOF(v1) : ELEMENTSOF(v2);
        char own[PATH_MAX], dir[PATH_MAX], list[1024];
        int r = own_cgroup(version == DEV_V1 ? "devices" : NULL, own, sizeof(own));

        for (size_t i = 0; r == 0 && i < n_mnt; i++)
                if (snprintf(dir, sizeof(dir), "%s%s/roost/dev/shared", mnt[i], strcmp(own, "/") ? own : "") <
                            (int)sizeof(dir) &&
                    dev_open(c, version, dir, NULL) == 0)
                        goto found;
        if ((r = dev_shared_make(version, dir, e)) < 0 || (r = dev_open(c, version, dir, e)) < 0)
                return r;
found:
        EXPLAIN("the container's device cgroup: %s (%s), kept and shared by launches without "
                "CAP_SYS_ADMIN; its parent's allow-list: %s — any other device opens nothing (EPERM), even "
                "in a devtmpfs",
                dir, dev_what(version), cgroup_devices_list(NULL, list, sizeof(list)));
        return 0;
}

/* A device cgroup of the launch's own, roost/ID/container, its list (with
 * D's devices) on roost/ID: the container can rewrite its own cgroup's
 * list with CAP_SYS_ADMIN (v1), or attach programs of its own (v2), but
 * never allow more than roost/ID, which its cgroup namespace (rooted at
 * roost/ID/container) keeps out of its reach. roost/ID is locked, as the
 * limits' cgroups are, for cgroup_cleanup_stale. With limits on the
 * unified hierarchy, roost/ID is theirs: the container's one cgroup2 must
 * be below both. */
static int dev_own(cgroup *c, int version, const char *id, const struct cgroup_devices *d, roost_error *e)
{
        _cleanup_free_ char *base = NULL;
        char roost[PATH_MAX], own[PATH_MAX], dir[PATH_MAX], list[2048];
        int lock = -1, r;

        if (version == DEV_V2 && c->version == 2 && c->path[0]) {
                snprintf(own, sizeof(own), "%s", c->path[0]);
                lock = c->lockfd[0];
                EXPLAIN("the limits' cgroup %s holds the device list too (%s): %s", own, dev_what(version),
                        cgroup_devices_list(d, list, sizeof(list)));
        } else {
                if ((r = caller_dir(version == DEV_V1 ? "devices" : NULL, &base)) < 0)
                        return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r, "no %s", dev_what(version));
                if (join(roost, sizeof(roost), base, "roost") < 0 || join(own, sizeof(own), roost, id) < 0)
                        return roost_error_set(e, -ENAMETOOLONG, "cgroup %s", base);
                if ((r = dev_mkdir(roost, false, e)) < 0)
                        return r;
                EXPLAIN("mkdir(\"%s\") — this launch's device cgroup (%s), its list: %s", own,
                        dev_what(version), cgroup_devices_list(d, list, sizeof(list)));
                if ((r = dev_mkdir(own, true, e)) < 0)
                        return r;
                if (!(c->dev_own = strdup(own))) {
                        rmdir(own);
                        return -ENOMEM;
                }
                lock = c->dev_lockfd = open(own, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
                        return roost_error_set(e, -errno, "locking cgroup %s", own);
        }
        if ((r = dev_list(version, lock, own, d, e)) < 0)
                return r;
        if (join(dir, sizeof(dir), own, "container") < 0)
                return -ENAMETOOLONG;
        EXPLAIN("mkdir(\"%s\") — the container's cgroup%s: whatever it changes below, its parent's list "
                "holds",
                dir, d->sys_admin ? " (it keeps CAP_SYS_ADMIN, so none shared)" : "");
        if ((r = dev_mkdir(dir, true, e)) < 0)
                return r;
        c->dev_single = true;
        return dev_open(c, version, dir, e);
}

/* Undo a failed try, before the next way is tried. */
static void dev_reset(cgroup *c)
{
        if (c->dev_own)
                (void)rmdir_tree(c->dev_own, true);
        dev_release(c);
        c->dev_version = 0;
        c->dev_single = false;
}

/* What the host or launch's place in it does not allow, rather than a
 * failure. */
static bool unable(int r)
{
        return r == -EOPNOTSUPP || r == -EACCES || r == -EPERM || r == -EROFS || r == -EINVAL ||
               r == -ENOSYS || r == -ENOTDIR;
}

/* A BPF program on the unified hierarchy where it is mounted, hybrid
 * hosts included: the child is born in its cgroup (clone3's
 * CLONE_INTO_CGROUP), where a v1 join is a write to cgroup.procs that
 * waits for an RCU grace period unless one just passed (13 ms a launch
 * here after 50 ms of idle, 0.3-6.8 ms back to back; docs/launch.md). The
 * v1 devices controller only where the program cannot be had (or
 * ROOST_LAUNCH_DEVICES_V1 is set, for the tests). With v2 limits, the
 * container's cgroup2 must be below them as well: their cgroup holds the
 * program. */
static int dev_create(cgroup *c, const char *id, const struct cgroup_devices *d, roost_error *e)
{
        roost_error why = { "" };
        bool own = d->sys_admin || d->n_extra;
        int r = -EOPNOTSUPP;

        /* ROOST_LAUNCH_NO_DEVICES stands for a host with neither way, so
         * that the tests reach what launch does there. */
        bool none = getenv("ROOST_LAUNCH_NO_DEVICES") != NULL;
        if (none)
                roost_error_set(&why, 0, "ROOST_LAUNCH_NO_DEVICES is set");
        else if (!getenv("ROOST_LAUNCH_DEVICES_V1")) {
                r = own || c->version == 2 ? dev_own(c, DEV_V2, id, d, &why) : dev_shared(c, DEV_V2, &why);
                if (unable(r))
                        dev_reset(c);
        } else
                roost_error_set(&why, 0, "ROOST_LAUNCH_DEVICES_V1 is set");
        if (unable(r) && !none) {
                EXPLAIN("no cgroup2 device program here (%s): the v1 devices controller instead", why.msg);
                r = own ? dev_own(c, DEV_V1, id, d, &why) : dev_shared(c, DEV_V1, &why);
                if (unable(r))
                        dev_reset(c);
        }
        if (unable(r)) {
                /* Only CAP_SYS_ADMIN can mount a file system whose nodes
                 * open (a devtmpfs); without it nodev holds the line. */
                if (d->sys_admin) {
                        roost_error_set(e, 0,
                                        "a container keeping CAP_SYS_ADMIN needs a device cgroup (it could "
                                        "mount devtmpfs and open the host's disks), and %s; launch without "
                                        "--cap-add SYS_ADMIN, or with --privileged",
                                        why.msg);
                        return r;
                }
                EXPLAIN("no device cgroup (%s): the container keeps no CAP_SYS_ADMIN, and every file system "
                        "it can make nodes in is nodev",
                        why.msg);
                return 0;
        }
        if (r < 0)
                roost_error_set(e, 0, "%s", why.msg);
        return r;
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
            (d && (r = dev_create(c, id, d, e)) < 0)) {
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
                if (rmdir_tree(dir, true))
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
        if (join(roost, sizeof(roost), base, "roost") < 0)
                return 0;
        DIR *d = opendir(roost);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                char dir[PATH_MAX];
                if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    !strcmp(de->d_name, "dev"))
                        continue;
                if (join(dir, sizeof(dir), roost, de->d_name) < 0)
                        continue;
                _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                /* Held: a launch is using it (processes or not yet). */
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                if (rmdir_tree(dir, false))
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
                if (caller_dir(all[i], &base) == 0)
                        n += cleanup_in(base);
        }
        return n;
}
