/* The store: roost's on-disk contract, in one place.
 *
 * Layout below the root (docs/store.md describes it for users):
 *   lock                      flock: shared by every command, exclusive for gc
 *   busy                      flock: shared by a command that gave up lock
 *                             (store_unlock) but still uses the store
 *   blobs/sha256/<hex>        OCI blobs (layers, configs, manifests,
 *                             indexes), content-addressed, read-only
 *   layers/<hex>              each layer blob's diff_id, as computed
 *   partial/<hex>             downloads in progress, keyed by expected sha256
 *   trees/<hex>/rootfs        unpacked layers, keyed by their blob's sha256
 *   tags/<name>/<tag>         references, naming an index blob each; a
 *                             name's '/' is written %2F
 *   tmp/<pid>.<random>        anything being written; removed when abandoned
 *   locks/<kind>-<key>        per-object locks
 *   containers/<name>/        a named container's writable layer (lock,
 *                             origin, upper, work), kept between launches
 *   cache/<key>               a build step's record: the image it made
 *
 * Nothing appears under a final name before it is complete: writers work in
 * tmp/ or partial/, fsync, and rename. Every path is reached relative to the
 * store's directory fd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "common/util.h"

#define STORE_SHA256_HEX 64
#define STORE_SHA512_HEX 128

typedef struct store store;

enum {
        STORE_EXCLUSIVE = 1 << 0, /* hold the store lock exclusively (gc) */
        STORE_NO_CREATE = 1 << 1, /* fail with -ENOENT instead of creating the root */
        /* The command only reads: a store it cannot write (a read-only
         * medium, or another user's) opens read-only instead of failing
         * with -EROFS or -EACCES. */
        STORE_READ = 1 << 2,
};

/* The root a command uses: OVERRIDE (its --store) when not NULL, else
 * ROOST_STORE, else /var/lib/roost for root, else $XDG_DATA_HOME/roost or
 * ~/.local/share/roost. */
int store_default_root(const char *override, char **ret);

/* Open (creating with mode 0700 unless STORE_NO_CREATE) the store at ROOT,
 * take its lock, and remove what dead writers left in tmp/. */
int store_open(const char *root, unsigned flags, store **ret);
/* Let store_open migrate a store written in roost's earlier layout
 * (docs/store.md) in place; without it such a store is -ROOST_EOLDSTORE.
 * The tools that hash (pull, unpack, roost) enable it. */
void store_enable_migration(void);

/* Close S. A store this handle made (it had no lock file) and that holds
 * nothing, with no other command in it, is removed again: a failed first
 * command leaves no empty skeleton (docs/store.md). */
