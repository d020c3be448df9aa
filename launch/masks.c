/* Masked and read-only paths in /proc and /sys, as docker sets them up:
 * what would leak the host (kernel memory, keys, timers, firmware tables)
 * is hidden, what would change it (sysctls, sysrq, irq affinity) becomes
 * read-only.
 *
 * The runtime calls this with its cwd at the new root, whose contents come
 * from an image we do not trust. So /proc and /sys are opened O_NOFOLLOW
 * and checked to be a procfs and a sysfs (fstatfs), and every target is
 * one name below those fds, checked for its type and device without
 * following it: no symlink planted in the rootfs can turn "proc/sys" into
 * a host path. Where the kernel has the fd-based mount calls (open_tree,
 * mount_setattr, move_mount: 5.12 and later) they do the binds, relative
 * to the checked fds, and a read-only bind takes one attach instead of a
 * bind and a remount. Without them, each target is opened O_PATH and
 * mounted over through /proc/self/fd/N, so that the kernel mounts on
 * exactly the object the fd holds. Each system call counts here: the masks
 * are most of what the hardening costs a launch (docs/security.md). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

/* Linux 6.15; headers older than that lack the number. 467 where the
 * syscall tables are the generic ones (alpha and mips add offsets). */
#if !defined(__NR_open_tree_attr) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
#define __NR_open_tree_attr 467
#endif

enum { IN_PROC, IN_SYS };

bool sandbox_legacy_mounts;     /* tests: take the mount(2) path */
bool sandbox_no_open_tree_attr; /* tests, and set once it failed: as before 6.15 */
static bool took_legacy;        /* for --explain: some target went through mount(2) */

/* Masked first, then read-only, as docker lists them. */
static const struct target {
        int fs;
        bool readonly;
        const char *name;
} targets[] = {
        { IN_PROC, false, "acpi" },
        { IN_PROC, false, "asound" },
        { IN_PROC, false, "kcore" },
        { IN_PROC, false, "keys" },
        { IN_PROC, false, "latency_stats" },
        { IN_PROC, false, "timer_list" },
        { IN_PROC, false, "timer_stats" },
        { IN_PROC, false, "sched_debug" },
        { IN_PROC, false, "scsi" },
        { IN_SYS, false, "firmware" },
        { IN_PROC, true, "bus" },
        { IN_PROC, true, "fs" },
        { IN_PROC, true, "irq" },
        { IN_PROC, true, "sys" },
        { IN_PROC, true, "sysrq-trigger" },
};

static const char *const fs_names[] = { "/proc", "/sys" };

/* The per-mount flags a remount must repeat: inside a user namespace the
 * kernel refuses a remount that would clear a flag it locked. */
static unsigned long mount_flags_of(int fd)
{
        struct statvfs sv;
        if (fstatvfs(fd, &sv) < 0)
                return 0;
        return sv.f_flag &
               (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
}

/* The container's procfs, checked below, spells each fd. */
static void fd_path(int fd, char buf[static 32])
{
        snprintf(buf, 32, "proc/self/fd/%d", fd);
}

static int open_fs(int dirfd, const char *name, long magic, int *ret)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct statfs sf;
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sf) < 0)
                return -errno;
        if (sf.f_type != magic)
                return -ROOST_EUNSAFE;
        *ret = TAKE_FD(fd);
        return 0;
}

static int check_type(const struct stat *st, dev_t dev)
{
        if ((!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)) || st->st_dev != dev)
                return -ROOST_EUNSAFE;
        return 0;
}

/* NAME below DIRFD, not followed: a directory or a regular file, on DEV,
 * the checked procfs or sysfs DIRFD is on (nothing mounted over it). */
static int check_target(int dirfd, const char *name, dev_t dev, struct stat *st)
{
        if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return check_type(st, dev);
}

