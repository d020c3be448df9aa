/* roost build's COPY: the context's files into a fresh upper directory,
 * which becomes the step's layer, as a RUN's container's would. The
 * context is hostile input: every source is reached from DIR's fd with no
 * symlink followed and no '..'; a symlink in it is copied as a symlink,
 * never followed. The destination is resolved in the image, reading its
 * layers' trees (each symlink followed inside the image, never on the
 * host), and written below the fresh upper directory with openat. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "commit/build-private.h"

#define MAX_DEPTH    256

/* ---- COPY ---- */

struct copy {
        struct build *b;
        const struct layers *image;
        bool chown;
        uid_t uid;
        gid_t gid;
        EVP_MD_CTX *hash; /* hashing the sources for the key; else copying */
        int line;
};

static int copy_hash(struct copy *c, const char *what, const void *p, size_t n)
{
        return EVP_DigestUpdate(c->hash, what, strlen(what) + 1) == 1 && EVP_DigestUpdate(c->hash, p, n) == 1
                       ? 0
                       : -ENOMEM;
}

/* SRCFD/NAME (its stat ST, a regular file) into DSTFD/DNAME. */
static int copy_file(struct copy *c, int srcfd, const char *name, const struct stat *st, int dstfd,
                     const char *dname)
{
        /* O_NONBLOCK, and the inode checked to be the one stat saw: a FIFO
         * swapped in meanwhile cannot hold the build. */
        _cleanup_close_ int in = openat(srcfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st2;
        if (in < 0)
                return -errno;
        if (fstat(in, &st2) < 0 || st2.st_ino != st->st_ino || st2.st_dev != st->st_dev ||
            !S_ISREG(st2.st_mode))
                return -ESTALE;
        char buf[1 << 16];
        if (c->hash) {
                ssize_t n;
                while ((n = read(in, buf, sizeof(buf))) > 0)
                        if (EVP_DigestUpdate(c->hash, buf, (size_t)n) != 1)
                                return -ENOMEM;
                return n < 0 ? -errno : 0;
        }
        _cleanup_close_ int out =
                openat(dstfd, dname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n == 0)
                        break;
                if (n < 0) {
                        /* Across file systems on older kernels: by hand. */
                        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                                return -errno;
                        while ((n = read(in, buf, sizeof(buf))) > 0)
                                if (write_all(out, buf, (size_t)n) < 0)
                                        return -errno;
                        if (n < 0)
                                return -errno;
                        break;
                }
        }
        if (fchown(out, c->chown ? c->uid : 0, c->chown ? c->gid : 0) < 0 ||
            fchmod(out, st->st_mode & 07777) < 0)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        return futimens(out, ts) < 0 ? -errno : 0;
}

static int copy_entry(struct copy *c, int srcfd, const char *name, const char *rel, int dstfd,
                      const char *dname, int depth);

/* What directory SRCFD/NAME holds, into DSTFD (made already). */
static int copy_dir_contents(struct copy *c, int dirfd, const char *rel, int dstfd, int depth)
{
        DIR *d;
        int r = opendir_at(dirfd, ".", &d);
        if (r < 0)
                return r;
        /* Sorted, so that the hash does not depend on readdir's order. */
        struct dirent **list = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (n == cap) {
                        struct dirent **more = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*list));
                        if (!more) {
                                r = -ENOMEM;
                                break;
                        }
                        list = more;
                }
                if (!(list[n] = malloc(sizeof(*de)))) {
                        r = -ENOMEM;
                        break;
                }
                memcpy(list[n++], de, sizeof(*de));
        }
        for (size_t i = 1; r == 0 && i < n; i++)
                for (size_t j = i; j > 0 && strcmp(list[j - 1]->d_name, list[j]->d_name) > 0; j--) {
                        struct dirent *t = list[j];
                        list[j] = list[j - 1];
                        list[j - 1] = t;
                }
        for (size_t i = 0; r == 0 && i < n; i++) {
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", list[i]->d_name) < 0)
                        r = -ENOMEM;
                else
                        r = copy_entry(c, dirfd, list[i]->d_name, sub, dstfd, list[i]->d_name, depth + 1);
        }
        for (size_t i = 0; i < n; i++)
                free(list[i]);
        free(list);
        closedir(d);
        return r;
}

/* One entry of the context, REL its path there, as DSTFD/DNAME: a file
 * copied, a directory made and walked, a symlink copied as a symlink
 * (never followed: it may point anywhere on the host). */