void store_close(store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(store *, store_close)
#define _cleanup_store_ _cleanup_(store_closep)
/* The store this command made is to stay even if it ends empty: a command
 * that used it and will again (a launch whose container ran keeps its tmp/
 * and locks), where making and removing it each time would cost more than
 * the command. */
void store_keep(store *s);
/* Opened with STORE_READ on a store this process cannot write: nothing
 * can be added, and nobody can collect anything from it either. */
bool store_read_only(const store *s);
const char *store_root(const store *s);
int store_dirfd(const store *s);

/* Give up the store lock while keeping the handle for paths: for a command
 * that runs long after its store work is done (a container), so that gc
 * need not wait for it. What it still uses must be protected otherwise
 * (store_tree_use). */
int store_unlock(store *s);

/* Remove abandoned temporaries (owner dead and lock free). Returns how many
 * entries were removed. store_open calls it. */
int store_cleanup(store *s);

/* ---- digests ---- */

typedef struct store_hash store_hash;
int store_hash_new(store_hash **ret);
void store_hash_free(store_hash *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(store_hash *, store_hash_free)
#define _cleanup_store_hash_ _cleanup_(store_hash_freep)
int store_hash_update(store_hash *h, const void *buf, size_t n);
/* Also inflate what is fed (gzip) and hash the result: a layer's diff_id.
 * Only before the first update. */
int store_hash_want_diff_id(store_hash *h);
/* The diff_id of everything fed, which must be whole gzip: -ROOST_EFORMAT
 * when the stream is cut short. */
int store_hash_diff_id(store_hash *h, char sha256[STORE_SHA256_HEX + 1]);
/* Hex digests of everything seen so far; the hash may still be updated. */
int store_hash_peek(store_hash *h, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1]);
/* Hash no more bytes into the SHA-512 (a signature proves them instead):
 * store_hash_peek then refuses to give one (-ENODATA). */
void store_hash_skip_sha512(store_hash *h);

/* Feed the whole of FD (from offset 0, with pread: its position is left
 * alone) into H; *ret_size (may be NULL) says how many bytes. */
int store_hash_fd(store_hash *h, int fd, uint64_t *ret_size);

bool store_digest_valid(const char *sha256);

/* ---- blobs ---- */

typedef struct store_blob store_blob;

/* Begin (or resume) writing the blob whose sha256 is expected to be SHA256.
 * Takes an exclusive lock on partial/<sha256> and waits for it, so two
 * writers of one object never write the same bytes. Bytes already present
 * from an interrupted writer are hashed and kept: store_blob_offset() says
 * how many. If the blob is already stored, returns 1 and sets *ret NULL. */
int store_blob_begin(store *s, const char *sha256, store_blob **ret);
uint64_t store_blob_offset(const store_blob *b);
/* Forget resumed bytes and start from zero. */
int store_blob_restart(store_blob *b);
int store_blob_write(store_blob *b, const void *buf, size_t n);
/* The last byte is in: write out what is buffered and start its
 * writeback, so that it runs while the digests (and a signature's
 * verdict) are awaited and the fsync before publishing finds little left
 * to write. Optional; 0, or a negative errno (a full disk). */
int store_blob_written(store_blob *b);
int store_blob_digests(store_blob *b, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1]);
/* Hand every byte of the blob, from its first, to FN too: a check that
 * must see the whole stream (a signature). The bytes a resumed partial
 * file already holds are read back and handed over now; after that FN
 * sees what store_blob_write is given, before it is hashed. When the blob
 * starts again from nothing (store_blob_restart), FN is called with BUF
 * NULL and N 0. A negative return from FN fails the write with it. */
int store_blob_tee(store_blob *b, int (*fn)(void *userdata, const void *buf, size_t n), void *userdata);
/* Compute no SHA-512 of the blob (its signature proves the bytes): the
 * sha512 of store_blob_digests must then be NULL. */
void store_blob_skip_sha512(store_blob *b);
/* Verify that the bytes hash to the expected sha256, fsync, and publish
 * read-only under blobs/sha256/. -ROOST_EDIGEST (and the partial file
 * removed) when they do not. Frees B. */
int store_blob_commit(store_blob *b);
/* Give up. KEEP leaves the partial file for a later resume. Frees B. */
void store_blob_abort(store_blob *b, bool keep);
/* A blob not committed (store_blob_commit(TAKE_PTR(b))) is given up and
 * its partial file removed: a caller that wants its bytes kept for a
 * resume says so with store_blob_abort(TAKE_PTR(b), true). */
static inline void store_blob_abortp(store_blob **b)
{
        store_blob_abort(*b, false);
}
#define _cleanup_store_blob_ _cleanup_(store_blob_abortp)

/* As store_blob_begin, for a layer: the blob's diff_id (the SHA-256 of
 * the tar inside) is computed as the bytes are written, beside the other
 * digests, when COMPRESSED says it is gzip; a plain tar's is its digest.
 * store_blob_commit then records it (store_layer_diff_id). */
