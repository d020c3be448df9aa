/* The directories a launch needs in the store: a temporary (tmp/<pid>.<rnd>,
 * removed by us on exit, or by the next store_open once we are dead, even
 * after a SIGKILL) holding the mount point of the new root, the writable
 * layer of a discarded overlay and the files launch provides; or, for
 * --name, a kept layer under containers/NAME. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "common/util.h"
#include "launch/launch-private.h"

static int store_sub_path(store *s, const char *dir, const char *name, char **ret)
{
        _cleanup_free_ char *rel = NULL;
        if (asprintf(&rel, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return store_path(s, rel, ret);
}

/* The merged root takes its root directory's owner and mode from the upper
 * layer: give it the tree's, or non-root users inside could not walk "/". */
static int make_upper(int dirfd, const char *name, const struct stat *lower, bool *created)
{
        *created = false;
        if (mkdirat(dirfd, name, 0700) < 0) {
                if (errno == EEXIST)
                        return 0;
                return -errno;
        }
        *created = true;
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Without root the layer stays ours, which is root inside. */
        if (fchown(fd, lower->st_uid, lower->st_gid) < 0 && errno != EPERM)
                return -errno;
        if (fchmod(fd, lower->st_mode & 07777) < 0)
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

static int write_host_file(int dirfd, const char *name, const char *text)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0)
                return -errno;
        return write_all(fd, text, strlen(text));
}

/* /etc/hostname and /etc/hosts always; the host's resolv.conf (and hosts)
 * when the container shares the host's network. */