static int copy_entry(struct copy *c, int srcfd, const char *name, const char *rel, int dstfd,
                      const char *dname, int depth)
{
        struct stat st;
        if (depth > MAX_DEPTH)
                return roost_error_set(c->b->e, 0, "line %d: COPY %s: nested deeper than %d directories",
                                       c->line, rel, MAX_DEPTH),
                       -ROOST_ELIMIT;
        if (fstatat(srcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, rel);
        bool dir = S_ISDIR(st.st_mode);
        if (*rel && dockerignore_excluded(&c->b->ignore, rel) && !(dir && c->b->ignore.any_keep))
                return 0;
        char meta[128];
        snprintf(meta, sizeof(meta), "%o %llu", (unsigned)st.st_mode, (unsigned long long)st.st_size);
        if (c->hash && copy_hash(c, rel, meta, strlen(meta) + 1) < 0)
                return -ENOMEM;
        int r = 0;
        if (S_ISREG(st.st_mode)) {
                r = copy_file(c, srcfd, name, &st, dstfd, dname);
        } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(srcfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, rel);
                target[n] = 0;
                if (c->hash)
                        r = copy_hash(c, "->", target, (size_t)n);
                else if (symlinkat(target, dstfd, dname) < 0 ||
                         fchownat(dstfd, dname, c->chown ? c->uid : 0, c->chown ? c->gid : 0,
                                  AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
        } else if (dir) {
                _cleanup_close_ int sub =
                        openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int out = -1;
                if (sub < 0)
                        return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, rel);
                if (!c->hash) {
                        if (mkdirat(dstfd, dname, 0700) < 0 && errno != EEXIST)
                                return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, rel);
                        if ((out = openat(dstfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                                return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, rel);
                }
                if ((r = copy_dir_contents(c, sub, rel, out, depth)) < 0)
                        return r;
                if (!c->hash) {
                        struct timespec ts[2] = { st.st_atim, st.st_mtim };
                        if (fchown(out, c->chown ? c->uid : 0, c->chown ? c->gid : 0) < 0 ||
                            fchmod(out, st.st_mode & 07777) < 0 || futimens(out, ts) < 0)
                                r = -errno;
                }
        } else
                return roost_error_set(c->b->e, 0,
                                       "line %d: COPY %s: a %s; roost build copies files, directories and "
                                       "symlinks",
                                       c->line, rel,
                                       S_ISFIFO(st.st_mode)   ? "FIFO"
                                       : S_ISSOCK(st.st_mode) ? "socket"
                                                              : "device"),
                       -ROOST_EUNSAFE;
        return r < 0 ? roost_error_set(c->b->e, r, "line %d: COPY %s", c->line, rel) : 0;
}

/* A COPY source: relative to the context, no '..' (a source outside DIR
 * is refused, as docker does), its directories reached with no symlink
 * followed. *RET_DIR: the directory holding it; *RET_NAME its name there
 * ("." for the context itself). */
static int copy_source(struct copy *c, const char *src, int *ret_dir, char **ret_name, char **ret_rel)
{
        _cleanup_free_ char *clean = calloc(1, strlen(src) + 1);
        if (!clean)
                return -ENOMEM;
        for (const char *p = src; *p;) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 2 && !strncmp(p, "..", 2))
                        return roost_error_set(c->b->e, 0,
                                               "line %d: COPY %s: outside the build context ('..')", c->line,
                                               src),
                               -ROOST_EUNSAFE;
                if (n && !(n == 1 && *p == '.')) {
                        if (*clean)
                                strcat(clean, "/");
                        strncat(clean, p, n);
                }
                p = end;
        }
        if (*clean && dockerignore_excluded(&c->b->ignore, clean))
                return roost_error_set(c->b->e, 0, "line %d: COPY %s: excluded by .dockerignore", c->line,
                                       src),
                       -ROOST_ENOTFOUND;
        char *slash = strrchr(clean, '/');
        _cleanup_free_ char *dir = slash ? strndup(clean, (size_t)(slash - clean)) : strdup(".");
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        if (!dir)
                return -ENOMEM;
        int fd = (int)syscall(SYS_openat2, c->b->o->ctxfd, dir, &how, sizeof(how));
        if (fd < 0)
                return roost_error_set(c->b->e, 0, "line %d: COPY %s: %s in the build context", c->line, src,
                                       errno == ELOOP ? "reached through a symlink, which is not followed"
                                                      : "no such directory"),
                       errno == ELOOP ? -ROOST_EUNSAFE : -ROOST_ENOTFOUND;
        struct stat st;
        const char *name = slash ? slash + 1 : *clean ? clean : ".";
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                close(fd);
                return roost_error_set(c->b->e, 0, "line %d: COPY %s: no such file in the build context",
                                       c->line, src),
                       -ROOST_ENOTFOUND;
        }
        char *n = strdup(name), *rel = strdup(clean);
        if (!n || !rel) {
                free(n);
                free(rel);
                close(fd);
                return -ENOMEM;
        }
        *ret_name = n;
        *ret_rel = rel;
        *ret_dir = fd;
        return 0;
}