int store_blob_begin_layer(store *s, const char *sha256, bool gzip, store_blob **ret);
/* Begin a blob whose digest is known only once it is all written (a
 * layer roost makes itself, e.g. a container's commit): its bytes go to a
 * temporary of its own in tmp/ (removed with its writer, should it die),
 * hashed as they come. store_blob_write, store_blob_digests and
 * store_blob_abort apply; store_blob_commit does not (no name to verify):
 * store_blob_publish names it. */
int store_blob_begin_new(store *s, store_blob **ret);
/* Publish B under the SHA-256 of its bytes (*RET_SHA256): fsync, read-only,
 * renamed into blobs/sha256/ (a copy already stored is kept, ours dropped).
 * When DIFF_ID is not NULL the blob is a layer and DIFF_ID (the SHA-256 of
 * the tar inside, which its writer computed; the store reads no tar) is
 * recorded first, as store_layer_diff_id reads it. Frees B. */
int store_blob_publish(store_blob *b, const char *diff_id, char ret_sha256[STORE_SHA256_HEX + 1]);
/* Write a small blob from memory; *RET_SHA256 gets its name. */
int store_blob_put(store *s, const void *buf, size_t n, char ret_sha256[STORE_SHA256_HEX + 1]);
/* Read a small blob (at most MAX bytes) into a NUL-terminated buffer. */
int store_blob_read(store *s, const char *sha256, size_t max, char **ret, size_t *ret_n);
/* The diff_id of the layer blob SHA256, as recorded when it was written,
 * else computed now (one pass: inflated and hashed) and recorded. GZIP
 * says how the blob is compressed. */
int store_layer_diff_id(store *s, const char *sha256, bool gzip, char ret[STORE_SHA256_HEX + 1]);

bool store_blob_exists(store *s, const char *sha256);
int store_blob_open(store *s, const char *sha256); /* O_RDONLY fd */
int store_blob_size(store *s, const char *sha256, uint64_t *ret);
int store_blob_remove(store *s, const char *sha256);

/* ---- references and images (OCI image-spec v1.1) ---- */

/* One layer of an image, bottom first in an image's list. */
struct store_layer {
        char *digest;     /* hex sha256 of the blob as stored (compressed) */
        char *diff_id;    /* hex sha256 of the uncompressed tar */
        char *media_type; /* application/vnd.oci.image.layer.v1.tar+gzip, ... */
        uint64_t size;
};

/* A reference NAME:TAG as seen for one architecture: the image it names
 * there and what the store knows of where it came from. */
struct store_ref {
        char *name;    /* "alpine", "127.0.0.1:5000/team/app" */
        char *tag;     /* "3.22", "3.22.1", "edge", "latest-stable" */
        char *arch;    /* Alpine's arch name: "x86_64", "aarch64", ... */
        char *version; /* the release it resolved to: "3.22.1"; may be NULL */
        char *source;  /* URL (or file:// path) it came from; may be NULL */
        char *digest;  /* hex sha256 of the image's manifest: the image's id */
        char *config;  /* hex sha256 of its config */
        char *index;   /* hex sha256 of the reference's index (read only) */
        char *sha512;  /* the single layer's SHA-512 as its mirror published it; may be NULL */
        char *verdict;   /* "signed" or "unsigned" as pull found the release; NULL: no record */
        char *signature; /* signed: hex sha256 of the stored detached signature (.asc) blob */
        char *signer;    /* signed: the signing key's primary fingerprint, upper-case hex */
        uint64_t size; /* the layers' compressed bytes */
        int64_t created; /* when it was stored, seconds since the epoch */
        struct store_layer *layers;
        size_t n_layers;
};

