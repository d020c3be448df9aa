/* roost's own tar writer: every entry is created relative to a stack of
 * directory fds opened component by component with O_NOFOLLOW, so no name,
 * symlink or hardlink in the archive can reach outside the root (the model
 * is systemd's tar_x). Existing names are replaced, never written through.
 * libarchive only parses. */
#include "config.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define MAX_WARNINGS 20

void writer_warn(struct writer *w, const char *fmt, ...)
{
        if (!w->o || !w->o->warn)
                return;
        if (++w->warnings > MAX_WARNINGS) {
                if (w->warnings == MAX_WARNINGS + 1)
                        w->o->warn(w->o->userdata, "further warnings suppressed");
                return;
        }
        char buf[1024];
        int n = snprintf(buf, sizeof(buf), "%s: entry '" SHOWN "': ", w->input, SHOW(w->entry));
        va_list ap;
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof(buf))
                vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
        va_end(ap);
        w->o->warn(w->o->userdata, buf);
}

int writer_fail(struct writer *w, int r, const char *what)
{
        return roost_error_set(w->e, r, "%s: entry '" SHOWN "': %s", w->input, SHOW(w->entry), what);
}

static void stack_pop(struct writer *w, size_t to)
{
        while (w->depth > to) {
                w->depth--;
                close(w->stack[w->depth]);
                free(w->names[w->depth]);
        }
}

int writer_top_fd(const struct writer *w)
{
        return w->depth ? w->stack[w->depth - 1] : w->rootfd;
}

#define top_fd writer_top_fd

int writer_path(const struct writer *w, const char *name, char *buf)
{
        size_t len = 0;
        for (size_t i = 0; i <= w->depth; i++) {
                const char *c = i < w->depth ? w->names[i] : name;
                size_t l = strlen(c);
                if (len + l + 1 > PATH_MAX)
                        return -ROOST_EUNSAFE;
                if (len)
                        buf[len++] = '/';
                memcpy(buf + len, c, l);
                len += l;
        }
        buf[len] = 0;
        return 0;
}

/* Explain why opening component NAME below DFD as a directory failed. */
static int explain_open(struct writer *w, int dfd, const char *name, int err, const char *role)
{
        char what[PATH_MAX + 64];
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                snprintf(what, sizeof(what), "%s goes through symlink '%s'", role, name);
                return writer_fail(w, -ROOST_EUNSAFE, what);
        }
        if (err == ENOTDIR || err == ELOOP) {
                snprintf(what, sizeof(what), "%s: '%s' is not a directory", role, name);
                return writer_fail(w, -ROOST_EUNSAFE, what);
        }
        snprintf(what, sizeof(what), "%s: opening '%s'", role, name);
        return writer_fail(w, -err, what);
}

/* Reuses what the previous entry opened. */
int writer_enter(struct writer *w, const char **parts, size_t n)
{
        size_t keep = 0;
        while (keep < w->depth && keep < n && strcmp(w->names[keep], parts[keep]) == 0)
                keep++;
        stack_pop(w, keep);
        for (size_t i = keep; i < n; i++) {
                int dfd = top_fd(w);
                int fd = openat(dfd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(dfd, parts[i], 0755) < 0 && errno != EEXIST)
                                return writer_fail(w, -errno, "creating parent directory");
                        fd = openat(dfd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0)
                        return explain_open(w, dfd, parts[i], errno, "path");
                char *copy = strdup(parts[i]);
                if (!copy) {
                        close(fd);
                        return -ENOMEM;
                }
                w->stack[w->depth] = fd;
                w->names[w->depth++] = copy;
        }
        return 0;
}

/* Open the existing directory PARTS[0..N) below the root without following
 * any symlink and without the stack (hardlink targets, deferred metadata). */
static int open_beneath(struct writer *w, const char **parts, size_t n, const char *role, bool quiet)
{
        int fd = fcntl(w->rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int err = errno;
                if (next < 0) {
                        int r = quiet ? -err : explain_open(w, fd, parts[i], err, role);
                        close(fd);
                        return r;
                }
                close(fd);
                fd = next;
        }
        return fd;
}