/* The same, opened O_PATH for the mount(2) path. */
static int open_target(int dirfd, const char *name, dev_t dev, struct stat *st)
{
        int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fstat(fd, st) < 0 ? -errno : check_type(st, dev);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Attach a copy of the mount at FROM over NAME below DIRFD. NAME is one
 * component of a checked procfs or sysfs, and move_mount follows no
 * symlink there (no MOVE_MOUNT_T_SYMLINKS): the kernel mounts on exactly
 * what check_target saw, in a file system no image controls. -ENOSYS: a
 * kernel without open_tree and move_mount. */
static int bind_at(int from, int dirfd, const char *name)
{
        _cleanup_close_ int tree = open_tree(from, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0 || move_mount(tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* An empty read-only tmpfs over NAME below DIRFD: the directory stays
 * (programs that list it see nothing) but shows nothing of the host. Made
 * detached and attached by fd: mount(2) would need a /proc/self/fd path,
 * whose first walk through a fresh procfs costs more than the mount.
 * Returns the attached mount's fd, which the other directories share (a
 * bind costs less than a new superblock); -ENOSYS: no fsopen. */
static int empty_tmpfs_at(int dirfd, const char *name)
{
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        _cleanup_close_ int mfd =
                fsmount(fs, FSMOUNT_CLOEXEC,
                        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mfd < 0 || move_mount(mfd, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return TAKE_FD(mfd);
}

/* The mount(2) path: each target opened O_PATH and mounted over through
 * /proc/self/fd/N, so that the kernel mounts on exactly the object the fd
 * holds. */
static int mask_legacy(int dirfd, dev_t dev, const char *name, int nullfd)
{
        struct stat st;
        char target[32], source[32];
        _cleanup_close_ int fd = open_target(dirfd, name, dev, &st);
        if (fd < 0)
                return fd;
        took_legacy = true;
        fd_path(fd, target);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          "mode=0555") < 0)
                        return -errno;
                return 0;
        }
        fd_path(nullfd, source);
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                return -errno;
        /* Read-only, as open_dev_null's copy is: the node is the host's.
         * A fresh lookup crosses onto the bind, the one to remount. */
        _cleanup_close_ int top = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return -errno;
        if (fstat(top, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return -ROOST_EUNSAFE;
        fd_path(top, target);
        unsigned long flags = mount_flags_of(top) | MS_RDONLY | MS_NOSUID | MS_NOEXEC;
        if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
                return -errno;
        return 0;
}

/* What hides the masked directories: the first one gets the caller's
 * empty tree or a new tmpfs, the others a copy of whichever it got. */
struct empty_dirs {
        int tree;   /* the caller's, attached by the first; not ours to close */
        int shared; /* the attached one the others copy (ours unless TREE), or -1 */
        /* The same for the files: open_dev_null's detached read-only copy
         * goes over the first (a detached mount cannot be copied before
         * Linux 6.15), the others get copies of it once attached. Without
         * one (no mount_setattr), every file takes the mount(2) path,
         * which remounts its bind read-only. */
        enum { NULL_PATH, NULL_DETACHED, NULL_ATTACHED } null;
};

/* Returns 1 when this kernel has no NAME: nothing to hide. */
static int mask_one(int dirfd, dev_t dev, const char *name, int nullfd, struct empty_dirs *ed)
{
        struct stat st;
        int r = check_target(dirfd, name, dev, &st);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return r;
        if (!S_ISDIR(st.st_mode)) {
                switch (ed->null) {
                case NULL_DETACHED:
                        if (move_mount(nullfd, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                                return -errno;
                        ed->null = NULL_ATTACHED;
                        return 0;
                case NULL_ATTACHED:
                        r = bind_at(nullfd, dirfd, name);
                        if (r != -ENOSYS)
                                return r;
                        break;
                case NULL_PATH:
                        break;
                }
        } else if (!sandbox_legacy_mounts) {
                if (ed->shared >= 0)
                        r = bind_at(ed->shared, dirfd, name);
                else if (ed->tree >= 0) {
                        /* After the move the fd stands for the attached copy. */
                        if (move_mount(ed->tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                                return -errno;
                        ed->shared = ed->tree;
                        return 0;
                } else {
                        r = empty_tmpfs_at(dirfd, name);
                        if (r >= 0) {
                                ed->shared = r;
                                return 0;
                        }
                }
                if (r != -ENOSYS)
                        return r;
        }
        return mask_legacy(dirfd, dev, name, nullfd);
}

static int readonly_legacy(int dirfd, dev_t dev, const char *name)
{
        struct stat st, st2;
        char target[32];
        _cleanup_close_ int fd = open_target(dirfd, name, dev, &st);
        if (fd == -ENOENT)
                return 1;
        if (fd < 0)
                return fd;
        took_legacy = true;
        fd_path(fd, target);
        if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        /* The fd still holds the mount below the new bind; a fresh lookup
         * crosses onto the bind, which is the one to make read-only. */
        _cleanup_close_ int top = open_target(dirfd, name, dev, &st2);
        if (top < 0)
                return top;
        if (st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                return -ROOST_EUNSAFE;
        fd_path(top, target);
        unsigned long flags = mount_flags_of(top) | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
                return -errno;
        return 0;
}

/* A copy of NAME below DIRFD and all below it, detached, with ATTRS set:
 * with open_tree_attr (6.15 and later) in one call, one system call less
 * than open_tree and mount_setattr. -ENOSYS: neither way (before 5.12). */
static int attr_copy(int dirfd, const char *name, uint64_t attrs)
{
        const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW;
        struct mount_attr a = { .attr_set = attrs };
#ifdef __NR_open_tree_attr
        if (!sandbox_no_open_tree_attr) {
                int tree = (int)syscall(__NR_open_tree_attr, dirfd, name, flags, &a, sizeof(a));
                if (tree >= 0 || errno == ENOENT)
                        return tree < 0 ? -errno : tree;
                /* ENOSYS before 6.15, but a seccomp policy written before
                 * the call existed may answer EPERM instead: the two calls
                 * below do the same, or fail for the real reason. */
                sandbox_no_open_tree_attr = true;
        }
#endif
        _cleanup_close_ int tree = open_tree(dirfd, name, flags);
        if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
                return -errno; /* ENOSYS from mount_setattr: 5.2 to 5.11 */
        return TAKE_FD(tree);
}

int sandbox_readonly_copy(int dirfd, const char *name)
{
        return attr_copy(dirfd, name,
                         MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

int sandbox_readonly_node(const char *path)
{
        return attr_copy(AT_FDCWD, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

/* Returns 1 when this kernel has no NAME. The copy is checked rather than
 * the name before it: fstat on the copy is no lookup, and it sees the same
 * object, which open_tree reached without following a symlink. */
static int readonly_one(int dirfd, dev_t dev, const char *name)
{
        if (sandbox_legacy_mounts)
                return readonly_legacy(dirfd, dev, name);
        /* Made read-only before it is attached: never writable in the
         * container, not even for a moment. */
        _cleanup_close_ int tree = sandbox_readonly_copy(dirfd, name);
        if (tree == -ENOENT)
                return 1;
        if (tree == -ENOSYS)
                return readonly_legacy(dirfd, dev, name);
        if (tree < 0)
                return tree;
        struct stat st;
        if (fstat(tree, &st) < 0)
                return -errno;
        int r = check_type(&st, dev);
        if (r < 0)
                return r;
        if (move_mount(tree, "", dirfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* The container's /dev/null, in launch's own /dev (never the image's):
 * the host's node, checked to be the character device 1:3. A read-only
 * copy of it where the kernel makes one, since what is bound over the
 * masked files is the host's own node: through a writable bind, root in
 * the container could chmod or chown the host's /dev/null (O_PATH for the
 * mount(2) path, which remounts each bind read-only). */
static int open_dev_null(bool *ret_copy)
{
        struct stat st;
        int fd = sandbox_legacy_mounts ? -ENOSYS : sandbox_readonly_node("/dev/null");
        *ret_copy = fd >= 0;
        if (fd == -ENOSYS && (fd = open("/dev/null", O_PATH | O_CLOEXEC)) < 0)
                fd = -errno;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3) {
                close(fd);
                return -ROOST_EUNSAFE;
        }
        return fd;
}

int sandbox_mask_paths(const struct sandbox_config *c, int empty_tree, roost_error *e)
{
        _cleanup_close_ int nullfd = -1;
        struct empty_dirs ed = { .tree = empty_tree, .shared = -1 };
        int dirfd[2] = { -1, -1 };
        dev_t dev[2] = { 0, 0 };
        struct stat st;
        char target[32];
        int r = 0;

        char shown[2][512] = { "", "" };
        size_t n_shown[2] = { 0, 0 };

        if (c->privileged) {
                EXPLAIN("masked and read-only paths of /proc and /sys: skipped (--privileged)");
                return 0;
        }
        took_legacy = sandbox_legacy_mounts;
        /* The cwd is the new root. */
        if ((r = open_fs(AT_FDCWD, "proc", PROC_SUPER_MAGIC, &dirfd[IN_PROC])) < 0)
                return roost_error_set(e, r, "checking /proc in the container is a procfs");
        /* No sysfs at /sys: nothing of the host's firmware is there to hide
         * (a rootless runtime may be unable to mount one). */
        if (open_fs(AT_FDCWD, "sys", SYSFS_MAGIC, &dirfd[IN_SYS]) < 0)
                dirfd[IN_SYS] = -1;
        for (int i = 0; i < 2; i++)
                if (dirfd[i] >= 0) {
                        if (fstat(dirfd[i], &st) < 0) {
                                r = roost_error_set(e, -errno, "checking %s", fs_names[i]);
                                goto out;
                        }
                        dev[i] = st.st_dev;
                }
        bool copy = false;
        if ((nullfd = open_dev_null(&copy)) < 0) {
                r = roost_error_set(e, nullfd, "checking /dev/null is the null device");
                goto out;
        }
        ed.null = copy ? NULL_DETACHED : NULL_PATH;

        /* setuid or device files in /proc do not exist, but a procfs that
         * allowed them would be one more thing to reason about. */
        unsigned long pflags = mount_flags_of(dirfd[IN_PROC]);
        unsigned long want = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if ((pflags & want) != want) {
                fd_path(dirfd[IN_PROC], target);
                if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | pflags | want, NULL) < 0) {
                        r = roost_error_set(e, -errno, "remounting /proc nosuid,nodev,noexec");
                        goto out;
                }
        }

        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
                const struct target *t = &targets[i];
                if (dirfd[t->fs] < 0)
                        continue;
                r = t->readonly ? readonly_one(dirfd[t->fs], dev[t->fs], t->name)
                                : mask_one(dirfd[t->fs], dev[t->fs], t->name, nullfd, &ed);
                if (r == 1) { /* this kernel has no such file */
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        r = roost_error_set(e, r, "%s %s/%s%s", t->readonly ? "making" : "masking",
                                            fs_names[t->fs], t->name, t->readonly ? " read-only" : "");
                        goto out;
                }
                size_t *n = &n_shown[t->readonly];
                if (explaining() && *n < sizeof(shown[0]))
                        *n += (size_t)snprintf(shown[t->readonly] + *n, sizeof(shown[0]) - *n, " %s/%s",
                                               fs_names[t->fs], t->name);
        }
        if (took_legacy) {
                EXPLAIN("masked and read-only paths, with mount(2) through /proc/self/fd/N of each checked "
                        "target (this kernel lacks the fd-based mount calls), so no symlink of the tree can "
                        "redirect them: an empty read-only tmpfs over each directory, /dev/null over each "
                        "file:%s; bound onto themselves and remounted read-only, nosuid, nodev, noexec:%s",
                        shown[0], shown[1]);
        } else {
                EXPLAIN("masked paths (%s over the first directory, shared by the others; /dev/null over "
                        "each file; attached with move_mount below the checked procfs and sysfs, so no "
                        "symlink of the tree can redirect them):%s",
                        empty_tree >= 0 ? "launch's read-only empty directory" : "an empty read-only tmpfs",
                        shown[0]);
                EXPLAIN("read-only paths (a copy made MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV|"
                        "MOUNT_ATTR_NOEXEC while detached: open_tree_attr, or open_tree + mount_setattr; "
                        "then move_mount):%s",
                        shown[1]);
        }
out:
        for (int i = 0; i < 2; i++)
                if (dirfd[i] >= 0)
                        close(dirfd[i]);
        if (ed.shared >= 0 && ed.shared != ed.tree)
                close(ed.shared);
        return r;
}
