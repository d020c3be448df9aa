/* The container's /dev: a small tmpfs with the few devices a program
 * expects, a devpts instance of its own (so its terminals are not the
 * host's), and /dev/shm. Nothing else of the host's devices is reachable.
 *
 * Every file system the container can write or that comes from the image
 * is nodev: a node made there with mknod, or shipped in the image, opens
 * no device. Where the device cgroup (launch/cgroup-devices.c) holds, as
 * docker's, it refuses every node but the few a container gets, also what
 * nodev cannot reach (a devtmpfs a container keeping CAP_SYS_ADMIN
 * mounts): /dev is then docker's, a tmpfs that honours nodes, with the six
 * devices made by mknod, which costs less than binding them. Without one
 * (rootless, a host where launch cannot make one) /dev is nodev too, and
 * the six devices are the host's own nodes, each bound read-only over an
 * empty file, as bubblewrap does. --privileged, which may open any device
 * anyway, makes them with mknod and has no list. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/capability.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/mount-util.h"

static const struct {
        const char *name;
        unsigned major, minor;
} devices[] = {
        { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

/* MKNOD: make the node on /dev's own tmpfs, which then honours nodes. */
static int add_device(const struct run_state *st, int devfd, const char *name, unsigned maj, unsigned min,
                      bool mknod, roost_error *e)
{
        if (mknod) {
                /* The caller clears the umask around these: 0666 as asked,
                 * without a chmod per node. */
                EXPLAIN("mknod(\"/dev/%s\", S_IFCHR|0666, %u:%u)", name, maj, min);
                if (mknodat(devfd, name, S_IFCHR | 0666, makedev(maj, min)) < 0)
                        return roost_error_set(e, -errno, "creating /dev/%s", name);
                return 0;
        }
        char host[32];
        snprintf(host, sizeof(host), "/dev/%s", name);
        if (explaining())
                explain_bind(host, 0,
                             mount_have_setattr() ? MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC
                                                  : 0,
                             host,
                             st->userns ? "mknod is refused in a user namespace: the host's node, bound"
                                          : "the host's node, bound: /dev is nodev, so that nothing made in "
                                            "it with mknod opens a device");
        /* Read-only: the node is the host's own, and through a writable
         * bind root in the container could chmod or chown it. Reading and
         * writing the device is no write to the file system. */
        struct stat sb;
        _cleanup_close_ int mfd = sandbox_readonly_node(host);
        /* Only rootless comes here without mount_setattr: its user may not
         * chmod the host's node anyway, so a writable bind is no worse. */
        if (mfd == -ENOSYS) {
                int r = bind_tree(AT_FDCWD, host, false, 0, &mfd, e);
                if (r < 0)
                        return r;
        }
        if (mfd < 0)
                return roost_error_set(e, mfd, "binding %s", host);
        if (fstat(mfd, &sb) < 0)
                return roost_error_set(e, -errno, "checking the host's %s", host);
        if (!S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(maj, min))
                return roost_error_set(e, -ROOST_EUNSAFE, "the host's %s is not the %u:%u character device",
                                       host, maj, min);
        int t = openat(devfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (t < 0)
                return roost_error_set(e, -errno, "creating /dev/%s", name);
        close(t);
        if (move_mount(mfd, "", devfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return roost_error_set(e, -errno, "binding /dev/%s", name);
        return 0;
}

int mount_dev(const struct run_state *st, int rootfd, roost_error *e)
{
        static const struct fs_opt dev_opts[] = { { "mode", "0755" }, { "size", "65536k" } };
        static const struct fs_opt shm_opts[] = { { "mode", "1777" }, { "size", "65536k" } };
        /* Group 5 is "tty" in Alpine and Debian; a user namespace with a
         * single mapped id has no such group. */
        static const struct fs_opt pts_opts[] = {
                { "newinstance", NULL },
                { "ptmxmode", "0666" },
                { "mode", "0620" },
                { "gid", "5" },
        };
        _cleanup_close_ int mfd = -1, devfd = -1, pts = -1, shm = -1;
        /* Real root makes its nodes with mknod where the device cgroup
         * refuses all others, with --privileged, and where the host's may
         * not be bound read-only (kernels before 5.12): /dev then honours
         * nodes, without a list only for a container that may make none
         * (--cap-drop MKNOD). */
        const bool mknod = !st->userns &&
                           (st->c->sandbox.privileged || st->devices_listed || !mount_have_setattr());
        /* There, CAP_MKNOD could make and open any device in /dev: refuse
         * rather than run a container that can reach the host's disks. */
        if (mknod && !st->c->sandbox.privileged && !st->devices_listed &&
            (sandbox_caps(&st->c->sandbox) & (UINT64_C(1) << CAP_MKNOD))) {
                roost_error_set(e, 0,
                                "this kernel cannot bind /dev's devices read-only (it lacks mount_setattr, "
                                "Linux 5.12): launch with --cap-drop MKNOD, or --privileged");
                return -ENOSYS;
        }
        const uint64_t dev_attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | (mknod ? 0 : MOUNT_ATTR_NODEV);
        int r;

        if ((r = check_top_dir(rootfd, "dev", e)) < 0)
                return r;
        if (explaining())
                explain_fs(
                        "tmpfs", "mode=0755,size=65536k", dev_attrs, "/dev",
                        "a small /dev of our own, filled while still detached; none of the host's devices");
        if ((r = fs_mount("tmpfs", dev_opts, ELEMENTSOF(dev_opts), dev_attrs, &mfd, e)) < 0)
                return r;
        /* Filled while still detached: nobody can see it half-made. */
        devfd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0)
                return roost_error_set(e, -errno, "opening the new /dev");
        /* No umask for the nodes (two calls instead of a chmod each); the
         * command gets the caller's back. */
        mode_t old_umask = umask(0);
        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if ((r = add_device(st, devfd, devices[i].name, devices[i].major, devices[i].minor, mknod,
                                    e)) < 0)
                        break;
        umask(old_umask);
        if (r < 0)
                return r;
        static const char *const links[][2] = {
                { "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },
                { "stdin", "/proc/self/fd/0" },  { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" }, { "core", "/proc/kcore" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], devfd, links[i][0]) < 0)
                        return roost_error_set(e, -errno, "creating /dev/%s", links[i][0]);
        if (mkdirat(devfd, "pts", 0755) < 0 || mkdirat(devfd, "shm", 01777) < 0)
                return roost_error_set(e, -errno, "creating /dev/pts and /dev/shm");
        if ((r = attach_at(mfd, rootfd, "dev", true, e)) < 0)
                return r;

        size_t n_pts = ELEMENTSOF(pts_opts) - (st->rootless ? 1 : 0);
        if (explaining()) {
                explain_fs("devpts",
                           st->rootless ? "newinstance,ptmxmode=0666,mode=0620"
                                        : "newinstance,ptmxmode=0666,mode=0620,gid=5",
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "/dev/pts",
                           "terminals of the container's own, not the host's");
                explain_fs("tmpfs", "mode=1777,size=65536k",
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, "/dev/shm",
                           "shared memory of the container's own");
        }
        if ((r = fs_mount("devpts", pts_opts, n_pts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, &pts, e)) < 0 ||
            (r = attach_at(pts, rootfd, "dev/pts", true, e)) < 0)
                return r;
        if ((r = fs_mount("tmpfs", shm_opts, ELEMENTSOF(shm_opts),
                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &shm, e)) < 0 ||
            (r = attach_at(shm, rootfd, "dev/shm", true, e)) < 0)
                return r;
        return 0;
}