/* Remove what an earlier entry left at NAME so that this one replaces it:
 * tar's "last entry wins", and never a write through an old symlink. */
static int clear_name(struct writer *w, int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : writer_fail(w, -errno, "inspecting existing entry");
        if (unlinkat(dfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0)
                return 0;
        if (errno == ENOTEMPTY || errno == EEXIST) {
                /* A layer's entry replaces a directory of the layers below
                 * whole, as overlayfs shows it. */
                int r = layer_clear_dir(w, dfd, name);
                if (r != 0)
                        return r < 0 ? r : 0;
                return writer_fail(w, -ROOST_EUNSAFE, "would replace a non-empty directory");
        }
        return writer_fail(w, -errno, "replacing existing entry");
}

static void entry_times(struct archive_entry *ent, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(ent);
        ts[1].tv_nsec = archive_entry_mtime_nsec(ent);
        if (archive_entry_atime_is_set(ent)) {
                ts[0].tv_sec = archive_entry_atime(ent);
                ts[0].tv_nsec = archive_entry_atime_nsec(ent);
        } else
                ts[0] = ts[1];
}

/* Attributes no archive sets, whoever unpacks it and wherever: trusted.*
 * belongs to the host's privileged services (overlayfs keeps its whiteouts,
 * opaque directories, redirects and metacopy there) and user.overlay.* to an
 * overlay mounted with userxattr. Once trees stack as layers of an overlay,
 * such an attribute in one layer would steer the overlay across the others. */
static bool xattr_refused(const char *name)
{
        return strncmp(name, "trusted.", 8) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

static void apply_xattrs(struct writer *w, int fd, struct archive_entry *ent)
{
        const char *name;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(ent);
        while (archive_entry_xattr_next(ent, &name, &value, &size) == ARCHIVE_OK) {
                if (xattr_refused(name)) {
                        w->no_xattrs++;
                        continue;
                }
                /* A file capability raises privileges at execve as setuid
                 * does. */
                if (!w->keep_setid && strcmp(name, "security.capability") == 0) {
                        w->no_caps++;
                        continue;
                }
                if (fsetxattr(fd, name, value, size, 0) < 0)
                        writer_warn(w, "extended attribute %s not restored: %s", name, strerror(errno));
        }
}

/* The entry's permission bits, without setuid and setgid unless they are
 * kept (a directory's setgid only says which group new files get). */
static mode_t entry_mode(struct writer *w, struct archive_entry *ent)
{
        mode_t mode = archive_entry_perm(ent) & 07777;
        if (w->keep_setid || !(mode & (S_ISUID | S_ISGID)) || archive_entry_filetype(ent) == AE_IFDIR)
                return mode;
        w->no_setid++;
        return mode & ~(mode_t)(S_ISUID | S_ISGID);
}

/* Owners, then mode (chown clears setuid), then extended attributes (file
 * capabilities are cleared by chown and by writes), then times. FD is an
 * open file or directory. */
static int apply_fd_meta(struct writer *w, int fd, struct archive_entry *ent, bool mode_and_times)
{
        if (w->privileged && fchown(fd, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent)) < 0) {
                /* EINVAL: an id the user namespace does not map. */
                if (errno != EINVAL && errno != EPERM)
                        return writer_fail(w, -errno, "setting owner");
                writer_warn(w, "owner %ld:%ld not set: %s", (long)archive_entry_uid(ent),
                            (long)archive_entry_gid(ent), strerror(errno));
        }
        if (mode_and_times) {
                mode_t mode = entry_mode(w, ent);
                /* Unprivileged: setgid on a group the caller is not in. */
                if (fchmod(fd, mode) < 0 && (errno != EPERM || fchmod(fd, mode & ~(mode_t)S_ISGID) < 0))
                        return writer_fail(w, -errno, "setting mode");
        }
        apply_xattrs(w, fd, ent);
        if (mode_and_times) {
                struct timespec ts[2];
                entry_times(ent, ts);
                if (futimens(fd, ts) < 0)
                        return writer_fail(w, -errno, "setting times");
        }
        return 0;
}

/* Metadata of a node that cannot be opened (symlink, device, fifo). The
 * temporary root is private to this process, so NAME is what we made. */
static int apply_name_meta(struct writer *w, int dfd, const char *name, struct archive_entry *ent,
                           bool is_link)
{
        if (w->privileged && fchownat(dfd, name, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent),
                                      AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != EINVAL && errno != EPERM)
                        return writer_fail(w, -errno, "setting owner");
                writer_warn(w, "owner not set: %s", strerror(errno));
        }
        if (!is_link && fchmodat(dfd, name, entry_mode(w, ent), 0) < 0)
                return writer_fail(w, -errno, "setting mode");
        struct timespec ts[2];
        entry_times(ent, ts);
        if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return writer_fail(w, -errno, "setting times");
        return 0;
}

