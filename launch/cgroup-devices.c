/* The device allow-list of a container's cgroup: which device nodes it
 * may open, wherever the node comes from (its /dev, a devtmpfs it mounts
 * with CAP_SYS_ADMIN, a node it makes with CAP_MKNOD). nodev on the file
 * systems launch mounts stops the nodes the container makes; only the
 * cgroup stops the ones the kernel makes for it in a devtmpfs, or any file
 * system it may mount itself.
 *
 * The list is docker's default one, less /dev/console and /dev/net/tun,
 * which roost's /dev does not have: mknod of any node (as under docker,
 * the node then opens nothing), then null, zero, full, random, urandom,
 * tty, ptmx and the terminals of the container's devpts; plus the device
 * volumes. Where the unified hierarchy is mounted it is a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup above the
 * container's (written here by hand: fifty-odd instructions need neither
 * libbpf nor a compiler); elsewhere the v1 devices controller's lines
 * (devices.deny "a", then one devices.allow line per entry).
 *
 * Where the list lives: a launch that keeps no CAP_SYS_ADMIN and adds no
 * device joins one shared cgroup, made once and kept, below the list;
 * any other gets a cgroup of its own below a list of its own
 * (cgroup_dev_create, at the end of this file). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include "common/util.h"
#include "launch/cgroup-private.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

#define ANY (-1)
static const struct {
        char type;
        int major, minor;
        const char *access;
} defaults[] = {
        { 'c', ANY, ANY, "m" }, { 'b', ANY, ANY, "m" },   { 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" },
        { 'c', 1, 7, "rwm" },   { 'c', 1, 8, "rwm" },     { 'c', 1, 9, "rwm" }, { 'c', 5, 0, "rwm" },
        { 'c', 5, 2, "rwm" },   { 'c', 136, ANY, "rwm" },
};

static void number(char *buf, size_t n, int v)
{
        if (v == ANY)
                snprintf(buf, n, "*");
        else
                snprintf(buf, n, "%d", v);
}

/* Entry I of the list (the defaults, then D's devices) as the v1
 * controller spells it, "c 1:3 rwm". False past the end. */
static bool entry(const struct cgroup_devices *d, size_t i, char *buf, size_t n)
{
        char maj[16], min[16];
        if (i < ELEMENTSOF(defaults)) {
                number(maj, sizeof(maj), defaults[i].major);
                number(min, sizeof(min), defaults[i].minor);
                snprintf(buf, n, "%c %s:%s %s", defaults[i].type, maj, min, defaults[i].access);
                return true;
        }
        i -= ELEMENTSOF(defaults);
        if (!d || i >= d->n_extra)
                return false;
        snprintf(buf, n, "%c %u:%u rwm", d->extra[i].type, d->extra[i].major, d->extra[i].minor);
        return true;
}

/* The allow-list (the defaults and D's devices, D may be NULL) spelled
 * "c 1:3 rwm, ..." into BUF; returns BUF. */
static const char *cgroup_devices_list(const struct cgroup_devices *d, char *buf, size_t n)
{
        size_t len = 0;
        char one[64];
        buf[0] = 0;
        for (size_t i = 0; entry(d, i, one, sizeof(one)) && len < n; i++)
                len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", one);
        return buf;
}

/* Write it into the v1 devices cgroup DIR: devices.deny "a", then each
 * entry to devices.allow. DIR must have no child cgroup yet. */
static int cgroup_devices_v1_write(const char *dir, const struct cgroup_devices *d, roost_error *e)
{
        char path[PATH_MAX], one[64];
        int r;
        if (snprintf(path, sizeof(path), "%s/devices.deny", dir) >= (int)sizeof(path))
                return roost_error_set(e, -ENAMETOOLONG, "cgroup %s", dir);
        EXPLAIN("write(\"%s\", \"a\") — no device at all, then the allow-list one line at a time", path);
        _cleanup_close_ int deny = open(path, O_WRONLY | O_CLOEXEC);
        if (deny < 0 || (r = write_all(deny, "a", 1)) < 0)
                return roost_error_set(e, deny < 0 ? -errno : r, "writing %s", path);
        snprintf(path, sizeof(path), "%s/devices.allow", dir);
        _cleanup_close_ int allow = open(path, O_WRONLY | O_CLOEXEC);
        if (allow < 0)
                return roost_error_set(e, -errno, "opening %s", path);
        /* One entry per write: the controller parses a write as one. */
        for (size_t i = 0; entry(d, i, one, sizeof(one)); i++) {
                EXPLAIN("write(\"%s\", \"%s\")", path, one);
                if ((r = write_all(allow, one, strlen(one))) < 0)
                        return roost_error_set(e, r, "writing \"%s\" to %s", one, path);
        }
        return 0;
}

/* The program: R1 points at struct bpf_cgroup_dev_ctx. R2 is the access
 * asked for (BPF_DEVCG_ACC_*), R3 the node's type (BPF_DEVCG_DEV_*), R4
 * and R5 its major and minor. One block per entry: any test that fails
 * jumps to the next block, the end of a block returns 1 (allowed); past
 * the last block, 0 (EPERM). */
