/* A named container's layer in the store: containers/NAME holds its lock,
 * its origin (the lowers it was made over, one resolved path a line, top
 * first: one lower's record is that path alone, as before layers were
 * stacked), the image it was made from (for roost commit) and its upper
 * and work directories, which launch_run makes. */
#include "config.h"
#include <errno.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/container.h"

/* LOWERS resolved and joined by newlines; NULL with E filled. */
static char *origin_of(const char *name, const char *const *lowers, size_t n, roost_error *e)
{
        size_t size = 1, len = 0;
        char *out = NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = realpath(lowers[i], NULL);
                if (!path) {
                        roost_error_set(e, -errno, "root filesystem %s", lowers[i]);
                        goto fail;
                }
                /* A newline would make two stacks record alike. */
                if (strchr(path, '\n')) {
                        roost_error_set(e, -EINVAL, "container %s: the lower %s has a newline in its path",
                                        name, lowers[i]);
                        goto fail;
                }
                size += strlen(path) + 1;
                char *o = realloc(out, size);
                if (!o) {
                        roost_error_set(e, -ENOMEM, "container %s", name);
                        goto fail;
                }
                out = o;
                len += (size_t)sprintf(out + len, "%s%s", i ? "\n" : "", path);
        }
        return out ? out : strdup("");
fail:
        free(out);
        return NULL;
}

/* The image's record, written once: a layer stays tied to the image it
 * was made from even when launched again through another tag whose
 * layers are the same. */
static int record_image(int cfd, const struct launch_image *img)
{
        _cleanup_free_ char *text = NULL;
        if (faccessat(cfd, "image", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        if (asprintf(&text, "digest sha256:%s\nreference %s\narch %s\n", img->digest, img->ref, img->arch) < 0)
                return -ENOMEM;
        return write_file_atomic_at(cfd, "image", text, strlen(text), 0600);
}

int launch_container_open(store *s, const char *name, const char *const *lowers, size_t n_lowers,
                          const struct launch_image *image, struct launch_container *ret, roost_error *e)
{
        struct launch_container c = { .lock = -1 };
        _cleanup_close_ int cfd = -1;
        _cleanup_free_ char *origin = NULL, *recorded = NULL;
        size_t len;
        int r;

        if (store_read_only(s))
                return roost_error_set(e, -EROFS,
                                       "container %s: the store %s is read-only, and --name keeps the "
                                       "container's layer in it",
                                       name, store_root(s));
        if (!(origin = origin_of(name, lowers, n_lowers, e)))
                return -EINVAL;
        /* overlayfs refuses two mounts sharing one upper layer; say why first.
         * A launch that was killed leaves its container dying for a moment
         * (the parent-death signal), holding the lock until it is gone:
         * waited for, a quarter of a second at most, before "in use". */
        c.lock = store_container_lock(s, name, &cfd);
        for (int tries = 0; c.lock == -EBUSY && tries < 25; tries++) {
                (void)nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
                c.lock = store_container_lock(s, name, &cfd);
        }
        if (c.lock == -EBUSY)
                return roost_error_set(e, -EBUSY, "container %s is in use by another launch", name);
        if (c.lock < 0)
                return roost_error_set(e, c.lock, "the layer of container %s in the store", name);
        r = read_file_at(cfd, "origin", 65536, &recorded, &len);
        if (r == -ENOENT) {
                if ((r = write_file_atomic_at(cfd, "origin", origin, strlen(origin), 0600)) < 0) {
                        roost_error_set(e, r, "recording the tree of container %s", name);
                        goto fail;
                }
        } else if (r < 0) {
                roost_error_set(e, r, "reading the origin of container %s", name);
                goto fail;
        } else if (strcmp(recorded, origin) != 0) {
                for (char *p = recorded; (p = strchr(p, '\n'));)
                        *p = ':';
                r = roost_error_set(e, -EEXIST,
                                    "container %s was made on another tree (%s); launch it with that image, "
                                    "or choose another name, or remove it with roost rm --container %s",
                                    name, recorded, name);
                goto fail;
        }
        if (image && image->digest && (r = record_image(cfd, image)) < 0) {
                roost_error_set(e, r, "recording the image of container %s", name);
                goto fail;
        }
        /* When it was last used, for roost containers; not worth failing for. */
        (void)futimens(c.lock, NULL);
        if ((r = store_container_path(s, name, "upper", &c.upper)) < 0 ||
            (r = store_container_path(s, name, "work", &c.work)) < 0) {
                roost_error_set(e, r, "container %s", name);
                goto fail;
        }
        *ret = c;
        return 0;
fail:
        launch_container_done(&c);
        return r;
}

void launch_container_done(struct launch_container *c)
{
        if (c->lock >= 0)
                close(c->lock);
        c->lock = -1;
        free(c->upper);
        free(c->work);
        c->upper = c->work = NULL;
}