static int prepare_host_files(struct run_state *st, roost_error *e)
{
        const struct launch_config *c = st->c;
        _cleanup_free_ char *text = NULL, *hosts = NULL;
        int r;

        if (mkdirat(st->tmpfd, "etc", 0755) < 0)
                return roost_error_set(e, -errno, "creating %s/etc in the store", st->tmpname);
        st->host_files_fd = openat(st->tmpfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (st->host_files_fd < 0)
                return roost_error_set(e, -errno, "opening %s/etc", st->tmpname);
        if ((r = store_sub_path(c->store, st->tmpname, "etc", &st->host_files)) < 0)
                return roost_error_set(e, r, "store path");
        if (fchmod(st->host_files_fd, 0755) < 0)
                return roost_error_set(e, -errno, "chmod %s/etc", st->tmpname);
        if (asprintf(&text, "%s\n", c->hostname) < 0)
                return roost_error_set(e, -ENOMEM, "hostname");
        if ((r = write_host_file(st->host_files_fd, "hostname", text)) < 0)
                return roost_error_set(e, r, "writing the container's /etc/hostname");

        if (c->net == LAUNCH_NET_HOST) {
                hosts = read_host_file("/etc/hosts");
                _cleanup_free_ char *resolv = read_host_file("/etc/resolv.conf");
                if (!resolv && !(resolv = strdup("")))
                        return roost_error_set(e, -ENOMEM, "resolv.conf");
                if ((r = write_host_file(st->host_files_fd, "resolv.conf", resolv)) < 0)
                        return roost_error_set(e, r, "writing the container's /etc/resolv.conf");
        }
        free(text);
        text = NULL;
        if (asprintf(&text, "%s127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                     hosts ? hosts : "", c->hostname) < 0)
                return roost_error_set(e, -ENOMEM, "hosts");
        if (!hosts || !strstr(hosts, c->hostname))
                r = write_host_file(st->host_files_fd, "hosts", text);
        else
                r = write_host_file(st->host_files_fd, "hosts", hosts);
        if (r < 0)
                return roost_error_set(e, r, "writing the container's /etc/hosts");
        return 0;
}

static int prepare_named(struct run_state *st, const struct stat *lower, roost_error *e)
{
        store *s = st->c->store;
        int dfd = store_dirfd(s);
        _cleanup_free_ char *dir = NULL, *lock = NULL, *upper = NULL, *work = NULL;
        bool created;
        int r;

        if (asprintf(&dir, "containers/%s", st->c->name) < 0 || asprintf(&lock, "%s/lock", dir) < 0 ||
            asprintf(&upper, "%s/upper", dir) < 0 || asprintf(&work, "%s/work", dir) < 0)
                return roost_error_set(e, -ENOMEM, "container %s", st->c->name);
        if ((r = mkdir_at_p(dfd, "containers", 0700)) < 0 || (r = mkdir_at_p(dfd, dir, 0700)) < 0)
                return roost_error_set(e, r, "creating %s in the store", dir);
        st->named_lock = openat(dfd, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (st->named_lock < 0)
                return roost_error_set(e, -errno, "opening %s", lock);
        /* overlayfs refuses two mounts sharing one upper layer; say why first. */
        if (flock(st->named_lock, LOCK_EX | LOCK_NB) < 0)
                return roost_error_set(e, errno == EWOULDBLOCK ? -EBUSY : -errno,
                                       "container %s is in use by another launch", st->c->name);
        if ((r = make_upper(dfd, upper, lower, &created)) < 0 || (r = mkdir_at_p(dfd, work, 0700)) < 0)
                return roost_error_set(e, r, "creating the layer of container %s", st->c->name);
        if ((r = store_path(s, upper, &st->upper)) < 0 || (r = store_path(s, work, &st->work)) < 0)
                return roost_error_set(e, r, "container %s", st->c->name);
        return 0;
}

int overlay_prepare(struct run_state *st, roost_error *e)
{
        const struct launch_config *c = st->c;
        store *s = c->store;
        struct stat lst;
        bool created;
        int r;

        if ((r = store_tmpdir(s, &st->tmpname, &st->tmpfd)) < 0)
                return roost_error_set(e, r, "creating a temporary directory in the store %s", store_root(s));
        if (mkdirat(st->tmpfd, "root", 0755) < 0)
                return roost_error_set(e, -errno, "creating the mount point in %s", st->tmpname);
        if ((r = store_sub_path(s, st->tmpname, "root", &st->root_mnt)) < 0)
                return roost_error_set(e, r, "store path");
        if (!(st->lower = realpath(c->rootfs, NULL)))
                return roost_error_set(e, -errno, "root filesystem %s", c->rootfs);
        if (stat(st->lower, &lst) < 0)
                return roost_error_set(e, -errno, "root filesystem %s", c->rootfs);
        if (!S_ISDIR(lst.st_mode))
                return roost_error_set(e, -ENOTDIR, "root filesystem %s", c->rootfs);

        switch (c->overlay) {
        case LAUNCH_OVERLAY_DISCARD:
                if ((r = make_upper(st->tmpfd, "upper", &lst, &created)) < 0 ||
                    (mkdirat(st->tmpfd, "work", 0700) < 0 && (r = -errno)))
                        return roost_error_set(e, r, "creating the writable layer in %s", st->tmpname);
                if ((r = store_sub_path(s, st->tmpname, "upper", &st->upper)) < 0 ||
                    (r = store_sub_path(s, st->tmpname, "work", &st->work)) < 0)
                        return roost_error_set(e, r, "store path");
                break;
        case LAUNCH_OVERLAY_NAMED:
                if ((r = prepare_named(st, &lst, e)) < 0)
                        return r;
                break;
        case LAUNCH_OVERLAY_READ_ONLY:
                break;
        }
        return prepare_host_files(st, e);
}

void overlay_done(struct run_state *st)
{
        if (st->host_files_fd >= 0)
                close(st->host_files_fd);
        /* The container's mount namespace died with its last process, so
         * nothing is mounted here any more: a plain removal does. */
        if (st->tmpname)
                rm_rf_at(store_dirfd(st->c->store), st->tmpname);
        if (st->tmpfd >= 0)
                close(st->tmpfd);
        if (st->named_lock >= 0)
                close(st->named_lock);
        free(st->tmpname);
        free(st->root_mnt);
        free(st->host_files);
        free(st->lower);
        free(st->upper);
        free(st->work);
}