/* Split "name[:tag]" (or NAME and a separate TAG) into checked parts. A
 * missing tag becomes DEFAULT_TAG, or stays NULL when DEFAULT_TAG is NULL
 * (a bare name, for store_ref_match). Names follow docker's grammar
 * (components of [a-z0-9] joined by '.', '_', '__' or '-', separated by
 * '/', the first one optionally a registry host[:port]); tags
 * [A-Za-z0-9_][A-Za-z0-9._-]*; at most 255 and 128 bytes. A name is kept
 * under tags/ with each '/' written %2F, so none can name a path outside.
 * NAME@sha256:HEX (a registry's image by digest) is NAME with the tag
 * sha256-HEX. Docker Hub's names are docker's: docker.io/alpine and
 * index.docker.io/library/alpine are docker.io/library/alpine. */
int store_ref_parse(const char *text, const char *default_tag, char **ret_name, char **ret_tag);
bool store_ref_name_valid(const char *name);
/* Whether NAME is a registry's (docker's rule: its first component holds
 * a '.' or a ':', or is "localhost"), whose default tag is "latest". */
bool store_ref_name_remote(const char *name);
bool store_ref_tag_valid(const char *tag);
bool store_arch_valid(const char *arch);

/* Add the image REF->digest (a manifest blob whose config and layers are
 * all stored: -ENOENT otherwise) as REF->arch's platform of NAME:TAG,
 * replacing what that platform had. The reference's index lists only the
 * platforms present. REF->version, ->source, ->sha512, ->created and the
 * signature's record (->verdict, ->signature, ->signer) are recorded as
 * the store's own annotations on the index; a signature blob that is not
 * stored is -ENOENT, as a layer is. */
int store_ref_write(store *s, const struct store_ref *ref);
int store_ref_read(store *s, const char *name, const char *tag, const char *arch, struct store_ref *ret);
/* Remove ARCH's platform from NAME:TAG; the reference goes with its last. */
int store_ref_remove(store *s, const char *name, const char *tag, const char *arch);
/* Every reference that can be read, one entry per platform, sorted.
 * *RET_UNREADABLE (may be NULL) gets the path below the store of the
 * first one that cannot (too large, not JSON, an index or manifest that
 * cannot be read), or NULL: gc must not run past one, since what it names
 * would look unreferenced. Free it. */
int store_ref_list(store *s, struct store_ref **ret, size_t *ret_n, char **ret_unreadable);
void store_ref_done(struct store_ref *ref);
/* For a struct store_ref variable (zeroed where declared); hand it on with
 * TAKE_STRUCT. */
#define _cleanup_store_ref_ _cleanup_(store_ref_done)
void store_ref_list_free(struct store_ref *refs, size_t n);
/* The JSON form of a reference for --json output. */
int store_ref_to_json(const struct store_ref *ref, char **ret);

/* The reference document of roost's earlier layout, as its exports carry
 * it: one archive (LAYER) per reference. Parse it, write it (REF must
 * have one layer), and store it as an image (store_image_put_rootfs,
 * its layer stored already) under its name and tag. */
int store_ref_v1_parse(const char *text, struct store_ref *ret, char layer[STORE_SHA256_HEX + 1]);
int store_ref_v1_json(const struct store_ref *ref, char **ret);
int store_ref_v1_publish(store *s, struct store_ref *ref, const char *layer);

/* OCI's platform for Alpine's arch name ("x86_64" -> amd64, "armv7" ->
 * arm v7, ...) and back; NULL when there is none. */
int store_arch_to_platform(const char *arch, const char **ret_arch, const char **ret_variant);
const char *store_arch_from_platform(const char *architecture, const char *variant);

/* docker's default PATH: what an image that sets none is given. */
#define STORE_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#define STORE_MEDIA_INDEX           "application/vnd.oci.image.index.v1+json"
#define STORE_MEDIA_MANIFEST        "application/vnd.oci.image.manifest.v1+json"
#define STORE_MEDIA_CONFIG          "application/vnd.oci.image.config.v1+json"
#define STORE_MEDIA_LAYER_TAR       "application/vnd.oci.image.layer.v1.tar"
#define STORE_MEDIA_LAYER_GZIP      "application/vnd.oci.image.layer.v1.tar+gzip"
#define STORE_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define STORE_MEDIA_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Whether layer L's blob is gzip (else a plain tar). */
bool store_layer_gzip(const struct store_layer *l);

