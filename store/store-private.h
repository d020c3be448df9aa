/* Shared between the store's own files; not part of its public face. */
#pragma once
#include "store/json.h"
#include "store/store.h"

/* The largest reference document, and the largest index, manifest or
 * config, read or written. */
#define STORE_REF_MAX (1 << 16)
#define STORE_DOC_MAX (4 << 20)

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

/* Every readable reference of name ONLY (every name when NULL) for
 * ARCH (every architecture when NULL), appended to *REFS (*N used of
 * *CAP). *BAD (may be NULL) gets the first that cannot be read. */
int store_ref_collect(store *s, const char *only, const char *arch, struct store_ref **refs, size_t *n,
                      size_t *cap, char **bad);

/* References (ref.c): the folder of NAME's tags, tags/<encoded NAME>;
 * the index a tag's file names; an index blob's JSON; the Alpine arch of
 * an index entry's platform (NULL when roost has no name for it). */
#define STORE_NAME_MAX 255
#define REF_DIR_MAX    (STORE_NAME_MAX * 3 + 16)
int ref_dir(const char *name, char *buf, size_t n);
int ref_index_hex(int dirfd, const char *file, char ret[STORE_SHA256_HEX + 1]);
json_t *ref_index_load(store *s, const char *hex);
const char *ref_entry_arch(json_t *m);

/* RFC 3339 times in UTC, as OCI documents carry them. */
int store_time_format(int64_t t, char *buf, size_t n);
int store_time_parse(const char *s, int64_t *ret);

/* Fill RET's digest, config, version (when unset) and layers from the
 * manifest blob DIGEST (oci.c). */
int store_manifest_read(store *s, const char *digest, struct store_ref *ret);

/* An old store (refs/<arch>/<name>:<tag>, one archive per reference) is
 * turned into this layout in place; migrate.c. */
int store_migrate(store *s, bool exclusive);
/* Set by store_enable_migration; store_open calls it on an old store. */
extern int (*store_migrator)(store *s, bool exclusive);
