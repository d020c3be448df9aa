/* Where the container's writable layer and launch's own files live.
 *
 * The discarded layer lives in a tmpfs that the container's mount namespace
 * lays over the scratch directory (the store's tmp/): nothing is written to disk, nothing
 * is left to delete on exit, and a SIGKILL of launch leaves nothing behind,
 * since the kernel frees the tmpfs with the namespace. The host never sees
 * it (the namespace is private). Its pages belong to no process, so the
 * OOM killer cannot find them: the tmpfs has a size and an inode count
 * (--layer-size), or it could take half of the host's RAM. --name keeps
 * its layer on disk, in the upper and work directories its caller gives
 * (the store's containers/NAME, launch/container.c). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <linux/capability.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/mount-util.h"
#include "launch/sandbox.h"

enum {
        LAYER_SIZE_MAX_DEFAULT = 1 << 30,
        LAYER_SIZE_MIN = 1 << 20,
        /* mke2fs's default ratio: as many files as ext4 would hold on a
         * disk of that size, and at most about 1/16 more memory than the
         * size in the kernel's own (an empty file costs about 1 KiB). */
        LAYER_BYTES_PER_INODE = 16384,
};

uint64_t launch_layer_size_default(void)
{
        struct sysinfo si;
        if (sysinfo(&si) < 0)
                return LAYER_SIZE_MAX_DEFAULT;
        uint64_t quarter = (uint64_t)si.totalram * si.mem_unit / 4 & ~(uint64_t)(LAYER_SIZE_MIN - 1);
        if (quarter > LAYER_SIZE_MAX_DEFAULT)
                return LAYER_SIZE_MAX_DEFAULT;
        return quarter < LAYER_SIZE_MIN ? LAYER_SIZE_MIN : quarter;
}