/* What an image's config says about running it, as launch reads it. */
struct store_image_config {
        char **env;        /* NULL-terminated "K=V"; NULL when unset */
        char **entrypoint; /* NULL when unset */
        char **cmd;        /* NULL when unset */
        char *workdir;     /* NULL when unset */
        char *user;        /* NULL when unset */
        int64_t created;   /* 0 when unset */
        char *created_by;  /* written only: the history entry's command */
};
void store_image_config_done(struct store_image_config *c);

/* Write the config and the manifest of an image of ARCH whose LAYERS
 * (bottom first, each blob stored, diff_id known) are configured by CFG,
 * with the manifest annotation org.opencontainers.image.version VERSION
 * (may be NULL). JSON with sorted keys, no whitespace: the same inputs give
 * the same image digest anywhere. *RET_DIGEST: the manifest's hex. */
int store_image_put(store *s, const char *arch, const struct store_layer *layers, size_t n_layers,
                    const struct store_image_config *cfg, const char *version,
                    char ret_digest[STORE_SHA256_HEX + 1]);
/* Write the manifest of an image whose config blob CONFIG (CONFIG_SIZE
 * bytes, stored as it came: docker's or OCI's JSON) and LAYERS (bottom
 * first, each blob stored) are given, as store_image_put writes its own:
 * sorted keys, no whitespace, the annotation
 * org.opencontainers.image.version VERSION (may be NULL). For an image
 * that came without an OCI manifest (a docker-archive). *RET_DIGEST: the
 * manifest's hex. */
int store_manifest_put(store *s, const char *config, uint64_t config_size, const struct store_layer *layers,
                       size_t n_layers, const char *version, char ret_digest[STORE_SHA256_HEX + 1]);
/* The image of one root filesystem LAYER (gzip, DIFF_ID known), run as
 * a shell: Env PATH, Cmd /bin/sh, created CREATED, its history naming
 * CREATED_BY. An Alpine release pulled or migrated is this. */
int store_image_put_rootfs(store *s, const char *arch, const char *layer, const char *diff_id, uint64_t size,
                           const char *version, int64_t created, const char *created_by,
                           char ret_digest[STORE_SHA256_HEX + 1]);
/* Store the config CONFIG (an OCI image config as JSON, kept byte for
 * byte) and the manifest naming it and LAYERS (bottom first, each stored:
 * -ENOENT otherwise), as store_image_put does: for an image made from
 * another (roost commit), whose config carries more than
 * store_image_config says (history, labels). CONFIG's rootfs.diff_ids must
 * be LAYERS' diff_ids, in order: -EINVAL otherwise. */
int store_image_put_config(store *s, const char *config, const struct store_layer *layers, size_t n_layers,
                           const char *version, char ret_digest[STORE_SHA256_HEX + 1]);
/* The image (manifest) DIGEST: its config, and its layers with their
 * diff_ids, into RET (name, tag and arch left unset); store_ref_done. */
int store_image_read(store *s, const char *digest, struct store_ref *ret);
/* Read the config blob CONFIG. */
int store_image_config_read(store *s, const char *config, struct store_image_config *ret);

/* ---- what a user's reference means ---- */

/* Alpine's version order: numbers compare as numbers (3.9 < 3.10), and a
 * suffix after '_' sorts before its release (3.21.0_rc1 < 3.21.0). */
int store_version_compare(const char *a, const char *b);
/* VERSION is a release's, as pull resolves one: three numbers and an
 * optional _suffix ("3.20.3", "3.21.0_rc1"); not edge's date. */
bool store_version_is_release(const char *version);
/* Newest first: references whose version is a release by version order,
 * then the others by when they were pulled, most recent first. */
void store_ref_sort_newest(struct store_ref *refs, size_t n);