/* The --max-size check, for bytes counted when the entry starts (its
 * declared size) or as they come (an entry that declares none). */
static int count_bytes(struct writer *w, uint64_t n)
{
        w->bytes += n;
        if (w->bytes <= w->max_bytes)
                return 0;
        char what[128];
        snprintf(what, sizeof(what), "more than %llu bytes of file data", (unsigned long long)w->max_bytes);
        return writer_fail(w, -ROOST_ELIMIT, what);
}

static int write_data(struct writer *w, struct archive *a, int fd, struct archive_entry *ent)
{
        /* A sparse map may place blocks anywhere: none may reach past the
         * size the entry declared, which --max-size already counted. */
        const int64_t declared = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
        int64_t pos = 0;
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        /* The decoder's reason (truncated gzip...) first. */
                        const char *fe = unpack_feed_error(w->feed);
                        return writer_fail(w, -ROOST_EARCHIVE, fe ?: archive_error_string(a) ?: "unreadable data");
                }
                if (off < 0 || (declared >= 0 && (off > declared || (uint64_t)(declared - off) < size)))
                        return writer_fail(w, -ROOST_EARCHIVE, "data beyond the size the entry declares");
                if (declared < 0 && (r = count_bytes(w, size)) < 0)
                        return r;
                if (off != pos && lseek(fd, off, SEEK_SET) < 0)
                        return writer_fail(w, -errno, "seeking");
                pos = off;
                r = write_all(fd, buf, size);
                if (r < 0)
                        return writer_fail(w, r, "writing");
                pos += (int64_t)size;
        }
        /* A sparse file may end in a hole. */
        if (archive_entry_size_is_set(ent) && pos < archive_entry_size(ent) &&
            ftruncate(fd, archive_entry_size(ent)) < 0)
                return writer_fail(w, -errno, "extending sparse file");
        return 0;
}

static int make_file(struct writer *w, struct archive *a, int dfd, const char *name,
                     struct archive_entry *ent)
{
        /* O_EXCL|O_NOFOLLOW: whatever sits at NAME (a symlink planted by an
         * earlier entry above all) is removed, never opened. */
        _cleanup_close_ int fd =
                openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                int r = clear_name(w, dfd, name);
                if (r < 0)
                        return r;
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0)
                return writer_fail(w, -errno, "creating file");
        int r = write_data(w, a, fd, ent);
        if (r < 0)
                return r;
        return apply_fd_meta(w, fd, ent, true);
}

static int defer_dir(struct writer *w, const char **parts, size_t n, struct archive_entry *ent)
{
        struct timespec times[2];
        entry_times(ent, times);
        return deferred_put(&w->dirs, parts, n, archive_entry_perm(ent) & 07777, times);
}

