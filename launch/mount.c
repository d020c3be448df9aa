/* Assembling the container's root, in its own mount namespace, with the new
 * mount API: each file system is created detached (fsopen/fsmount or
 * open_tree), given its flags, and only then attached at a place resolved
 * inside the tree (openat2 with RESOLVE_IN_ROOT), so that a symlink in the
 * tree such as "proc -> /" can never make us mount over the host's paths. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/mount-util.h"

int openat2_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;
        do
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? -errno : fd;
}

int open_in_root(int rootfd, const char *path, bool dir, bool create)
{
        while (*path == '/')
                path++;
        if (!*path)
                return openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
        int fd = openat2_in_root(rootfd, path, O_PATH | (dir ? O_DIRECTORY : 0));
        if (fd != -ENOENT || !create)
                return fd;

        /* Create what is missing one component at a time, each parent
         * resolved inside the root again. */
        char buf[PATH_MAX];
        if (strlen(path) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, path);
        int parent = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
        if (parent < 0)
                return parent;
        char *p = buf;
        while (*p) {
                char *comp = p, *end = strchr(p, '/');
                bool last;
                if (end)
                        *end = 0;
                last = !end || !end[1 + strspn(end + 1, "/")];
                if (!*comp || strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
                        close(parent);
                        return -EINVAL;
                }
                bool want_dir = !last || dir;
                int child = openat2_in_root(rootfd, buf, O_PATH | (want_dir ? O_DIRECTORY : 0));
                if (child == -ENOENT) {
                        int r = 0;
                        if (want_dir) {
                                if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST)
                                        r = -errno;
                        } else {
                                int t = openat(parent, comp,
                                               O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (t < 0)
                                        r = -errno;
                                else
                                        close(t);
                        }
                        if (r < 0) {
                                close(parent);
                                return r;
                        }
                        child = openat2_in_root(rootfd, buf, O_PATH | (want_dir ? O_DIRECTORY : 0));
                }
                close(parent);
                if (child < 0)
                        return child;
                parent = child;
                if (!end)
                        break;
                *end = '/';
                p = end + 1;
                while (*p == '/')
                        p++;
        }
        return parent;
}

/* The kernel explains a refused fsconfig through the context fd. */
static int fs_error(int fsfd, int r, const char *what, roost_error *e)
{
        char log[512];
        ssize_t n = read(fsfd, log, sizeof(log) - 1);
        if (n > 2) {
                log[n] = 0;
                if (log[n - 1] == '\n')
                        log[n - 1] = 0;
                return roost_error_set(e, r, "mounting %s (%s)", what, log + 2);
        }
        return roost_error_set(e, r, "mounting %s", what);
}

int fs_mount(const char *type, const struct fs_opt *opts, size_t n, unsigned attrs, int *ret, roost_error *e)
{
        _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return roost_error_set(e, -errno, "mounting %s", type);
        for (size_t i = 0; i < n; i++) {
                int r;
                if (opts[i].value)
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, opts[i].key, opts[i].value, 0);
                else
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opts[i].key, NULL, 0);
                if (r < 0)
                        return fs_error(fsfd, -errno, type, e);
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_error(fsfd, -errno, type, e);
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
        if (mfd < 0)
                return fs_error(fsfd, -errno, type, e);
        *ret = mfd;
        return 0;
}

int bind_tree(int dirfd, const char *path, bool recursive, uint64_t attrs, int *ret, roost_error *e)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
        if (!*path)
                flags |= AT_EMPTY_PATH;
        _cleanup_close_ int fd = open_tree(dirfd, path, flags);
        if (fd < 0)
                return roost_error_set(e, -errno, "binding %s", *path ? path : "a file");
        int r = mount_set_attrs(fd, recursive, attrs, *path ? path : "a bind mount", e);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