/* Every stored reference that NAME[:TAG] may mean for ARCH, newest first
 * (*RET_N may be 0):
 *   TAG NULL, a bare "alpine": every reference of NAME;
 *   TAG stored, "alpine:3.20", "alpine:latest-stable": that one alone;
 *   TAG a release not stored under that tag, "alpine:3.20.3": those of NAME
 *       whose version it is, whatever tag they were pulled under.
 * A reference that cannot be read is left out, except the one TAG names:
 * its error is returned. */
int store_ref_match(store *s, const char *name, const char *tag, const char *arch, struct store_ref **ret,
                    size_t *ret_n);
/* What a command that reads an image uses: the first of store_ref_match,
 * or -ROOST_ENOTFOUND. */
int store_ref_resolve(store *s, const char *name, const char *tag, const char *arch, struct store_ref *ret);


/* ---- unpacked trees ---- */

typedef struct store_tree store_tree;

/* Begin writing the tree for blob SHA256 in a fresh temporary directory.
 * Takes the tree's lock and waits for it; returns 1 with *ret NULL when the
 * tree already exists. store_tree_dirfd() is the empty root to fill. */
int store_tree_begin(store *s, const char *sha256, store_tree **ret);
/* The same, to replace the tree (a damaged one) if there is one: holds its
 * in-use mark exclusively until commit or abort, so that no launch starts
 * on it meanwhile (they wait); -EBUSY when a running container uses it. */
int store_tree_begin_replace(store *s, const char *sha256, store_tree **ret);
int store_tree_dirfd(const store_tree *t);
/* The directory beside the root, for files that describe the tree
 * (a manifest). */
int store_tree_metafd(const store_tree *t);
/* syncfs and rename into trees/<sha256> (exchanged with the old tree, which
 * is then removed, when begun to replace). Frees T. */