static int make_dir(struct writer *w, int dfd, const char **parts, size_t n, struct archive_entry *ent)
{
        const char *name = parts[n - 1];
        bool opaque = false;
        if (mkdirat(dfd, name, 0700) < 0) {
                struct stat st;
                if (errno != EEXIST)
                        return writer_fail(w, -errno, "creating directory");
                /* A second entry for a directory already made: its
                 * metadata replaces the first's (defer_dir). */
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                        /* A directory after its own whiteout in one layer:
                         * it replaces the one below rather than merging. */
                        opaque = layer_is_whiteout(w, dfd, name, &st);
                        int r = clear_name(w, dfd, name);
                        if (r < 0)
                                return r;
                        if (mkdirat(dfd, name, 0700) < 0)
                                return writer_fail(w, -errno, "creating directory");
                }
        }
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return writer_fail(w, -errno, "opening directory");
        int r;
        if (opaque && (r = layer_set_opaque(w, fd)) < 0)
                return r;
        r = apply_fd_meta(w, fd, ent, false);
        if (r < 0)
                return r;
        return defer_dir(w, parts, n, ent);
}

static int make_hardlink(struct writer *w, int dfd, const char *name, const char *target)
{
        char buf[PATH_MAX + 1];
        const char *parts[UNPACK_MAX_DEPTH], *why;
        char what[PATH_MAX + 64];
        if (strlen(target) >= sizeof(buf))
                return writer_fail(w, -ROOST_EUNSAFE, "hardlink target longer than PATH_MAX");
        strcpy(buf, target);
        int n = unpack_path_split(buf, parts, ELEMENTSOF(parts), &why);
        if (n < 0) {
                snprintf(what, sizeof(what), "hardlink target '" SHOWN "': %s", SHOW(target), why);
                return writer_fail(w, n, what);
        }
        if (n == 0)
                return writer_fail(w, -ROOST_EUNSAFE, "hardlink to the root directory");
        _cleanup_close_ int tfd = open_beneath(w, parts, (size_t)n - 1, "hardlink target", true);
        if (tfd < 0 && tfd != -ENOENT)
                return open_beneath(w, parts, (size_t)n - 1, "hardlink target", false);
        struct stat st;
        int err = tfd < 0 ? ENOENT : fstatat(tfd, parts[n - 1], &st, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
        if (err || layer_is_whiteout(w, tfd, parts[n - 1], &st)) {
                snprintf(what, sizeof(what),
                         w->whiteouts ? "hardlink target '" SHOWN "' is not in this layer before it (a layer's "
                                        "hardlinks may not point into the layers below)"
                                      : "hardlink target '" SHOWN "' is not in the archive before it",
                         SHOW(target));
                return writer_fail(w, err && err != ENOENT ? -err : -ROOST_EARCHIVE, what);
        }
        if (S_ISDIR(st.st_mode))
                return writer_fail(w, -ROOST_EUNSAFE, "hardlink to a directory");
        struct stat cur;
        if (fstatat(dfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == st.st_dev &&
            cur.st_ino == st.st_ino)
                return 0; /* already that file */
        /* Flags 0: a symlink target is linked itself, never followed. */
        if (linkat(tfd, parts[n - 1], dfd, name, 0) == 0)
                return 0;
        if (errno != EEXIST)
                return writer_fail(w, -errno, "creating hardlink");
        int r = clear_name(w, dfd, name);
        if (r < 0)
                return r;
        if (linkat(tfd, parts[n - 1], dfd, name, 0) < 0)
                return writer_fail(w, -errno, "creating hardlink");
        return 0;
}

static int make_node(struct writer *w, int dfd, const char *name, struct archive_entry *ent)
{
        mode_t type = archive_entry_filetype(ent);
        if (type == AE_IFSOCK) {
                writer_warn(w, "socket skipped");
                return 0;
        }
        if (type != AE_IFIFO && !w->keep_devices) {
                w->no_devices++;
                return 0;
        }
        if (type != AE_IFIFO && !w->privileged) {
                writer_warn(w, "device node skipped (creating one needs root)");
                return 0;
        }
        dev_t dev =
                type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(ent), archive_entry_rdevminor(ent));
        for (int attempt = 0;; attempt++) {
                if (mknodat(dfd, name, type | 0600, dev) == 0)
                        break;
                if (errno == EPERM && type != AE_IFIFO) {
                        /* root in a user namespace */
                        writer_warn(w, "device node skipped: %s", strerror(errno));
                        return 0;
                }
                if (errno != EEXIST || attempt)
                        return writer_fail(w, -errno, "creating special file");
                int r = clear_name(w, dfd, name);
                if (r < 0)
                        return r;
        }
        return apply_name_meta(w, dfd, name, ent, false);
}

static int make_symlink(struct writer *w, int dfd, const char *name, struct archive_entry *ent)
{
        /* The target is stored as it is, whatever it points at: nothing
         * here ever follows it. */
        const char *target = archive_entry_symlink(ent);
        if (!target || !*target)
                return writer_fail(w, -ROOST_EARCHIVE, "symlink without a target");
        if (symlinkat(target, dfd, name) < 0) {
                if (errno != EEXIST)
                        return writer_fail(w, -errno, "creating symlink");
                int r = clear_name(w, dfd, name);
                if (r < 0)
                        return r;
                if (symlinkat(target, dfd, name) < 0)
                        return writer_fail(w, -errno, "creating symlink");
        }
        return apply_name_meta(w, dfd, name, ent, true);
}

int writer_entry(struct writer *w, struct archive *a, struct archive_entry *ent)
{
        char buf[PATH_MAX + 1];
        const char *parts[UNPACK_MAX_DEPTH + 1], *why;
        const char *path = archive_entry_pathname(ent);
        if (!path)
                return roost_error_set(w->e, -ROOST_EARCHIVE,
                                       "%s: after entry '" SHOWN "': an entry without a usable name",
                                       w->input, SHOW(w->last));
        snprintf(w->cur, sizeof(w->cur), "%s", path);
        w->entry = w->cur;
        if (++w->entries > w->max_entries) {
                char what[128];
                snprintf(what, sizeof(what), "more than %llu entries", (unsigned long long)w->max_entries);
                return writer_fail(w, -ROOST_ELIMIT, what);
        }
        const char *hardlink = archive_entry_hardlink(ent);
        mode_t type = archive_entry_filetype(ent);
        if (!hardlink && type == AE_IFREG && archive_entry_size(ent) > 0) {
                int r = count_bytes(w, (uint64_t)archive_entry_size(ent));
                if (r < 0)
                        return r;
        }
        if (strlen(w->cur) >= PATH_MAX)
                return writer_fail(w, -ROOST_EUNSAFE, "name longer than PATH_MAX");
        strcpy(buf, w->cur);
        int n = unpack_path_split(buf, parts, ELEMENTSOF(parts), &why);
        if (n < 0)
                return writer_fail(w, n, why);
        if ((size_t)n > UNPACK_MAX_DEPTH)
                return writer_fail(w, -ROOST_EUNSAFE, "nested too deep");
        if (n == 0) {
                /* "./": the root itself, whose metadata it carries. Its
                 * owner waits for the end with its mode: given to another
                 * user now, the root would let that user in while the tree
                 * is being made. */
                if (hardlink || type != AE_IFDIR)
                        return writer_fail(w, -ROOST_EUNSAFE, "names the root but is not a directory");
                if (w->privileged) {
                        w->root_owned = true;
                        w->root_uid = (uid_t)archive_entry_uid(ent);
                        w->root_gid = (gid_t)archive_entry_gid(ent);
                }
                apply_xattrs(w, w->rootfd, ent);
                return defer_dir(w, parts, 0, ent);
        }
        int r;
        if (w->whiteouts != UNPACK_WHITEOUT_KEEP && (r = layer_entry(w, parts, (size_t)n, ent, hardlink)) <= 0)
                return r;
        r = writer_enter(w, parts, (size_t)n - 1);
        if (r < 0)
                return r;
        int dfd = top_fd(w);
        const char *name = parts[n - 1];
        if (hardlink)
                return make_hardlink(w, dfd, name, hardlink);
        switch (type) {
        case AE_IFREG:
                return make_file(w, a, dfd, name, ent);
        case AE_IFDIR:
                return make_dir(w, dfd, parts, (size_t)n, ent);
        case AE_IFLNK:
                return make_symlink(w, dfd, name, ent);
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
        case AE_IFSOCK:
                return make_node(w, dfd, name, ent);
        default:
                return writer_fail(w, -ROOST_EARCHIVE, "unknown entry type");
        }
}

/* Directories last, deepest first, so that a read-only parent never
 * stops its children being updated. */
int writer_finish_dirs(struct writer *w)
{
        w->entry = "";
        stack_pop(w, 0);
        deferred_order(&w->dirs);
        for (size_t i = 0; i < w->dirs.n; i++) {
                struct deferred *d = &w->dirs.v[i];
                char buf[PATH_MAX + 1];
                const char *parts[UNPACK_MAX_DEPTH + 1], *why;
                int n = 0;
                strcpy(buf, d->path);
                if (*buf && (n = unpack_path_split(buf, parts, ELEMENTSOF(parts), &why)) < 0)
                        return n;
                w->entry = *d->path ? d->path : "./";
                /* A later entry may have replaced the directory with something
                 * else; then there is nothing to update. */
                if (d->removed)
                        continue;
                _cleanup_close_ int fd = open_beneath(w, parts, (size_t)n, "directory", true);
                if (fd < 0)
                        continue;
                if (!*d->path && w->root_owned && fchown(fd, w->root_uid, w->root_gid) < 0) {
                        if (errno != EINVAL && errno != EPERM)
                                return writer_fail(w, -errno, "setting owner");
                        writer_warn(w, "owner %ld:%ld not set: %s", (long)w->root_uid, (long)w->root_gid,
                                    strerror(errno));
                }
                if (fchmod(fd, d->mode) < 0 && (errno != EPERM || fchmod(fd, d->mode & ~(mode_t)S_ISGID) < 0))
                        return writer_fail(w, -errno, "setting directory mode");
                if (futimens(fd, d->times) < 0)
                        return writer_fail(w, -errno, "setting directory times");
        }
        return 0;
}

/* Append "3 device nodes" (PRE, N and a noun) to the list in BUF. */
static void add_count(char *buf, size_t len, uint64_t n, const char *pre, const char *one, const char *many)
{
        size_t at = strlen(buf);
        if (n)
                snprintf(buf + at, len - at, "%s%s%llu %s", at ? ", " : "", pre, (unsigned long long)n,
                         n == 1 ? one : many);
}

/* What was left out on purpose, in one line each for the privileged files
 * and for the refused attributes, rather than one per entry. */
void writer_report(struct writer *w)
{
        if (!w->o || !w->o->warn)
                return;
        char what[256] = "", line[512];
        add_count(what, sizeof(what), w->no_devices, "", "device node", "device nodes");
        add_count(what, sizeof(what), w->no_setid, "the setuid/setgid bits of ", "file", "files");
        add_count(what, sizeof(what), w->no_caps, "", "file capability", "file capabilities");
        if (*what) {
                snprintf(line, sizeof(line),
                         "%s: not restored outside the store: %s (--keep-devices, --keep-setid restore them)",
                         w->input, what);
                w->o->warn(w->o->userdata, line);
        }
        if (w->no_xattrs) {
                snprintf(line, sizeof(line), "%s: %llu trusted.* or user.overlay.* attribute%s ignored",
                         w->input, (unsigned long long)w->no_xattrs, w->no_xattrs == 1 ? "" : "s");
                w->o->warn(w->o->userdata, line);
        }
}

void writer_done(struct writer *w)
{
        stack_pop(w, 0);
        deferred_free(&w->dirs);
        deferred_free(&w->mine);
        free(w->mine_parent);
}
