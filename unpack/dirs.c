/* The directories whose metadata waits for the end of the archive, one
 * record per path, found again through a small hash table. */
#include "config.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "unpack/unpack-private.h"

/* FNV-1a from a random start, then mixed (murmur3's finaliser): FNV's low
 * bits depend only on the input's low bits, so a hostile archive could
 * otherwise pile its names into a few slots, and the seed keeps it from
 * knowing which. */
static uint64_t hash_path(uint64_t seed, const char *s)
{
        uint64_t h = seed ^ 0xcbf29ce484222325u;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3u;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdu;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53u;
        return h ^ (h >> 33);
}

/* The slot holding PATH, or the empty one where it would go. */
static size_t *find(struct deferred_dirs *d, const char *path)
{
        size_t mask = d->nslot - 1;
        for (size_t i = (size_t)hash_path(d->seed, path) & mask;; i = (i + 1) & mask)
                if (!d->slot[i] || strcmp(d->v[d->slot[i] - 1].path, path) == 0)
                        return &d->slot[i];
}

static int grow(struct deferred_dirs *d)
{
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 64;
                struct deferred *v = realloc(d->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                d->v = v;
                d->cap = cap;
        }
        if (2 * (d->n + 1) <= d->nslot)
                return 0;
        if (!d->nslot && getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
                d->seed = (uint64_t)(uintptr_t)d ^ (uint64_t)d->cap; /* no entropy yet: still not fixed */
        size_t nslot = d->nslot ? d->nslot * 2 : 128;
        size_t *slot = calloc(nslot, sizeof(*slot));
        if (!slot)
                return -ENOMEM;
        free(d->slot);
        d->slot = slot;
        d->nslot = nslot;
        for (size_t i = 0; i < d->n; i++)
                *find(d, d->v[i].path) = i + 1;
        return 0;
}

int deferred_put(struct deferred_dirs *d, const char *const *parts, size_t n, mode_t mode,
                 const struct timespec times[2])
{
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
                len += strlen(parts[i]) + 1;
        char *path = malloc(len + 1), *p = path;
        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                p = stpcpy(stpcpy(p, i ? "/" : ""), parts[i]);
        *p = 0;
        if (grow(d) < 0) {
                free(path);
                return -ENOMEM;
        }
        size_t *s = find(d, path);
        struct deferred *r;
        if (*s) {
                r = &d->v[*s - 1];
                free(path);
        } else {
                r = &d->v[d->n++];
                *s = d->n;
                r->path = path;
                r->depth = (unsigned)n;
        }
        r->removed = false;
        r->mode = mode;
        memcpy(r->times, times, sizeof(r->times));
        return 0;
}

struct deferred *deferred_find(struct deferred_dirs *d, const char *path)
{
        if (!d->nslot)
                return NULL;
        size_t *s = find(d, path);
        return *s ? &d->v[*s - 1] : NULL;
}

static int deeper_first(const void *a, const void *b)
{
        const struct deferred *x = a, *y = b;
        return x->depth < y->depth ? 1 : x->depth > y->depth ? -1 : 0;
}

void deferred_order(struct deferred_dirs *d)
{
        if (d->n)
                qsort(d->v, d->n, sizeof(*d->v), deeper_first);
        /* The table's indices are stale now; nothing looks up after this. */
        free(d->slot);
        d->slot = NULL;
        d->nslot = 0;
}

void deferred_free(struct deferred_dirs *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->v[i].path);
        free(d->v);
        free(d->slot);
        *d = (struct deferred_dirs){ 0 };
}
