/* Shared between the store's own files; not part of its public face. */
#pragma once
#include "store/store.h"

/* The largest reference document read or written. */
#define STORE_REF_MAX (1 << 16)

struct store {
        char *root;
        int fd;
        int lock_fd;
        int busy_fd;    /* store_unlock's shared lock on "busy", or -1 */
        int cleaned;    /* temporaries store_open removed */
        bool made;      /* store_open made the store's lock: it did not exist */
        bool made_root; /* ...and its root folder too */
        bool read_only; /* opened with STORE_READ on a store it cannot write */
};

/* The store's names for an object, relative to its root (lookup.c):
 * blobs/sha256/<hex>, and trees/<hex> or trees/<hex>/BELOW. */
void store_blob_name(const char *sha256, char *buf, size_t n);
void store_tree_name(const char *sha256, const char *below, char *buf, size_t n);

/* Take an exclusive lock on locks/<kind>-<key>, waiting for it. Returns
 * the fd holding the lock. */
int store_lock_object(store *s, const char *kind, const char *key);

/* The tree's in-use mark taken exclusively, without waiting: -EBUSY when a
 * running container holds it (gc.c). */
int store_tree_use_exclusive(store *s, const char *sha256);

/* Append to *REFS (*N used of *CAP) every readable reference below
 * refs/ARCH, or only those of name ONLY when it is not NULL. *BAD (may be
 * NULL) gets the first that cannot be read. -ENOENT when ARCH has none. */
int store_ref_list_arch(store *s, const char *arch, const char *only, struct store_ref **refs, size_t *n,
                        size_t *cap, char **bad);