#define INSN(c, d, s, o, i)                                                                                  \
        ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
enum { PROG_MAX = 8 + 5 * 64 };

static int block(struct bpf_insn *p, char type, int major, int minor, const char *access)
{
        int acc = (strchr(access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
                  (strchr(access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
                  (strchr(access, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
        int denied = ~acc & (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
        /* its length first, for the jumps' offsets */
        int len = 1 + (major != ANY) + (minor != ANY) + (denied != 0) + 2, n = 0;
        p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 3, 0, len - n - 1,
                    type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        n++;
        if (major != ANY) {
                p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, len - n - 1, major);
                n++;
        }
        if (minor != ANY) {
                p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, len - n - 1, minor);
                n++;
        }
        if (denied) {
                p[n] = INSN(BPF_JMP | BPF_JSET | BPF_K, 2, 0, len - n - 1, denied);
                n++;
        }
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* Into P (PROG_MAX); returns its length, or -E2BIG for too many devices. */
static int program(const struct cgroup_devices *d, struct bpf_insn *p)
{
        int n = 0;
        if (d && d->n_extra > 64 - ELEMENTSOF(defaults))
                return -E2BIG;
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
        p[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff);
        p[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 2, 0, 0, 16);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                n += block(p + n, defaults[i].type, defaults[i].major, defaults[i].minor, defaults[i].access);
        for (size_t i = 0; d && i < d->n_extra; i++)
                n += block(p + n, d->extra[i].type, (int)d->extra[i].major, (int)d->extra[i].minor, "rwm");
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* Load the list as a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it
 * to the cgroup2 directory CGFD (DIR, for messages): it then holds for
 * every cgroup below. */
static int cgroup_devices_bpf_attach(int cgfd, const char *dir, const struct cgroup_devices *d, roost_error *e)
{
        struct bpf_insn insns[PROG_MAX];
        int n = program(d, insns);
        if (n < 0)
                return roost_error_set(e, n, "%zu device volumes, the program holds %zu", d->n_extra,
                                       64 - ELEMENTSOF(defaults));
        union bpf_attr load = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (uintptr_t)insns,
                .insn_cnt = (unsigned)n,
                /* only GPL-only helpers care, and it calls none */
                .license = (uintptr_t) "GPL",
        };
        EXPLAIN("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, %d instructions) — the allow-list as a "
                "program the kernel runs at each device open and mknod",
                n);
        _cleanup_close_ int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
        if (prog < 0)
                return roost_error_set(e, -errno, "loading the device program");
        /* ALLOW_MULTI: a program attached below ours, by a container that
         * keeps CAP_SYS_ADMIN in its own cgroup, runs as well as ours and
         * can only refuse more; and above ours (systemd's), the same. */
        union bpf_attr attach = {
                .target_fd = (unsigned)cgfd,
                .attach_bpf_fd = (unsigned)prog,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = BPF_F_ALLOW_MULTI,
        };
        EXPLAIN("bpf(BPF_PROG_ATTACH, \"%s\", BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) — it holds for every "
                "cgroup below",
                dir);
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
                return roost_error_set(e, -errno, "attaching the device program to %s", dir);
        return 0;
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

/* Keep DIR as the container's device cgroup: v1, its cgroup.procs open
 * for cgroup_attach's write; v2, the directory itself for clone3's
 * CLONE_INTO_CGROUP, checked to be on the unified hierarchy. */
static int dev_open(cgroup *c, int version, const char *dir, roost_error *e)
{
        char procs[PATH_MAX];
        if (cgroup_join(procs, sizeof(procs), dir, "cgroup.procs") < 0)
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

        if ((r = cgroup_caller_dir(version == DEV_V1 ? "devices" : NULL, &base)) < 0)
                return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r, "no %s", dev_what(version));
        if (cgroup_join(roost, sizeof(roost), base, "roost") < 0 || cgroup_join(dev, sizeof(dev), roost, "dev") < 0 ||
            cgroup_join(dir, PATH_MAX, dev, "shared") < 0)
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
                if ((r = cgroup_caller_dir(version == DEV_V1 ? "devices" : NULL, &base)) < 0)
                        return roost_error_set(e, r == -ENOENT ? -EOPNOTSUPP : r, "no %s", dev_what(version));
                if (cgroup_join(roost, sizeof(roost), base, "roost") < 0 || cgroup_join(own, sizeof(own), roost, id) < 0)
                        return roost_error_set(e, -ENAMETOOLONG, "cgroup %s", base);
                if ((r = dev_mkdir(roost, false, e)) < 0)
                        return r;
                EXPLAIN("mkdir(\"%s\") — this launch's device cgroup (%s), its list: %s", own,
                        dev_what(version), cgroup_devices_list(d, list, sizeof(list)));
                _cleanup_close_ int guard = cgroup_sweep_guard(roost, e);
                if (guard < 0)
                        return guard;
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
        if (cgroup_join(dir, sizeof(dir), own, "container") < 0)
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
                (void)cgroup_rmdir_tree(c->dev_own, true);
        cgroup_dev_release(c);
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
int cgroup_dev_create(cgroup *c, const char *id, const struct cgroup_devices *d, roost_error *e)
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
