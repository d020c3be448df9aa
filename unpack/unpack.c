/* Where an extraction goes: the store's tree for a blob, or a directory of
 * the user's choice. Either way a temporary directory is filled and renamed
 * into place only when the whole archive went in. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "unpack/unpack-private.h"

static int image_tree(store *s, const char *sha256, bool replace, const struct unpack_options *o, roost_error *e)
{
        char name[32];
        if (!store_digest_valid(sha256))
                return roost_error_set(e, 0, "'%s' is not a sha256 digest", sha256), -ROOST_EUSAGE;
        snprintf(name, sizeof(name), "blob %.12s", sha256);
        _cleanup_store_tree_ store_tree *t = NULL;
        int r = replace ? store_tree_begin_replace(s, sha256, &t) : store_tree_begin(s, sha256, &t);
        if (r == -EBUSY)
                return roost_error_set(e, r, "%s: the tree is in use by a running container", name);
        if (r < 0)
                return roost_error_set(e, r, "%s: preparing the tree", name);
        if (r == 1)
                return 1;
        _cleanup_close_ int fd = store_blob_open(s, sha256);
        if (fd < 0)
                return roost_error_set(e, fd == -ENOENT ? -ROOST_ENOTFOUND : fd, "%s: opening the archive",
                                       name);
        /* Everything, device nodes and set-id files too: no other user
         * reaches into the store (0700), and launch mounts its trees nodev.
         * A stored blob is an image's layer: its OCI whiteouts become
         * overlayfs ones, for launch to stack the trees; an unprivileged
         * store's in user.overlay.* attributes, which overlayfs reads
         * with userxattr in a user namespace. */
        struct unpack_options lo = o ? *o : (struct unpack_options){ 0 };
        lo.whiteouts = UNPACK_WHITEOUT_OVERLAY;
        lo.overlay_user_xattrs = geteuid() != 0;
        const char *label = name;
        r = unpack_tree(&fd, &label, 1, store_tree_dirfd(t), &lo, UNPACK_KEEP_ALL, (mode_t)-1, e);
        if (r < 0)
                return r;
        r = store_tree_commit(TAKE_PTR(t));
        if (r < 0)
                return roost_error_set(e, r, "%s: publishing the tree", name);
        return 0;
}

int unpack_image(store *s, const char *sha256, const struct unpack_options *o, roost_error *e)
{
        return image_tree(s, sha256, false, o, e);
}

int unpack_image_repair(store *s, const char *sha256, const struct unpack_options *o, roost_error *e)
{
        return image_tree(s, sha256, true, o, e);
}

int unpack_dir_is_empty(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        int empty = 1;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}

/* The archives FDS, one after the other, into the new or empty DIR. */
static int to_dir(const int *fds, const char *const *names, size_t n, const char *dir,
                  const struct unpack_options *o, roost_error *e)
{
        _cleanup_free_ char *copy = strdup(dir);
        if (!copy)
                return -ENOMEM;
        size_t len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/')
                copy[--len] = 0;
        char *slash = strrchr(copy, '/');
        const char *parent = ".", *base = copy;
        if (slash) {
                *slash = 0;
                parent = slash == copy ? "/" : copy;
                base = slash + 1;
        }
        if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return roost_error_set(e, 0, "'%s' must name a new or empty directory", dir), -ROOST_EUSAGE;
        _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return roost_error_set(e, -errno, "opening the parent of %s", dir);
        /* A non-empty (or non-directory) target is refused: a symlink left
         * there by one archive must never carry the next one's files
         * elsewhere, and nothing of the user's is overwritten. */
        struct stat st;
        bool existed = false;
        if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return roost_error_set(e, 0, "%s exists and is not a directory", dir), -ROOST_EUSAGE;
                int r = unpack_dir_is_empty(pfd, base);
                if (r < 0)
                        return roost_error_set(e, r, "reading %s", dir);
                if (!r)
                        return roost_error_set(e, 0, "%s is not empty", dir), -ROOST_EUSAGE;
                existed = true;
        } else if (errno != ENOENT)
                return roost_error_set(e, -errno, "inspecting %s", dir);

        char suffix[17], tmp[300];
        int r = random_suffix(suffix, sizeof(suffix));
        if (r < 0)
                return roost_error_set(e, r, "making a temporary name");
        snprintf(tmp, sizeof(tmp), ".%.200s.unpack-%s", base, suffix);
        if (mkdirat(pfd, tmp, 0700) < 0)
                return roost_error_set(e, -errno, "creating a temporary directory next to %s", dir);
        _cleanup_close_ int tfd = openat(pfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0) {
                r = roost_error_set(e, -errno, "opening the temporary directory next to %s", dir);
                goto fail;
        }
        /* The temporary stays 0700 and ours until every entry is in: no
         * other user gets a handle into the tree while it is being made
         * (nor, with --keep-setid, on a set-id file that DIR's parent
         * keeps them from). Then it takes what mkdir(1) would make, unless
         * the archive's "./" says otherwise. */
        mode_t mask = umask(0);
        umask(mask);
        r = unpack_tree(fds, names, n, tfd, o, unpack_keep(o), 0777 & ~mask, e);
        if (r < 0)
                goto fail;
        /* rename(2) replaces an empty directory atomically, and fails if
         * something appeared in it meanwhile. */
        if (existed ? renameat(pfd, tmp, pfd, base) < 0
                    : renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE) < 0) {
                r = roost_error_set(e, -errno, "moving the tree into place at %s", dir);
                goto fail;
        }
        return 0;
fail:
        rm_rf_at(pfd, tmp);
        return r;
}

int unpack_fd(int fd, const char *name, const char *dir, const struct unpack_options *o, roost_error *e)
{
        return to_dir(&fd, &name, 1, dir, o, e);
}

static struct unpack_options layers_options(const struct unpack_options *o)
{
        struct unpack_options l = o ? *o : (struct unpack_options){ 0 };
        l.whiteouts = UNPACK_WHITEOUT_APPLY;
        return l;
}

int unpack_layers(const int *fds, const char *const *names, size_t n, const char *dir,
                  const struct unpack_options *o, roost_error *e)
{
        if (n == 0)
                return roost_error_set(e, 0, "no layers to unpack into %s", dir), -ROOST_EUSAGE;
        struct unpack_options l = layers_options(o);
        return to_dir(fds, names, n, dir, &l, e);
}

int unpack_layers_into(const int *fds, const char *const *names, size_t n, int rootfd,
                       const struct unpack_options *o, roost_error *e)
{
        if (n == 0)
                return roost_error_set(e, 0, "no layers to unpack"), -ROOST_EUSAGE;
        struct unpack_options l = layers_options(o);
        return unpack_tree(fds, names, n, rootfd, &l, unpack_keep(o), (mode_t)-1, e);
}

int unpack_file(const char *path, const char *dir, const struct unpack_options *o, roost_error *e)
{
        if (strcmp(path, "-") == 0)
                return unpack_fd(STDIN_FILENO, "standard input", dir, o, e);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return roost_error_set(e, errno == ENOENT ? -ROOST_ENOTFOUND : -errno, "opening %s", path);
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
                return roost_error_set(e, 0, "%s is a directory, not an archive", path), -ROOST_EARCHIVE;
        return unpack_fd(fd, path, dir, o, e);
}