int store_tree_commit(store_tree *t);
void store_tree_abort(store_tree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(store_tree *, store_tree_abort)
#define _cleanup_store_tree_ _cleanup_(store_tree_abortp)

/* Publish the directory NAME below DIRFD, which must be on the store's
 * file system, as the tree of blob SHA256, moving it there (renamed into a
 * fresh temporary, then as store_tree_commit): for a layer whose tree the
 * caller already holds in the form unpack gives it (a build step's upper
 * directory), which spares extracting the blob again. 1 and NAME left
 * alone when the tree exists; -EXDEV on another file system. */
int store_tree_adopt(store *s, const char *sha256, int dirfd, const char *name);

bool store_tree_exists(store *s, const char *sha256);
/* Absolute path of trees/<sha256>/rootfs, for mount(2). */
int store_tree_path(store *s, const char *sha256, char **ret);
int store_tree_remove(store *s, const char *sha256);

/* ---- temporaries ---- */

/* Make a directory tmp/<pid>.<random> that store_cleanup removes once its
 * creator is dead. The returned fd holds its lock; close it to release. */
int store_tmpdir(store *s, char **ret_name, int *ret_fd);

/* Whether a one-time note NAME (a plain file name) is still to be given
 * for this store: 1 the first time (and it is then marked given), 0 after,
 * negative when the store cannot record it (a read-only store). */
int store_note_once(store *s, const char *name);

/* Absolute path for NAME relative to the store root, for callers that must
 * hand a path to the kernel (mount, overlay options). */
int store_path(const store *s, const char *relative, char **ret);

/* ---- named containers' layers ---- */

/* Lock the layer of container NAME (a valid reference name), creating
 * its directory when missing. Returns the fd holding the lock (close it to
 * release) and, in *ret_dirfd, the layer's directory; -EBUSY while another
 * process holds it, -EINVAL for a bad name. */
int store_container_lock(store *s, const char *name, int *ret_dirfd);
/* The same for a layer that exists, which it never creates: -ENOENT when
 * NAME has none. For a command that works on a stopped container's layer
 * (roost commit): while it holds the lock no launch can start on it. */
int store_container_take(store *s, const char *name, int *ret_dirfd);
/* NAME's layer directory (read-only fd), neither locked nor made:
 * -ENOENT when there is none. For listing. */
int store_container_dirfd(store *s, const char *name);
/* Whether a launch holds NAME's layer now, read from the kernel's table
 * of locks without taking the lock (which would refuse a launch starting
 * in that instant). */
bool store_container_in_use(store *s, const char *name);
/* The names of the containers that have a layer, sorted; a NULL-terminated
 * vector (strv_free). */
int store_container_list(store *s, char ***ret, size_t *ret_n);
/* Absolute path of PART ("upper", "work") of NAME's layer, for overlayfs. */
int store_container_path(const store *s, const char *name, const char *part, char **ret);
/* Remove NAME's layer: -ENOENT when there is none, -EBUSY while a launch
 * uses it. A removal cut short is finished by the next store_cleanup. */
int store_container_remove(store *s, const char *name);

/* ---- the build cache ---- */

/* cache/KEY (KEY: a hex SHA-256 the builder computes; opaque here) names
 * the image a build step made. Read: -ENOENT when there is no record or
 * its image is no longer stored. Written atomically; a record is one
 * line, "sha256:<manifest hex>". store_gc keeps a record (and its image's
 * manifest and config) only while every layer of its image is a layer of
 * a referenced image, and removes it otherwise. */
int store_cache_read(store *s, const char *key, char ret_digest[STORE_SHA256_HEX + 1]);
int store_cache_write(store *s, const char *key, const char *digest);
int store_cache_remove(store *s, const char *key);

/* ---- use and collection ---- */

/* Mark the tree of SHA256 as in use by a running container until the
 * returned fd is closed (a shared lock on locks/use-<sha256>). rm and gc
 * leave such trees alone. */
int store_tree_use(store *s, const char *sha256);
/* true when some process holds the tree in use. */
bool store_tree_in_use(store *s, const char *sha256);

struct store_gc_report {
        unsigned blobs, trees, partials, temporaries;
        unsigned cache; /* build cache records removed */
        uint64_t bytes;       /* freed, as counted by st_blocks */
        char unreadable[512]; /* with -ROOST_EFORMAT: the reference in the way */
};
/* Remove what no reference needs: blobs and trees of no reference,
 * partial downloads, abandoned temporaries. Needs STORE_EXCLUSIVE, and
 * returns with the store lock shared: the removed entries are deleted
 * after the lock is given back (docs/store.md); still exclusive where no
 * temporary could be made, and they were deleted in place.
 * Removes nothing and returns -ROOST_EFORMAT when a reference cannot be
 * read: what it names would look unreferenced. */
int store_gc(store *s, struct store_gc_report *ret);

/* Hash a stored blob again; -ROOST_EDIGEST when it no longer matches its
 * name. SHA512 (may be NULL) is checked too when given. */
int store_blob_verify(store *s, const char *sha256, const char *sha512);

/* Bytes used by a directory tree below the store (st_blocks), for listings. */
int store_tree_usage(store *s, const char *sha256, uint64_t *ret);

/* ---- manifests ---- */

/* Record every entry of the tree below ROOTFD (path, type, mode, owner,
 * size, symlink target, SHA-256 of content) as JSON lines in
 * manifest.jsonl below METAFD. store_tree_commit calls it. */
int store_manifest_write(int rootfd, int metafd);

/* Check the stored tree of SHA256 against its manifest. DAMAGED is called
 * once for every path that is missing, changed or unexpected, with what
 * differs ("content", "mode", "missing", "unexpected", ...). Returns the
 * number of damaged paths, or negative on error (-ENOENT: no manifest). */
int store_manifest_check(store *s, const char *sha256,
                         void (*damaged)(void *userdata, const char *path, const char *what), void *userdata);