int mount_set_attrs(int mfd, bool recursive, uint64_t attrs, const char *what, roost_error *e)
{
        struct mount_attr a = { .attr_set = attrs };
        if (attrs &&
            mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
                return roost_error_set(e, -errno, "setting the flags of %s", what);
        return 0;
}

bool mount_have_setattr(void)
{
        static int known = -1;
        if (known < 0)
                known = syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno != ENOSYS &&
                        errno != EPERM;
        return known;
}

int attach_at(int mfd, int rootfd, const char *path, bool dir, roost_error *e)
{
        _cleanup_close_ int t = open_in_root(rootfd, path, dir, true);
        if (t < 0)
                return roost_error_set(e, t, "creating the mount point %s", path);
        if (move_mount(mfd, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return roost_error_set(e, -errno, "mounting on %s", path);
        return 0;
}

/* The lowers, top first: each by "lowerdir+" (Linux 6.8), which takes a
 * path as it is; older kernels take one "lowerdir" split on ':', with ':',
 * backslash and ',' escaped. */
static int overlay_lowers(int fsfd, char *const *lowers, size_t n)
{
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[0], 0) == 0) {
                for (size_t i = 1; i < n; i++)
                        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
                                return -errno;
                return 0;
        }
        size_t size = 1;
        for (size_t i = 0; i < n; i++)
                size += 2 * strlen(lowers[i]) + 1;
        _cleanup_free_ char *esc = malloc(size);
        if (!esc)
                return -ENOMEM;
        char *o = esc;
        for (size_t i = 0; i < n; i++) {
                if (i)
                        *o++ = ':';
                for (const char *p = lowers[i]; *p; p++) {
                        if (*p == ':' || *p == '\\' || *p == ',')
                                *o++ = '\\';
                        *o++ = *p;
                }
        }
        *o = 0;
        return fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", esc, 0) < 0 ? -errno : 0;
}

/* The lowers as overlayfs's classic option spells them, for --explain. */
static void explain_overlay(const struct run_state *st, bool upper, const char *why)
{
        char opts[4 * PATH_MAX];
        size_t n = (size_t)snprintf(opts, sizeof(opts), "lowerdir=");
        for (size_t i = 0; i < st->n_lowers && n < sizeof(opts); i++)
                n += (size_t)snprintf(opts + n, sizeof(opts) - n, "%s%s", i ? ":" : "", st->lowers[i]);
        if (upper && n < sizeof(opts))
                n += (size_t)snprintf(opts + n, sizeof(opts) - n, ",upperdir=%s,workdir=%s", st->upper,
                                      st->work);
        if (st->userns && n < sizeof(opts))
                snprintf(opts + n, sizeof(opts) - n, ",userxattr");
        explain_fs("overlay", opts, MOUNT_ATTR_NODEV | (upper ? 0 : MOUNT_ATTR_RDONLY), st->root_mnt, why);
}

int mount_root(const struct run_state *st, roost_error *e)
{
        _cleanup_close_ int mfd = -1;
        bool read_only = st->c->overlay == LAUNCH_OVERLAY_READ_ONLY && !st->ro_layer;
        int r;

        if (read_only && st->n_lowers == 1) {
                if ((r = bind_tree(AT_FDCWD, st->lowers[0], false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, &mfd,
                                   e)) < 0)
                        return r;
                if (explaining())
                        explain_bind(st->lowers[0], 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, st->root_mnt,
                                     "--read-only: the tree itself is the root, and nothing may write it");
        } else {
                _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
                if (fsfd < 0)
                        return roost_error_set(e, -errno, "mounting the overlay (is overlayfs available?)");
                if ((r = overlay_lowers(fsfd, st->lowers, st->n_lowers)) < 0)
                        return fs_error(fsfd, r, "the overlay's lower layers", e);
                /* --read-only over several lowers: an overlay with no
                 * upper layer, which overlayfs mounts read-only. */
                if (!read_only && (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", st->upper, 0) < 0 ||
                                   fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", st->work, 0) < 0))
                        return fs_error(fsfd, -errno, "the overlay's upper layer", e);
                /* In a user namespace trusted.* xattrs are out of reach:
                 * overlayfs keeps its bookkeeping in user.* instead (and
                 * reads the lowers' opaque marks and whiteouts there). */
                if (st->userns && fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
                        return fs_error(fsfd, -errno, "the overlay", e);
                if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                        return fs_error(fsfd, -errno, "the overlay", e);
                /* The stored tree never provides device nodes. */
                unsigned attrs = MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
                mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
                if (mfd < 0)
                        return fs_error(fsfd, -errno, "the overlay", e);
                if (explaining())
                        explain_overlay(st, !read_only,
                                        read_only ? "--read-only over several lowers: their overlay with no "
                                                    "upper layer, which nothing may write"
                                        : st->ro_layer
                                                ? "--read-only, but the tree lacks a mount point (-v) or "
                                                  "the -w directory: they are made in a layer in the "
                                                  "scratch tmpfs, and the root is made read-only after"
                                                : "the root: the lowers read-only below, top first; writes go "
                                                  "to the upper layer (no lower is ever changed)");
        }
        if (move_mount(mfd, "", AT_FDCWD, st->root_mnt, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return roost_error_set(e, -errno, "mounting the root on %s", st->root_mnt);
        return 0;
}

/* The API file systems go on real directories at the top of the tree. A
 * symlink there would be resolved inside the tree (so the host is safe
 * anyway), but would put /proc over /etc or sysfs over "/": refuse it. */
int check_top_dir(int rootfd, const char *name, roost_error *e)
{
        struct stat sb;
        if (fstatat(rootfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : roost_error_set(e, -errno, "checking the tree's /%s", name);
        if (!S_ISDIR(sb.st_mode)) {
                roost_error_set(e, 0, "the tree's /%s is not a directory: refusing to mount over it", name);
                return -ENOTDIR;
        }
        return 0;
}

int mount_proc(const struct run_state *st, int rootfd, roost_error *e)
{
        _cleanup_close_ int proc = -1;
        int r;

        if ((r = check_top_dir(rootfd, "proc", e)) < 0)
                return r;
        /* A fresh proc for the new PID namespace: it shows only ours. */
        if (explaining())
                explain_fs(
                        "proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV, "/proc",
                        "a fresh /proc for the new PID namespace: it lists only the container's processes");
        if ((r = fs_mount("proc", NULL, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV, &proc,
                          e)) < 0 ||
            (r = attach_at(proc, rootfd, "proc", true, e)) < 0)
                return r;
        return 0;
}

int mount_sys(const struct run_state *st, int rootfd, roost_error *e)
{
        _cleanup_close_ int sys = -1;
        int r;

        if ((r = check_top_dir(rootfd, "sys", e)) < 0)
                return r;
        /* sysfs may only be mounted by the owner of the network namespace;
         * a rootless container sharing the host's network binds the
         * host's instead, read-only all the way down. */
        const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV;
        r = fs_mount("sysfs", NULL, 0, attrs, &sys, e);
        if (r == 0 && explaining())
                explain_fs("sysfs", NULL, attrs, "/sys",
                           "read-only; it shows the network namespace of its mounter");
        if (r == -EPERM) {
                r = bind_tree(AT_FDCWD, "/sys", true, attrs, &sys, e);
                if (r == 0 && explaining())
                        explain_bind("/sys", 1, attrs, "/sys",
                                     "a new sysfs is refused here (not the network namespace's owner): "
                                     "the host's, read-only");
        }
        if (r < 0 || (r = attach_at(sys, rootfd, "sys", true, e)) < 0)
                return r;
        return 0;
}

/* /etc/hostname, /etc/hosts and, for --net host, /etc/resolv.conf: files
 * of ours bound over the tree's. A read-only tree without the file, or
 * with a symlink pointing nowhere, keeps its own: nothing to bind on. */
int mount_etc_files(const struct run_state *st, int rootfd, roost_error *e)
{
        static const char *const names[] = { "hostname", "hosts", "resolv.conf" };
        size_t n = st->c->net == LAUNCH_NET_HOST ? 3 : 2;
        bool ro = st->c->overlay == LAUNCH_OVERLAY_READ_ONLY;
        int r;

        for (size_t i = 0; i < n; i++) {
                char target[64];
                snprintf(target, sizeof(target), "etc/%s", names[i]);
                /* Not made in --read-only's layer either: whether a read-only
                 * tree gets these must not depend on a -v elsewhere. */
                _cleanup_close_ int t = open_in_root(rootfd, target, false, !ro);
                if (t < 0)
                        continue;
                struct stat sb;
                if (fstat(t, &sb) < 0 || !S_ISREG(sb.st_mode))
                        continue;
                /* By path: the store's fds belong to the host's mount
                 * namespace, whose mounts open_tree will not copy. */
                char src[PATH_MAX];
                snprintf(src, sizeof(src), "%s/%s", st->host_files, names[i]);
                _cleanup_close_ int mfd = -1;
                if ((r = bind_tree(AT_FDCWD, src, false, ro ? MOUNT_ATTR_RDONLY : 0, &mfd, e)) < 0)
                        return r;
                if (explaining()) {
                        char to[80];
                        snprintf(to, sizeof(to), "/%s", target);
                        explain_bind(src, 0, ro ? MOUNT_ATTR_RDONLY : 0, to,
                                     "launch's own file over the tree's");
                }
                if (move_mount(mfd, "", t, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return roost_error_set(e, -errno, "mounting /%s", target);
        }
        return 0;
}

int mount_volumes(const struct run_state *st, int rootfd, roost_error *e)
{
        for (size_t i = 0; i < st->c->n_volumes; i++) {
                const struct launch_volume *v = &st->c->volumes[i];
                _cleanup_close_ int mfd = -1;
                struct stat sb;
                int r;
                /* Resolved here, in the copy of the host's mounts: a tree
                 * opened before the clone would belong to the host's
                 * namespace, which open_tree refuses to copy. What it is
                 * comes from the copy itself, not from a second lookup. */
                if ((r = bind_tree(AT_FDCWD, v->host, true, 0, &mfd, e)) < 0)
                        return r;
                if (fstat(mfd, &sb) < 0)
                        return roost_error_set(e, -errno, "volume %s", v->host);
                /* nodev: the container may mknod (CAP_MKNOD), and not every
                 * launch has a device cgroup to refuse what it made (dev.c). A
                 * volume that is itself a device node (-v /dev/kvm:/dev/kvm,
                 * what docker's --device does) holds no other node: that one
                 * device is what the caller passed. It is bound read-only,
                 * which keeps the host node's mode and owner out of reach
                 * and leaves the device itself readable and writable.
                 * Kernels before 5.12 set no flags on a bind
                 * (docs/launch.md). */
                bool node = S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode);
                uint64_t attrs =
                        (v->read_only || node ? MOUNT_ATTR_RDONLY : 0) |
                        (st->c->sandbox.privileged || node || !mount_have_setattr() ? 0 : MOUNT_ATTR_NODEV);
                if ((r = mount_set_attrs(mfd, true, attrs, v->host, e)) < 0)
                        return r;
                if (explaining())
                        explain_bind(v->host, 1, attrs, v->container, "a volume (-v)");
                if ((r = attach_at(mfd, rootfd, v->container, S_ISDIR(sb.st_mode), NULL)) < 0)
                        return roost_error_set(e, r, "volume %s:%s", v->host, v->container);
        }
        return 0;
}

int mount_workdir(const struct run_state *st, int rootfd, roost_error *e)
{
        const char *cwd = st->c->cwd;
        if (!cwd)
                return 0;
        /* As docker and runc make it: root's, 0755, whoever -u is; after
         * the volumes, so that a -w inside one is made in it. The caller's
         * umask would make it 0700 and shut a -u user out. */
        EXPLAIN("openat2(\"%s\", RESOLVE_IN_ROOT), mkdirat(0755) where it is missing — -w: the working "
                "directory, made as docker makes one the image lacks",
                cwd);
        mode_t old = umask(022);
        int fd = open_in_root(rootfd, cwd, true, true);
        umask(old);
        if (fd < 0)
                return roost_error_set(e, fd, "working directory %s", cwd);
        close(fd);
        return 0;
}

int mount_root_seal(const struct run_state *st, roost_error *e)
{
        if (!st->ro_layer)
                return 0;
        /* Not recursive: the volumes, /proc, /sys and /dev below keep
         * their own flags. A command with CAP_SYS_ADMIN may undo it, but
         * its writes then land in the scratch layer, never in the tree. */
        EXPLAIN("mount_setattr(\"%s\", MOUNT_ATTR_RDONLY) — --read-only: the mount points made, the root "
                "becomes read-only",
                st->root_mnt);
        if (mount_have_setattr()) {
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(AT_FDCWD, st->root_mnt, 0, &a, sizeof(a)) < 0)
                        return roost_error_set(e, -errno, "making the root read-only");
        } else if (mount(NULL, st->root_mnt, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NODEV, NULL) < 0) {
                return roost_error_set(e, -errno, "making the root read-only");
        }
        return 0;
}

int mount_enter_root(const struct run_state *st, roost_error *e)
{
        EXPLAIN("chdir(\"%s\") — into the assembled root", st->root_mnt);
        if (chdir(st->root_mnt) < 0)
                return roost_error_set(e, -errno, "entering %s", st->root_mnt);
        if (st->c->chroot_only) {
                EXPLAIN("chroot(\".\"), chdir(\"/\") — --chroot: only this process's idea of \"/\" "
                        "changes; the host's root stays mounted and root inside can walk back out");
                /* The article's way, kept for teaching: root inside can
                 * chroot deeper and walk ".." back out (docs/launch.md). */
                if (chroot(".") < 0 || chdir("/") < 0)
                        return roost_error_set(e, -errno, "chroot");
                return 0;
        }
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching it (lazily: host processes still use it) leaves
         * nothing of the host reachable, whatever ".." tricks follow. */
        if (!getenv("ROOST_LAUNCH_NO_PIVOT") && syscall(SYS_pivot_root, ".", ".") == 0) {
                EXPLAIN("pivot_root(\".\", \".\") — the tree becomes the root of this mount namespace; "
                        "the old root is now stacked on top of it");
                EXPLAIN("umount2(\".\", MNT_DETACH) — detach the old root (the host's /): nothing of the "
                        "host is reachable any more");
                if (umount2(".", MNT_DETACH) < 0)
                        return roost_error_set(e, -errno, "detaching the old root");
                if (chdir("/") < 0)
                        return roost_error_set(e, -errno, "chdir /");
                return 0;
        }
        if (!getenv("ROOST_LAUNCH_NO_PIVOT") && errno != EINVAL)
                return roost_error_set(e, -errno, "pivot_root");
        /* The host's root is the initramfs, which cannot be pivoted away
         * from: move the tree over / and chroot into it, as LXC and
         * systemd do there. */
        if (st->c->notice)
                st->c->notice("pivot_root is not possible here (root on initramfs?): moving the tree over / "
                              "and using chroot instead");
        EXPLAIN("mount(\".\", \"/\", NULL, MS_MOVE), chroot(\".\") — pivot_root is refused here (root "
                "on initramfs?): the tree is moved over / instead");
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                return roost_error_set(e, -errno, "moving the root over /");
        if (chroot(".") < 0 || chdir("/") < 0)
                return roost_error_set(e, -errno, "chroot");
        return 0;
}
