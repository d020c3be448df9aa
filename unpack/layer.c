/* OCI layers: whiteouts and opaque directories (docs/unpack.md, "Layers
 * and whiteouts"). ".wh.NAME" deletes NAME of the layers below and
 * ".wh..wh..opq" hides what they put in its directory; neither marker is
 * ever made as a file. For overlayfs they become its own whiteouts (0/0
 * character devices) and opaque attribute; flattened, they remove what the
 * layers below left in the tree, never what this layer made (the spec:
 * whiteouts apply to lower layers only; containerd tracks the paths a
 * layer unpacked for this). */
#include "config.h"
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "unpack/unpack-private.h"

#define WH     ".wh."
#define WH_OPQ ".wh..wh..opq"
/* aufs kept its own state in ".wh..wh.*" names (".wh..wh.plnk"); docker
 * and containerd skip them, and so does this. */
#define WH_META ".wh..wh."

static const char *overlay_xattr(const struct writer *w, const char *what, char *buf, size_t len)
{
        snprintf(buf, len, "%s.overlay.%s", w->o && w->o->overlay_user_xattrs ? "user" : "trusted", what);
        return buf;
}

void layer_next(struct writer *w, bool below)
{
        deferred_free(&w->mine);
        free(w->mine_parent);
        w->mine_parent = NULL;
        w->below = w->whiteouts == UNPACK_WHITEOUT_APPLY && below;
}

/* PARTS[0..N) as one normalised path, into BUF of PATH_MAX + 1 bytes
 * (the writer split it from a name shorter than that). */
static size_t join(const char *const *parts, size_t n, char *buf)
{
        size_t len = 0;
        *buf = 0;
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(buf + len, PATH_MAX + 1 - len, "%s%s", i ? "/" : "", parts[i]);
        return len;
}

/* Remember PARTS[0..N) and its parents as this layer's. The parents are
 * the previous entry's most of the time: recorded once. */
static int record_mine(struct writer *w, const char **parts, size_t n)
{
        static const struct timespec none[2];
        char parent[PATH_MAX + 1];
        join(parts, n ? n - 1 : 0, parent);
        if (n > 1 && (!w->mine_parent || strcmp(parent, w->mine_parent) != 0)) {
                for (size_t i = 1; i < n; i++)
                        if (deferred_put(&w->mine, parts, i, 0, none) < 0)
                                return writer_fail(w, -ENOMEM, "recording the layer's entries");
                free(w->mine_parent);
                if (!(w->mine_parent = strdup(parent)))
                        return writer_fail(w, -ENOMEM, "recording the layer's entries");
        }
        if (n && deferred_put(&w->mine, parts, n, 0, none) < 0)
                return writer_fail(w, -ENOMEM, "recording the layer's entries");
        return 0;
}

static bool is_mine(struct writer *w, const char *path)
{
        return deferred_find(&w->mine, path) != NULL;
}

static int prune(struct writer *w, int dfd, const char *name, char *path, size_t len, unsigned depth);

/* Remove what the directory FD (closed here) at PATH holds, except this
 * layer's own entries. */
static int prune_children(struct writer *w, int fd, char *path, size_t len, unsigned depth)
{
        if (depth > UNPACK_MAX_DEPTH + 1) {
                close(fd);
                return writer_fail(w, -ROOST_EUNSAFE, "whiteout: the tree below is nested too deep");
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return writer_fail(w, -errno, "whiteout: reading a directory");
        }
        int r = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                size_t l = strlen(de->d_name), at = len + (len ? 1 : 0);
                if (at + l > PATH_MAX) {
                        r = writer_fail(w, -ROOST_EUNSAFE, "whiteout: a name below is longer than PATH_MAX");
                        break;
                }
                if (len)
                        path[len] = '/';
                memcpy(path + at, de->d_name, l + 1);
                r = prune(w, dirfd(d), de->d_name, path, at + l, depth);
                path[len] = 0;
                if (r < 0)
                        break;
        }
        if (r == 0 && errno)
                r = writer_fail(w, -errno, "whiteout: reading a directory");
        closedir(d);
        return r;
}

/* Remove NAME in DFD (PATH in the tree) and all it holds, except this
 * layer's entries and the directories leading to them. Never through a
 * symlink, never across a mount. */
