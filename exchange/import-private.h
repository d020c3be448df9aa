/* Shared by import's files; not part of exchange.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "exchange/exchange.h"

/* Limits on what an input may make import hold or do. An Alpine image's
 * documents are a few hundred bytes; these leave room for any real image
 * and still stop a hostile one before it costs memory or time. */
#define IMPORT_DOC_MAX      (4u << 20)  /* one JSON document */
#define IMPORT_DOCS_MAX     (64u << 20) /* all the documents an archive holds */
#define IMPORT_ENTRIES_MAX  100000      /* entries an image archive may have */
#define IMPORT_PATHS_MAX    (16u << 20) /* ...and the bytes of their names */
#define IMPORT_MANIFESTS_MAX 1024       /* entries of one index */
#define IMPORT_INDEX_DEPTH  4           /* indexes inside indexes */
#define IMPORT_LAYERS_MAX   256         /* layers of one image (docker's own limit is 127) */

/* Fill E (a message without strerror's text) and return CODE. */
#define import_fail(e, code, ...) (roost_error_set((e), 0, __VA_ARGS__), (code))

/* One regular file of the input, by its path inside it. */
struct import_entry {
        char *path;    /* normalised: no "./" or repeated slashes, never ".." or absolute */
        char *link;    /* a symbolic link's target, as a path inside the input; or NULL */
        uint64_t size;
        char *data;    /* a small document, kept: a JSON object or array */
        unsigned char magic[4]; /* the first bytes, for compression sniffing */
        size_t n_magic;
};

/* The input: an OCI layout directory, or an archive file (standard input
 * is spooled to one first). An archive is read twice: once for its
 * listing and documents (the entries come in any order, and only the
 * documents say which blobs are wanted), once to store what is wanted. */
struct import_source {
        const char *label; /* for messages: the path given, or "-" */
        int dirfd;         /* a layout directory, else -1 */
        int fd;            /* an archive file, else -1 */
        struct import_entry *entries;
        size_t n_entries, cap_entries;
        bool too_many;     /* more entries (or name bytes) than an image's: a root filesystem's */
        uint64_t paths_bytes;
        int filter;        /* the archive's compression (ARCHIVE_FILTER_*) */
        uint64_t docs_bytes;
};

void import_source_done(struct import_source *src);
/* Read the archive FD's listing and keep its documents. */
int import_source_scan(struct import_source *src, roost_error *e);
/* Whether the archive lists PATH, once or more: what tells the formats
 * apart (a document there twice is refused when it is read). */
bool import_source_has(struct import_source *src, const char *path);
/* The entry of PATH (a symbolic link followed once, inside the input), or
 * NULL (also when it is there twice). */
const struct import_entry *import_source_find(struct import_source *src, const char *path);
/* The document at PATH, at most IMPORT_DOC_MAX bytes, NUL-terminated
 * (owned by SRC): -ROOST_ENOTFOUND when there is none. */
int import_source_doc(struct import_source *src, const char *path, const char **ret, size_t *ret_n,
                      roost_error *e);
/* As import_source_doc, for the blob sha256 HEX, which must hash to HEX
 * and be SIZE bytes when SIZE >= 0. */
int import_source_blob_doc(struct import_source *src, const char *hex, int64_t size, const char **ret,
                           size_t *ret_n, roost_error *e);
/* Whether PATH names something regular in the input; *RET_SIZE its size. */
int import_source_stat(struct import_source *src, const char *path, uint64_t *ret_size, roost_error *e);
/* Whether PATH (inside the input) is a safe relative path: no "..", not
 * absolute, not empty. */
bool import_path_safe(const char *path);

/* One blob to store: the file PATH of the input, which must hash to
 * SHA256 (or, when SHA256 is empty, is hashed by import_source_hash
 * first) and be SIZE bytes when SIZE >= 0. A layer's diff_id is recorded
 * by the store as it is written (GZIP: inflated first). */
struct import_want {
        const char *path;
        char sha256[STORE_SHA256_HEX + 1];
        int64_t size;
        bool layer, gzip;
        const char *what; /* for messages: "layer 2", "config" */
        bool done;
};
/* Fill the sha256 of every want that has none, by reading it once. */
int import_source_hash(struct import_source *src, struct import_want *w, size_t n, roost_error *e);
/* Store every want, each verified as it is written; one pass over an
 * archive, in its order. */
int import_source_store(struct import_source *src, store *s, struct import_want *w, size_t n, roost_error *e);

/* What every format's reader gives exchange_import: the image stored,
 * and what the input names it (a full reference or a tag alone, or
 * NULL). */
struct import_image {
        char digest[STORE_SHA256_HEX + 1];
        const char *arch;
        char *own_ref;
        size_t n_layers;
        /* A roost export's detached signature over the one layer LAYER,
         * as the file carried it: checked again before it counts. */
        char *sig;
        size_t sig_len;
        char layer[STORE_SHA256_HEX + 1];
};
#define IMPORT_SIGNATURE_MAX (64 << 10)

/* Choose NAME:TAG from O and the input's own reference OWN (docs/exchange.md, "roost import");
 * -ROOST_EUSAGE with E saying what to give when neither names it. */
int import_pick_name(const struct exchange_import_options *o, const char *own, char **ret_name, char **ret_tag,
                     roost_error *e);

/* Each format: read SRC (scanned, or a directory), store its blobs, and
 * leave the image's manifest in the store. Naming is checked (through
 * import_pick_name, into *RET_NAME and *RET_TAG) before anything is stored. */
int import_oci(struct import_source *src, store *s, const struct exchange_import_options *o,
               struct import_image *ret, char **ret_name, char **ret_tag, roost_error *e);
int import_docker(struct import_source *src, store *s, const struct exchange_import_options *o,
                  struct import_image *ret, char **ret_name, char **ret_tag, roost_error *e);
int import_rootfs(struct import_source *src, store *s, const struct exchange_import_options *o,
                  struct import_image *ret, roost_error *e);
/* roost's earlier export, as roost import always read it: checked and
 * stored whole, reference included (store_ref_v1_publish). */
int import_roost(store *s, int fd, const char *label, struct exchange_import_result *ret, roost_error *e);

/* The Alpine arch of an image config's platform (JSON text), or NULL with
 * E filled. */
const char *import_config_arch(const char *config, const char *label, roost_error *e);
/* Whether each layer's diff_id, as the store recorded it, is the config's
 * rootfs.diff_ids entry: -ROOST_EDIGEST naming the first that is not. */
int import_check_diff_ids(store *s, const char *label, const char *config, const struct store_layer *layers,
                          size_t n, roost_error *e);
