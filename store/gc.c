#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store-private.h"

static void use_name(const char *sha256, char *buf, size_t n)
{
        snprintf(buf, n, "locks/use-%s", sha256);
}

/* The tree's in-use mark, created if need be and locked with OP. */
static int use_lock(store *s, const char *sha256, int op)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        use_name(sha256, name, sizeof(name));
        int fd = openat(s->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, op) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

int store_tree_use(store *s, const char *sha256)
{
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        /* Nobody collects from a read-only store: a descriptor to close
         * stands for the mark. */
        if (s->read_only) {
                int fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? -errno : fd;
        }
        return use_lock(s, sha256, LOCK_SH);
}

int store_tree_use_exclusive(store *s, const char *sha256)
{
        return use_lock(s, sha256, LOCK_EX | LOCK_NB);
}

bool store_tree_in_use(store *s, const char *sha256)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return false;
        use_name(sha256, name, sizeof(name));
        _cleanup_close_ int fd = openat(s->fd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static uint64_t usage_at(int parent, const char *name, int depth)
{
        struct stat st;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        uint64_t total = (uint64_t)st.st_blocks * 512;
        if (!S_ISDIR(st.st_mode) || depth > 256)
                return total;
        DIR *d;
        if (opendir_at(parent, name, &d) < 0)
                return total;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        total += usage_at(dirfd(d), de->d_name, depth + 1);
        closedir(d);
        return total;
}

int store_tree_usage(store *s, const char *sha256, uint64_t *ret)
{
        char name[96];
        if (!store_digest_valid(sha256))
                return -ROOST_EUNSAFE;
        store_tree_name(sha256, NULL, name, sizeof(name));
        struct stat st;
        if (fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = usage_at(s->fd, name, 0);
        return 0;
}

/* Whether any reference needs SHA256: as its index, an image's manifest
 * or config, the signature its index records, or a layer (LAYERS_ONLY: only as a layer, for trees). */
static bool referenced(const struct store_ref *refs, size_t n, const char *sha256, bool layers_only)
{
        for (size_t i = 0; i < n; i++) {
                const struct store_ref *r = &refs[i];
                if (!layers_only && (!strcmp(r->digest, sha256) || !strcmp(r->config, sha256) ||
                                     (r->index && !strcmp(r->index, sha256)) ||
                                     (r->signature && !strcmp(r->signature, sha256))))
                        return true;
                for (size_t j = 0; j < r->n_layers; j++)
                        if (!strcmp(r->layers[j].digest, sha256))
                                return true;
        }
        return false;
}

enum keep { KEEP_NONE, KEEP_BLOBS, KEEP_LAYERS };

/* What gc removes is first moved into a temporary of its own, a rename
 * each, while it holds the store exclusively; it is deleted once the lock
 * is shared again. Deleting an unpacked tree costs milliseconds per
 * thousand files, which every other command would otherwise wait out. A
 * gc killed in between leaves an abandoned temporary, which the next
 * store_open removes: what it holds was garbage already. */
struct doomed {
        char *name; /* tmp/PID.XXXX, or NULL: delete in place */
        int fd;
        unsigned n;
};

/* Take NAME (in DIRFD) out of the store's sight. */
static int doom(struct doomed *g, int dirfd, const char *name, uint64_t *bytes)
{
        if (g->name) {
                char to[16];
                snprintf(to, sizeof(to), "%u", g->n);
                if (renameat(dirfd, name, g->fd, to) == 0) {
                        g->n++;
                        return 0;
                }
        }
        uint64_t used = usage_at(dirfd, name, 0);
        int r = rm_rf_at(dirfd, name);
        if (r == 0)
                *bytes += used;
        return r;
}

/* Delete what G holds, counting its bytes into *BYTES, and G itself: 0,
 * or the first failure, which is gc's as much as one in place would be. */
static int doomed_delete(store *s, struct doomed *g, uint64_t *bytes)
{
        int r = 0;
        if (!g->name)
                return 0;
        for (unsigned i = 0; i < g->n; i++) {
                char name[16];
                snprintf(name, sizeof(name), "%u", i);
                uint64_t used = usage_at(g->fd, name, 0);
                int k = rm_rf_at(g->fd, name);
                if (k == 0)
                        *bytes += used;
                else if (r == 0)
                        r = k;
        }
        closep(&g->fd);
        if (r == 0)
                r = rm_rf_at(s->fd, g->name);
        free(g->name);
        g->name = NULL;
        return r;
}

/* A test hook: hold gc once it shares the lock again, before it deletes,
 * until PAUSE/go exists (it makes PAUSE/shared when it gets there). */
static void test_pause(void)
{
        const char *dir = getenv("ROOST_GC_TEST_PAUSE");
        char path[4096];
        if (!dir || !*dir)
                return;
        snprintf(path, sizeof(path), "%s/shared", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        snprintf(path, sizeof(path), "%s/go", dir);
        for (int i = 0; i < 3000 && access(path, F_OK) < 0; i++)
                usleep(10000);
}

/* Remove every entry of DIR, but those a reference needs (KEEP_BLOBS:
 * any blob it names; KEEP_LAYERS: its layers) or a running container
 * uses: into G, or in place. */
static int sweep(store *s, struct doomed *g, const char *dir, const struct store_ref *refs, size_t n,
                 enum keep keep, unsigned *count, uint64_t *bytes)
{
        DIR *d;
        int r = opendir_at(s->fd, dir, &d);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (keep != KEEP_NONE && store_digest_valid(de->d_name) &&
                    (referenced(refs, n, de->d_name, keep == KEEP_LAYERS) || store_tree_in_use(s, de->d_name)))
                        continue;
                int k = doom(g, dirfd(d), de->d_name, bytes);
                if (k < 0) {
                        if (r == 0)
                                r = k;
                        continue;
                }
                (*count)++;
        }
        closedir(d);
        return r;
}

/* A reference's write cut short leaves tags/NAME/.TAG.XXXX.tmp behind,
 * and a name whose last tag went leaves its folder. With the store held
 * exclusively, nobody is writing one. */
static unsigned sweep_ref_temporaries(store *s)
{
        DIR *d;
        unsigned n = 0;
        if (opendir_at(s->fd, "tags", &d) < 0)
                return 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                DIR *a;
                if (de->d_name[0] == '.' || opendir_at(dirfd(d), de->d_name, &a) < 0)
                        continue;
                struct dirent *t;
                while ((t = readdir(a))) {
                        size_t len = strlen(t->d_name);
                        if (t->d_name[0] == '.' && len > 5 && strcmp(t->d_name + len - 4, ".tmp") == 0 &&
                            unlinkat(dirfd(a), t->d_name, 0) == 0)
                                n++;
                }
                closedir(a);
                (void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR); /* only when empty */
        }
        closedir(d);
        return n;
}

/* Whether every layer of IMG is a layer of some reference of REFS. */
static bool layers_used(const struct store_ref *img, const struct store_ref *refs, size_t n)
{
        for (size_t j = 0; j < img->n_layers; j++)
                if (!referenced(refs, n, img->layers[j].digest, true))
                        return false;
        return true;
}

/* The build cache: a record whose image's layers some referenced image
 * still uses stays, and its image's manifest and config are kept (added
 * to *REFS); any other record goes, and what only it named with it. */
static int sweep_cache(store *s, struct store_ref **refs, size_t *n, unsigned *count)
{
        DIR *d;
        int r = opendir_at(s->fd, "cache", &d);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        size_t n_refs = *n;
        struct dirent *de;
        while ((de = readdir(d))) {
                char digest[STORE_SHA256_HEX + 1];
                struct store_ref img = { 0 };
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                bool keep = store_digest_valid(de->d_name) && store_cache_read(s, de->d_name, digest) == 0 &&
                            store_manifest_read(s, digest, &img) == 0 && layers_used(&img, *refs, n_refs);
                if (keep) {
                        struct store_ref *more = realloc(*refs, (*n + 1) * sizeof(**refs));
                        if (more) {
                                *refs = more;
                                (*refs)[(*n)++] = TAKE_STRUCT(img);
                                continue;
                        }
                        /* Without memory to remember it, the record goes: a
                         * cache entry is only ever a shortcut. */
                }
                store_ref_done(&img);
                if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                        (*count)++;
        }
        closedir(d);
        return 0;
}

int store_gc(store *s, struct store_gc_report *ret)
{
        struct store_gc_report rep = { 0 };
        struct store_ref *refs = NULL;
        _cleanup_free_ char *bad = NULL;
        size_t n = 0;
        int r = store_ref_list(s, &refs, &n, &bad);
        if (r < 0)
                return r;
        if (bad) {
                store_ref_list_free(refs, n);
                snprintf(ret->unreadable, sizeof(ret->unreadable), "%s", bad);
                return -ROOST_EFORMAT;
        }
        /* Without a temporary (a full disk, say), gc deletes in place. */
        struct doomed g = { .fd = -1 }, in_place = { .fd = -1 };
        if (store_tmpdir(s, &g.name, &g.fd) < 0)
                g.name = NULL;
        /* Before the blobs: the records kept keep their images'. */
        int r0 = sweep_cache(s, &refs, &n, &rep.cache);
        int r1 = sweep(s, &g, "blobs/sha256", refs, n, KEEP_BLOBS, &rep.blobs, &rep.bytes);
        int r2 = sweep(s, &g, "trees", refs, n, KEEP_LAYERS, &rep.trees, &rep.bytes);
        /* With the store lock held exclusively nobody is downloading. */
        int r3 = sweep(s, &g, "partial", refs, n, KEEP_NONE, &rep.partials, &rep.bytes);
        unsigned records = 0;
        uint64_t ignored = 0;
        (void)sweep(s, &in_place, "layers", refs, n, KEEP_LAYERS, &records, &ignored);
        store_ref_list_free(refs, n);
        /* Count what store_open already removed on our behalf too. */
        int k = store_cleanup(s);
        rep.temporaries = (unsigned)(s->cleaned + (k > 0 ? k : 0)) + sweep_ref_temporaries(s);
        /* Everything is decided: other commands may go on while the
         * garbage is deleted. A gc waiting for the lock exclusively may
         * take it between unlocking and relocking; this one then waits. */
        if (g.name) {
                while (flock(s->lock_fd, LOCK_SH) < 0 && errno == EINTR)
                        ;
                test_pause();
        }
        int r4 = doomed_delete(s, &g, &rep.bytes);
        *ret = rep;
        return r0 < 0 ? r0 : r1 < 0 ? r1 : r2 < 0 ? r2 : r3 < 0 ? r3 : r4;
}