static int prune(struct writer *w, int dfd, const char *name, char *path, size_t len, unsigned depth)
{
        struct statx stx;
        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
                return errno == ENOENT ? 0 : writer_fail(w, -errno, "whiteout: inspecting what it removes");
        if ((stx.stx_attributes_mask & stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ||
            makedev(stx.stx_dev_major, stx.stx_dev_minor) != w->root_dev)
                return writer_fail(w, -ROOST_EUNSAFE, "a whiteout would remove a mount point");
        bool mine = is_mine(w, path);
        if (!S_ISDIR(stx.stx_mode)) {
                if (!mine && unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                        return writer_fail(w, -errno, "whiteout: removing");
                return 0;
        }
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return writer_fail(w, -errno, "whiteout: opening a directory it removes");
        int r = prune_children(w, fd, path, len, depth + 1);
        if (r < 0 || mine)
                return r;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return writer_fail(w, -errno, "whiteout: removing a directory");
        /* Its metadata is no longer wanted should the path come back as
         * a parent a later entry makes. */
        struct deferred *gone = deferred_find(&w->dirs, path);
        if (gone)
                gone->removed = true;
        return 0;
}

int layer_set_opaque(struct writer *w, int fd)
{
        char name[64], what[128];
        overlay_xattr(w, "opaque", name, sizeof(name));
        if (fsetxattr(fd, name, "y", 1, 0) == 0)
                return 0;
        snprintf(what, sizeof(what), "setting %s", name);
        return writer_fail(w, -errno, what);
}

bool layer_is_whiteout(struct writer *w, int dfd, const char *name, const struct stat *st)
{
        if (w->whiteouts != UNPACK_WHITEOUT_OVERLAY)
                return false;
        if (S_ISCHR(st->st_mode))
                return st->st_rdev == makedev(0, 0);
        if (!w->xwhiteouts || !S_ISREG(st->st_mode) || st->st_size != 0)
                return false;
        char attr[64];
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        return fd >= 0 && fgetxattr(fd, overlay_xattr(w, "whiteout", attr, sizeof(attr)), NULL, 0) >= 0;
}

/* Where the kernel refuses a 0/0 node, overlayfs (6.7 and later) also
 * takes an empty file carrying overlay.whiteout in a directory marked as
 * holding such files: overlay.opaque "x" (6.8), overlay.whiteouts (6.7). */
static int make_xwhiteout(struct writer *w, int dfd, const char *name)
{
        char attr[64], value[2] = "";
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return writer_fail(w, -errno, "creating a whiteout file");
        if (fsetxattr(fd, overlay_xattr(w, "whiteout", attr, sizeof(attr)), "", 0, 0) < 0)
                return writer_fail(w, -errno, "marking a whiteout file");
        /* An opaque directory ("y") hides the layers below anyway. */
        if (fgetxattr(dfd, overlay_xattr(w, "opaque", attr, sizeof(attr)), value, 1) == 1 && *value == 'y')
                return 0;
        if (fsetxattr(dfd, attr, "x", 1, 0) < 0 ||
            fsetxattr(dfd, overlay_xattr(w, "whiteouts", attr, sizeof(attr)), "", 0, 0) < 0)
                return writer_fail(w, -errno, "marking a directory holding whiteout files");
        return 0;
}

static int overlay_whiteout(struct writer *w, int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                /* This layer's own NAME stays; a directory now replaces
                 * the one below rather than merging with it. */
                if (!S_ISDIR(st.st_mode))
                        return 0;
                _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return writer_fail(w, -errno, "opening the directory a whiteout names");
                return layer_set_opaque(w, fd);
        }
        if (errno != ENOENT)
                return writer_fail(w, -errno, "inspecting what a whiteout names");
        if (w->xwhiteouts)
                return make_xwhiteout(w, dfd, name);
        /* Allowed without privileges since Linux 5.8 (and by the device
         * cgroup): overlayfs makes its own whiteouts so. */
        if (mknodat(dfd, name, S_IFCHR | 0, makedev(0, 0)) == 0)
                return 0;
        if (errno != EPERM)
                return writer_fail(w, -errno, "creating a whiteout");
        w->xwhiteouts = true;
        writer_warn(w, "the kernel refused a 0/0 whiteout node; whiteouts are empty files marked "
                       "with overlay.whiteout instead (overlayfs 6.7 and later)");
        return make_xwhiteout(w, dfd, name);
}

/* The whiteout of TARGET in directory PARTS[0..N). */
static int whiteout(struct writer *w, const char **parts, size_t n, const char *target)
{
        /* Parents are made as for any entry: containerd does, and the
         * overlay shows them so. */
        int r = writer_enter(w, parts, n);
        if (r < 0)
                return r;
        int dfd = writer_top_fd(w);
        if (w->whiteouts == UNPACK_WHITEOUT_OVERLAY)
                return overlay_whiteout(w, dfd, target);
        if (!w->below)
                return 0; /* nothing below to remove */
        if ((r = record_mine(w, parts, n)) < 0)
                return r;
        char path[PATH_MAX + 1];
        if (writer_path(w, target, path) < 0)
                return writer_fail(w, -ROOST_EUNSAFE, "name longer than PATH_MAX");
        return prune(w, dfd, target, path, strlen(path), 0);
}

/* ".wh..wh..opq" in directory PARTS[0..N). */
static int opaque(struct writer *w, const char **parts, size_t n)
{
        int r = writer_enter(w, parts, n);
        if (r < 0)
                return r;
        int dfd = writer_top_fd(w);
        if (w->whiteouts == UNPACK_WHITEOUT_OVERLAY)
                return layer_set_opaque(w, dfd);
        if (!w->below)
                return 0;
        if ((r = record_mine(w, parts, n)) < 0)
                return r;
        char path[PATH_MAX + 1];
        size_t len = join(parts, n, path);
        /* A description of its own: a dup would share the stack's (or the
         * caller's) directory offset. */
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return writer_fail(w, -errno, "opaque directory: opening it");
        return prune_children(w, fd, path, len, 1);
}

int layer_clear_dir(struct writer *w, int dfd, const char *name)
{
        if (!w->below)
                return 0;
        char path[PATH_MAX + 1];
        if (writer_path(w, name, path) < 0)
                return writer_fail(w, -ROOST_EUNSAFE, "name longer than PATH_MAX");
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return writer_fail(w, -errno, "opening the directory it replaces");
        int r = prune_children(w, fd, path, strlen(path), 1);
        if (r < 0)
                return r;
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
                return errno == ENOTEMPTY || errno == EEXIST ? 0
                                                             : writer_fail(w, -errno, "replacing existing entry");
        struct deferred *gone = deferred_find(&w->dirs, path);
        if (gone)
                gone->removed = true;
        return 1;
}

/* Over layers below, a hardlink may only name this layer's own entries:
 * in an overlay the target of another layer is not even in this tree. */
static int check_hardlink(struct writer *w, const char *target)
{
        char buf[PATH_MAX + 1], path[PATH_MAX + 1];
        const char *parts[UNPACK_MAX_DEPTH], *why;
        if (strlen(target) >= sizeof(buf))
                return 0; /* make_hardlink refuses it */
        strcpy(buf, target);
        int n = unpack_path_split(buf, parts, ELEMENTSOF(parts), &why);
        if (n <= 0)
                return 0;
        join(parts, (size_t)n, path);
        if (is_mine(w, path))
                return 0;
        char what[PATH_MAX + 128];
        snprintf(what, sizeof(what),
                 "hardlink target '" SHOWN "' is not in this layer before it (a layer's hardlinks may not "
                 "point into the layers below)",
                 SHOW(target));
        return writer_fail(w, -ROOST_EARCHIVE, what);
}

int layer_entry(struct writer *w, const char **parts, size_t n, struct archive_entry *ent,
                const char *hardlink)
{
        for (size_t i = 0; i + 1 < n; i++)
                if (strncmp(parts[i], WH, strlen(WH)) == 0) {
                        if (strncmp(parts[i], WH_META, strlen(WH_META)) == 0)
                                return 0;
                        return writer_fail(w, -ROOST_EUNSAFE, "a whiteout marker used as a directory");
                }
        const char *base = parts[n - 1];
        /* The markers are only markers: whatever type, data or attributes
         * the entry carries is dropped with it. */
        if (strcmp(base, WH_OPQ) == 0)
                return opaque(w, parts, n - 1);
        if (strncmp(base, WH_META, strlen(WH_META)) == 0)
                return 0;
        if (strncmp(base, WH, strlen(WH)) == 0) {
                const char *target = base + strlen(WH);
                if (!*target || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
                        return writer_fail(w, -ROOST_EUNSAFE, "whiteout of '.', '..' or of no name");
                return whiteout(w, parts, n - 1, target);
        }
        /* overlayfs' own form of a whiteout, in a layer made by copying an
         * upper directory: the same thing. */
        if (!hardlink && archive_entry_filetype(ent) == AE_IFCHR && archive_entry_rdevmajor(ent) == 0 &&
            archive_entry_rdevminor(ent) == 0)
                return whiteout(w, parts, n - 1, base);
        if (!w->below)
                return 1;
        int r;
        if (hardlink && (r = check_hardlink(w, hardlink)) < 0)
                return r;
        return (r = record_mine(w, parts, n)) < 0 ? r : 1;
}