int launch_layer_size_parse(const char *s, uint64_t *ret)
{
        uint64_t v;
        /* Below a megabyte the scratch's own files would not fit. No 0:
         * to tmpfs that means unbounded. */
        if (cgroup_parse_size(s, &v) < 0 || v < LAYER_SIZE_MIN)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* SIZE as tmpfs takes it, in the largest unit that divides it. */
static void spell_size(char *buf, size_t n, uint64_t size)
{
        static const char units[] = "tgmk";
        for (int i = 0; units[i]; i++) {
                uint64_t u = UINT64_C(1) << (10 * (4 - i));
                if (size % u == 0) {
                        snprintf(buf, n, "%llu%c", (unsigned long long)(size / u), units[i]);
                        return;
                }
        }
        snprintf(buf, n, "%llu", (unsigned long long)size);
}

/* The merged root takes its root directory's owner and mode from the upper
 * layer: give it the tree's, or non-root users inside could not walk "/". */
static int make_upper(const struct run_state *st, int dirfd, const char *name)
{
        if (mkdirat(dirfd, name, 0700) < 0) {
                if (errno == EEXIST)
                        return 0;
                return -errno;
        }
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Without root the layer stays ours, which is root inside, and the
         * host's ids of the tree are not mapped there. */
        if (!st->rootless && fchown(fd, st->lower_uid, st->lower_gid) < 0)
                return -errno;
        if (fchmod(fd, st->lower_mode & 07777) < 0)
                return -errno;
        return 0;
}

/* The host's own files may be symlinks (systemd-resolved): follow them. */
static char *read_host_file(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *buf = calloc(1, 65536);
        if (!buf)
                return NULL;
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = 0;
        return buf;
}

static int write_file(int dirfd, const char *name, const char *text)
{
        _cleanup_close_ int fd =
                openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

/* /etc/hostname and /etc/hosts always; the host's resolv.conf (and hosts)
 * when the container shares the host's network. */
static int write_host_files(const struct run_state *st, int dirfd, roost_error *e)
{
        const struct launch_config *c = st->c;
        _cleanup_free_ char *hostname = NULL, *hosts = NULL, *own = NULL, *resolv = NULL;
        int r;

        if (asprintf(&hostname, "%s\n", c->hostname) < 0)
                return roost_error_set(e, -ENOMEM, "hostname");
        if ((r = write_file(dirfd, "hostname", hostname)) < 0)
                return roost_error_set(e, r, "writing the container's /etc/hostname");
        if (c->net == LAUNCH_NET_HOST) {
                hosts = read_host_file("/etc/hosts");
                if (!(resolv = read_host_file("/etc/resolv.conf")) && !(resolv = strdup("")))
                        return roost_error_set(e, -ENOMEM, "resolv.conf");
                if ((r = write_file(dirfd, "resolv.conf", resolv)) < 0)
                        return roost_error_set(e, r, "writing the container's /etc/resolv.conf");
        }
        if (asprintf(&own, "%s127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                     hosts ? hosts : "", c->hostname) < 0)
                return roost_error_set(e, -ENOMEM, "hosts");
        if ((r = write_file(dirfd, "hosts", own)) < 0)
                return roost_error_set(e, r, "writing the container's /etc/hosts");
        return 0;
}

/* The kept layer of a named container: its directories are the caller's
 * (launch/container.c holds its lock and checked its origin). */
static int prepare_named(struct run_state *st, roost_error *e)
{
        const struct launch_config *c = st->c;
        int r;

        if (!c->upper || !c->work)
                return roost_error_set(e, -EINVAL, "container %s: no upper and work directories", c->name);
        if ((r = make_upper(st, AT_FDCWD, c->upper)) < 0 || (r = mkdir_at_p(AT_FDCWD, c->work, 0700)) < 0)
                return roost_error_set(e, r, "creating the layer of container %s", c->name);
        if (!(st->upper = strdup(c->upper)) || !(st->work = strdup(c->work)))
                return roost_error_set(e, -ENOMEM, "container %s", c->name);
        return 0;
}

static bool path_below(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || !path[n]);
}

int overlay_prepare(struct run_state *st, roost_error *e)
{
        const struct launch_config *c = st->c;
        struct stat lst;

        if (c->n_lowers == 0)
                return roost_error_set(e, -EINVAL, "no root filesystem to run in");
        if (!c->scratch || !(st->scratch = realpath(c->scratch, NULL)))
                return roost_error_set(e, c->scratch ? -errno : -EINVAL, "the scratch directory %s",
                                       c->scratch ? c->scratch : "(none)");
        if (asprintf(&st->root_mnt, "%s/root", st->scratch) < 0 ||
            asprintf(&st->host_files, "%s/etc", st->scratch) < 0 ||
            !(st->lowers = calloc(c->n_lowers, sizeof(char *))))
                return roost_error_set(e, -ENOMEM, "scratch paths");
        for (size_t i = 0; i < c->n_lowers; i++, st->n_lowers++) {
                const char *lower = c->lowers[i];
                if (!(st->lowers[i] = realpath(lower, NULL)) || stat(st->lowers[i], &lst) < 0)
                        return roost_error_set(e, -errno, "root filesystem %s", lower);
                if (!S_ISDIR(lst.st_mode))
                        return roost_error_set(e, -ENOTDIR, "root filesystem %s", lower);
                if (path_below(st->lowers[i], st->scratch))
                        return roost_error_set(e, -EINVAL,
                                               "root filesystem %s: inside %s, which launch covers", lower,
                                               st->scratch);
                /* The merged root takes its owner and mode from the upper
                 * layer, which takes the top lower's. */
                if (i == 0) {
                        st->lower_uid = lst.st_uid;
                        st->lower_gid = lst.st_gid;
                        st->lower_mode = lst.st_mode;
                }
        }
        st->layer_size = c->layer_size ? c->layer_size : launch_layer_size_default();
        if (c->overlay == LAUNCH_OVERLAY_NAMED)
                return prepare_named(st, e);
        return 0;
}

/* Whether PATH is in the lowers' merged view, seen as overlayfs would see
 * it for its last component: the top lower that has it, or a whiteout
 * (a 0/0 character device) hiding it, decides. */
static int lowers_have(const struct run_state *st, const char *path)
{
        for (size_t i = 0; i < st->n_lowers; i++) {
                _cleanup_close_ int tree = open(st->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (tree < 0)
                        return -errno;
                _cleanup_close_ int fd = open_in_root(tree, path, false, false);
                struct stat sb;
                if (fd == -ENOENT || fd == -ENOTDIR)
                        continue;
                if (fd < 0)
                        return fd;
                if (fstat(fd, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == 0)
                        return 0;
                return 1;
        }
        return 0;
}

/* --read-only binds the tree itself (one lower) or mounts an overlay of
 * the lowers with no upper layer (several), where no mount point can be
 * made: a volume or a -w directory the tree lacks needs a layer to be
 * made in (made read-only once they are, mount_root_seal). So does a
 * command that may hold CAP_SYS_ADMIN (--privileged, --cap-add
 * SYS_ADMIN): it could remount a bind of the tree writable and write the
 * stored tree, where the layer only lets it write the scratch. Otherwise
 * nothing to pay. */
static bool read_only_needs_layer(const struct run_state *st)
{
        const struct launch_config *c = st->c;
        if (sandbox_caps(&c->sandbox) & (UINT64_C(1) << CAP_SYS_ADMIN))
                return true;
        for (size_t i = 0; i <= c->n_volumes; i++) {
                const char *path = i < c->n_volumes ? c->volumes[i].container : c->cwd;
                /* An error: mounting will say why. */
                if (path && lowers_have(st, path) == 0)
                        return true;
        }
        return false;
}

int overlay_scratch(struct run_state *st, roost_error *e)
{
        _cleanup_close_ int mfd = -1, dfd = -1, etc = -1;
        char size[32], inodes[32];
        int r;

        /* tmpfs counts xattrs (overlayfs's bookkeeping) against its
         * inodes too: nothing in it is left unbounded. */
        uint64_t n_inodes = st->layer_size / LAYER_BYTES_PER_INODE;
        if (n_inodes > ULONG_MAX / 1024) /* the kernel's own ceiling */
                n_inodes = ULONG_MAX / 1024;
        spell_size(size, sizeof(size), st->layer_size);
        snprintf(inodes, sizeof(inodes), "%llu", (unsigned long long)n_inodes);
        const struct fs_opt opts[] = { { "mode", "0700" }, { "size", size }, { "nr_inodes", inodes } };

        if ((r = fs_mount("tmpfs", opts, ELEMENTSOF(opts), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &mfd, e)) <
            0)
                return r;
        dfd = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return roost_error_set(e, -errno, "opening the scratch tmpfs");
        if (mkdirat(dfd, "root", 0755) < 0 || mkdirat(dfd, "etc", 0755) < 0)
                return roost_error_set(e, -errno, "creating directories in the scratch tmpfs");
        if ((etc = openat(dfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return roost_error_set(e, -errno, "opening the scratch tmpfs");
        if ((r = write_host_files(st, etc, e)) < 0)
                return r;
        if (st->c->overlay == LAUNCH_OVERLAY_READ_ONLY)
                st->ro_layer = read_only_needs_layer(st);
        if (st->c->overlay == LAUNCH_OVERLAY_DISCARD || st->ro_layer) {
                if ((r = make_upper(st, dfd, "upper")) < 0 ||
                    (mkdirat(dfd, "work", 0700) < 0 && (r = -errno)))
                        return roost_error_set(e, r, "creating the writable layer");
                if (asprintf(&st->upper, "%s/upper", st->scratch) < 0 ||
                    asprintf(&st->work, "%s/work", st->scratch) < 0)
                        return roost_error_set(e, -ENOMEM, "scratch");
        }
        if (explaining()) {
                char o[96];
                snprintf(o, sizeof(o), "mode=0700,size=%s,nr_inodes=%s", size, inodes);
                explain_fs("tmpfs", o, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, st->scratch,
                           "a scratch area only this mount namespace sees: /etc/hostname and /etc/hosts, "
                           "and the discarded writable layer, in memory: size and inodes bounded "
                           "(--layer-size); freed with the namespace");
        }
        if (move_mount(mfd, "", AT_FDCWD, st->scratch, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return roost_error_set(e, -errno, "mounting the scratch tmpfs on %s", st->scratch);
        /* The masked directories of /proc and /sys get a read-only copy of
         * an empty directory here, which no image can reach: a bind costs
         * about 20 us less than a new tmpfs. Copied now, while the scratch
         * is attached to our namespace (a copy of a detached mount is
         * refused), and attached after pivot_root, which it survives. */
        if (!st->c->sandbox.privileged && mkdirat(dfd, "empty", 0555) == 0) {
                int tree = sandbox_readonly_copy(dfd, "empty");
                st->empty_tree = tree >= 0 ? tree : -1; /* else a tmpfs does */
                if (tree >= 0)
                        EXPLAIN("mkdirat(scratch, \"empty\"), open_tree(OPEN_TREE_CLONE) made "
                                "MOUNT_ATTR_RDONLY — a detached read-only copy of an empty directory no "
                                "image can reach, to hide /proc and /sys directories with");
        }
        return 0;
}

void overlay_done(struct run_state *st)
{
        for (size_t i = 0; i < st->n_lowers; i++)
                free(st->lowers[i]);
        free(st->lowers);
        free(st->scratch);
        free(st->root_mnt);
        free(st->host_files);
        free(st->upper);
        free(st->work);
}
