/* roost build's view of the image it builds on: its files read through
 * its layers' trees in the store, top first, an overlay whiteout hiding
 * what lies below, each symlink followed inside the image and never on
 * the host. COPY resolves its destination and its --chown here. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "commit/build-private.h"

#define MAX_SYMLINKS 40

void build_layers_close(struct layers *l)
{
        for (size_t i = 0; i < l->n; i++)
                closep(&l->fds[i]);
        free(l->fds);
        memset(l, 0, sizeof(*l));
}

int build_layers_open(struct build *b, struct layers *ret)
{
        struct layers l = { .fds = calloc(b->img.n_layers + 1, sizeof(int)) };
        if (!l.fds)
                return -ENOMEM;
        for (size_t i = 0; i < b->img.n_layers; i++) {
                _cleanup_free_ char *path = NULL;
                const char *d = b->img.layers[b->img.n_layers - 1 - i].digest;
                int r = store_tree_path(b->s, d, &path);
                if (r < 0 || (l.fds[l.n] = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                        r = r < 0 ? r : -errno;
                        build_layers_close(&l);
                        return roost_error_set(b->e, r, "the tree of layer %.12s", d);
                }
                l.n++;
        }
        *ret = l;
        return 0;
}

/* PATH ("a/b", relative, no symlink among its directories: the caller
 * resolved them) as the image shows it: the topmost layer's entry, an
 * overlay whiteout hiding it. The parent is opened with no symlink
 * followed, so nothing below a layer's root is ever reached. 0 with *ST
 * and *RET_FD (the layer's fd, not owned), -ENOENT when it is not there. */
int build_image_lookup(const struct layers *l, const char *path, struct stat *st, int *ret_fd)
{
        if (!*path) {
                for (size_t i = 0; i < l->n; i++)
                        if (fstatat(l->fds[i], "", st, AT_EMPTY_PATH) == 0) {
                                *ret_fd = l->fds[i];
                                return 0;
                        }
                return -ENOENT;
        }
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        const char *base = slash ? slash + 1 : path;
        if (!dir)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                struct open_how how = {
                        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
                };
                _cleanup_close_ int dfd = (int)syscall(SYS_openat2, l->fds[i], dir, &how, sizeof(how));
                if (dfd < 0)
                        continue;
                if (fstatat(dfd, base, st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
                        return -ENOENT; /* overlayfs' whiteout: deleted above */
                *ret_fd = l->fds[i];
                return 0;
        }
        return -ENOENT;
}

/* DEST (absolute, or relative to WORKDIR) resolved as the image would:
 * each symlink of the image's read and followed inside the image ('..'
 * stops at its root), never on the host. *RET: "a/b/c", relative to the
 * image's root ("" for the root). */
int build_image_resolve(const struct layers *l, const char *workdir, const char *dest, char **ret)
{
        _cleanup_free_ char *todo = NULL, *done = strdup("");
        int hops = 0;
        if (asprintf(&todo, "%s/%s", dest[0] == '/' ? "" : (workdir ? workdir : ""), dest) < 0)
                todo = NULL;
        if (!todo || !done)
                return -ENOMEM;
        while (*todo) {
                char *p = todo;
                while (*p == '/')
                        p++;
                char *end = strchrnul(p, '/');
                _cleanup_free_ char *comp = strndup(p, (size_t)(end - p)), *rest = strdup(end);
                if (!comp || !rest)
                        return -ENOMEM;
                free(todo);
                todo = TAKE_PTR(rest);
                if (!*comp || !strcmp(comp, "."))
                        continue;
                if (!strcmp(comp, "..")) {
                        char *s = strrchr(done, '/');
                        *(s ? s : done) = 0;
                        continue;
                }
                _cleanup_free_ char *cand = NULL;
                if (asprintf(&cand, "%s%s%s", done, *done ? "/" : "", comp) < 0)
                        return -ENOMEM;
                struct stat st;
                int lfd;
                if (build_image_lookup(l, cand, &st, &lfd) == 0 && S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(lfd, cand, target, sizeof(target) - 1);
                        if (n < 0)
                                return -errno;
                        target[n] = 0;
                        if (++hops > MAX_SYMLINKS)
                                return -ELOOP;
                        char *next;
                        if (asprintf(&next, "%s%s", target, todo) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = next;
                        if (target[0] == '/')
                                done[0] = 0;
                        continue;
                }
                free(done);
                done = TAKE_PTR(cand);
        }
        *ret = TAKE_PTR(done);
        return 0;
}

/* NAME's numeric id in the image's /etc/passwd or /etc/group (FILE), or a
 * number as it is. */
int build_image_id(const struct layers *l, const char *file, const char *name, unsigned *ret)
{
        char *end;
        unsigned long v = strtoul(name, &end, 10);
        if (*name && !*end && v < 0xffffffffUL) {
                *ret = (unsigned)v;
                return 0;
        }
        struct stat st;
        int lfd;
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
        if (build_image_lookup(l, file, &st, &lfd) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
                return -ENOENT;
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, lfd, file, &how, sizeof(how));
        _cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
        ssize_t n = fd >= 0 && text ? pread(fd, text, (size_t)st.st_size, 0) : -1;
        if (n < 0)
                return -EIO;
        text[n] = 0;
        size_t nlen = strlen(name);
        for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (!strncmp(p, name, nlen) && p[nlen] == ':') {
                        char *f = strchr(p + nlen + 1, ':'); /* past the password */
                        if (f && (v = strtoul(f + 1, &end, 10), *end == ':')) {
                                *ret = (unsigned)v;
                                return 0;
                        }
                }
        return -ENOENT;
}