/* The directories of PATH ("a/b") made in the upper UPPERFD as the image
 * has them (mode, owner, times: an upper directory hides the lower's), or
 * 0755 where the image has none, owned by --chown's ids (else root), as
 * docker makes them. Returns the fd of the last. */
static int upper_dirs(const struct copy *c, int upperfd, const char *path)
{
        const struct layers *l = c->image;
        int fd = fcntl(upperfd, F_DUPFD_CLOEXEC, 3);
        _cleanup_free_ char *sofar = strdup("");
        if (fd < 0 || !sofar)
                return fd < 0 ? -errno : -ENOMEM;
        for (const char *p = path; *p;) {
                const char *end = strchrnul(p, '/');
                _cleanup_free_ char *comp = strndup(p, (size_t)(end - p)), *next = NULL;
                p = *end ? end + 1 : end;
                if (!comp || asprintf(&next, "%s%s%s", sofar, *sofar ? "/" : "", comp) < 0) {
                        close(fd);
                        return -ENOMEM;
                }
                free(sofar);
                sofar = TAKE_PTR(next);
                struct stat st = { .st_mode = S_IFDIR | 0755 };
                int lfd;
                bool have = build_image_lookup(l, sofar, &st, &lfd) == 0;
                if (have && !S_ISDIR(st.st_mode)) {
                        close(fd);
                        return -ENOTDIR;
                }
                if (mkdirat(fd, comp, 0700) < 0 && errno != EEXIST) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                if (sub < 0)
                        return -errno;
                fd = sub;
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                uid_t uid = have ? st.st_uid : c->chown ? c->uid : 0;
                gid_t gid = have ? st.st_gid : c->chown ? c->gid : 0;
                if (fchown(fd, uid, gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0 ||
                    (have && futimens(fd, ts) < 0)) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
        }
        return fd;
}

/* Hash or copy (C->hash says which) every source into the upper UPPERFD
 * at DEST (resolved, "a/b"): a directory's contents into DEST; a file (or
 * symlink) into DEST when DEST_IS_DIR, else as DEST. */
static int copy_all(struct copy *c, char *const *srcs, size_t n_srcs, const char *dest, bool dest_is_dir,
                    int upperfd)
{
        for (size_t i = 0; i < n_srcs; i++) {
                _cleanup_close_ int dirfd = -1, dst = -1;
                _cleanup_free_ char *name = NULL, *rel = NULL, *parent = NULL;
                int r = copy_source(c, srcs[i], &dirfd, &name, &rel);
                if (r < 0)
                        return r;
                struct stat sst;
                if (fstatat(dirfd, name, &sst, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (c->hash && copy_hash(c, "source", rel, strlen(rel) + 1) < 0)
                        return -ENOMEM;
                if (S_ISDIR(sst.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return roost_error_set(c->b->e, -errno, "line %d: COPY %s", c->line, srcs[i]);
                        if (!c->hash && (dst = upper_dirs(c, upperfd, dest)) < 0)
                                return roost_error_set(c->b->e, dst, "line %d: COPY to /%s in the image",
                                                       c->line, dest);
                        if ((r = copy_dir_contents(c, sub, rel, dst, 0)) < 0)
                                return r;
                        continue;
                }
                const char *dname = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
                if (c->hash) {
                        if ((r = copy_entry(c, dirfd, name, rel, -1, dname, 0)) < 0)
                                return r;
                        continue;
                }
                if (dest_is_dir)
                        parent = strdup(dest);
                else {
                        const char *slash = strrchr(dest, '/');
                        parent = slash ? strndup(dest, (size_t)(slash - dest)) : strdup("");
                        dname = slash ? slash + 1 : dest;
                }
                if (!parent)
                        return -ENOMEM;
                if ((dst = upper_dirs(c, upperfd, parent)) < 0)
                        return roost_error_set(c->b->e, dst, "line %d: COPY to /%s in the image", c->line,
                                               parent);
                if ((r = copy_entry(c, dirfd, name, rel, dst, dname, 0)) < 0)
                        return r;
        }
        return 0;
}

/* SRC with a wildcard (*, ?, [...], as fnmatch(3), in its last component)
 * replaced by the context's names it matches, sorted, .dockerignore
 * applied; appended to *OUT. A source without one is appended as it is
 * (copy_source checks it). No match is an error, as in docker. */
static int glob_source(struct build *b, unsigned line, const char *src, char ***out, size_t *n_out)
{
        const char *slash = strrchr(src, '/');
        const char *pat = slash ? slash + 1 : src;
        _cleanup_free_ char *dir = slash ? strndup(src, (size_t)(slash - src)) : strdup(".");
        size_t start = *n_out;
        if (!dir)
                return -ENOMEM;
        bool dots = !strcmp(dir, "..") || !strncmp(dir, "../", 3) || strstr(dir, "/../") ||
                    (strlen(dir) >= 3 && !strcmp(dir + strlen(dir) - 3, "/.."));
        if (!strpbrk(pat, "*?[") || dots) {
                char **more = realloc(*out, (*n_out + 2) * sizeof(char *));
                if (!more)
                        return -ENOMEM;
                *out = more;
                if (!((*out)[(*n_out)++] = strdup(src)))
                        return -ENOMEM;
                (*out)[*n_out] = NULL;
                return 0;
        }
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        int fd = (int)syscall(SYS_openat2, b->o->ctxfd, *dir == '/' ? dir + 1 : dir, &how, sizeof(how));
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return roost_error_set(b->e, 0, "line %u: COPY %s: no such directory in the build context",
                                       line, src),
                       -ROOST_ENOTFOUND;
        }
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d))) {
                _cleanup_free_ char *rel = NULL;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || fnmatch(pat, de->d_name, 0) != 0)
                        continue;
                if (asprintf(&rel, "%s%s%s", slash ? dir : "", slash ? "/" : "", de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                const char *clean = rel;
                while (*clean == '/' || (clean[0] == '.' && clean[1] == '/'))
                        clean += *clean == '/' ? 1 : 2;
                if (dockerignore_excluded(&b->ignore, clean))
                        continue;
                char **more = realloc(*out, (*n_out + 2) * sizeof(char *));
                if (!more) {
                        r = -ENOMEM;
                        break;
                }
                *out = more;
                (*out)[(*n_out)++] = TAKE_PTR(rel);
                (*out)[*n_out] = NULL;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (*n_out == start)
                return roost_error_set(b->e, 0, "line %u: COPY %s: no file in the build context matches",
                                       line, src),
                       -ROOST_ENOTFOUND;
        /* Sorted, so that the key does not depend on readdir's order. */
        for (size_t i = start + 1; i < *n_out; i++)
                for (size_t j = i; j > start && strcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
                        char *t = (*out)[j];
                        (*out)[j] = (*out)[j - 1];
                        (*out)[j - 1] = t;
                }
        return 0;
}

int build_step_copy(struct build *b, const struct dockerfile_step *st, char *const *vars, size_t n_vars,
                    const char *text)
{
        size_t n = 0;
        while (st->argv[n])
                n++;
        _cleanup_(strv_freep) char **words = calloc(n + 1, sizeof(char *));
        if (!words)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (dockerfile_expand(st->argv[i], vars, n_vars, &words[i]) < 0)
                        return roost_error_set(b->e, 0, "line %u: COPY %s: a malformed ${...}", st->line,
                                               st->argv[i]),
                               -ROOST_EUSAGE;
        const char *dest = words[n - 1];
        /* The sources, their wildcards matched in the context. */
        _cleanup_(strv_freep) char **srcs = calloc(1, sizeof(char *));
        size_t n_srcs = 0;
        if (!srcs)
                return -ENOMEM;
        for (size_t i = 0; i + 1 < n; i++) {
                int k = glob_source(b, st->line, words[i], &srcs, &n_srcs);
                if (k < 0)
                        return k == -ENOMEM ? roost_error_set(b->e, k, "line %u: COPY", st->line) : k;
        }
        struct layers l = { 0 };
        struct copy c = { .b = b, .line = (int)st->line };
        _cleanup_free_ char *workdir = build_config_string(b, "WorkingDir"), *resolved = NULL,
                            *tmpname = NULL, *config = NULL;
        _cleanup_close_ int tmpfd = -1, upperfd = -1;
        char key[STORE_SHA256_HEX + 1], hex[STORE_SHA256_HEX + 1];
        int r = build_layers_open(b, &l);
        if (r < 0)
                return r;
        if (st->chown) {
                _cleanup_free_ char *u = strdup(st->chown);
                char *g = u ? strchr(u, ':') : NULL;
                unsigned uid, gid;
                if (!u)
                        goto oom;
                if (g)
                        *g++ = 0;
                bool user_ok = build_image_id(&l, "etc/passwd", u, &uid) == 0;
                if (!user_ok || (g && build_image_id(&l, "etc/group", g, &gid) < 0)) {
                        roost_error_set(b->e, 0, "line %u: COPY --chown=%s: no %s %s in the image's /etc/%s",
                                        st->line, st->chown, user_ok ? "group" : "user", user_ok ? g : u,
                                        user_ok ? "group" : "passwd");
                        r = -ROOST_EUSAGE;
                        goto out;
                }
                c.chown = true, c.uid = uid, c.gid = g ? gid : uid;
        }
        /* The key: the instruction and what its sources hold, read now. */
        unsigned char md[32];
        unsigned mdlen;
        if (!(c.hash = EVP_MD_CTX_new()) || EVP_DigestInit_ex(c.hash, EVP_sha256(), NULL) != 1)
                goto oom;
        r = copy_all(&c, srcs, n_srcs, "", false, -1);
        if (r >= 0 && EVP_DigestFinal_ex(c.hash, md, &mdlen) != 1)
                r = -ENOMEM;
        EVP_MD_CTX_free(c.hash);
        c.hash = NULL;
        if (r < 0)
                goto out;
        hex_encode(md, 32, hex);
        char extra[200];
        snprintf(extra, sizeof(extra), "sources %s chown %u:%u", hex, c.chown ? c.uid : 0,
                 c.chown ? c.gid : 0);
        if ((r = build_step_key(b, text, extra, key)) < 0 || (r = build_cache_try(b, key)) != 0) {
                if (r > 0)
                        build_announce(b, true);
                r = r > 0 ? 0 : r;
                goto out;
        }
        build_announce(b, false);

        r = build_image_resolve(&l, workdir, dest, &resolved);
        if (r < 0) {
                r = roost_error_set(b->e, r, "line %u: COPY: the destination %s in the image", st->line,
                                    dest);
                goto out;
        }
        struct stat dst;
        int lfd;
        size_t dlen = strlen(dest);
        bool dest_is_dir = (dlen && dest[dlen - 1] == '/') || n_srcs > 1 || !*resolved ||
                           (build_image_lookup(&l, resolved, &dst, &lfd) == 0 && S_ISDIR(dst.st_mode));
        if ((r = store_tmpdir(b->s, &tmpname, &tmpfd)) < 0 || mkdirat(tmpfd, "upper", 0755) < 0 ||
            (upperfd = openat(tmpfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = roost_error_set(b->e, r < 0 ? r : -errno, "line %u: COPY: a directory for the layer",
                                    st->line);
                goto out;
        }
        c.image = &l;
        if ((r = copy_all(&c, srcs, n_srcs, resolved, dest_is_dir, upperfd)) < 0)
                goto out;
        struct commit_layer layer;
        if ((r = commit_layer_write(b->s, upperfd, &layer, b->e)) < 0 ||
            (r = build_layer_tree(b, &layer, tmpfd, "upper", upperfd)) < 0)
                goto out;
        if ((r = commit_config_step(b->config, NULL, &b->cmd_set, layer.diff_id, text, build_now(b), &config,
                                    b->e)) < 0)
                goto out;
        r = build_step_image(b, config, &layer, key);
        goto out;
oom:
        r = roost_error_set(b->e, -ENOMEM, "line %u: COPY", st->line);
out:
        if (c.hash)
                EVP_MD_CTX_free(c.hash);
        if (tmpfd >= 0)
                (void)rm_rf_at(store_dirfd(b->s), tmpname);
        build_layers_close(&l);
        return r;
}
