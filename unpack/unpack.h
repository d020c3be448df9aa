/* unpack: safe, atomic, faithful extraction of tarballs (docs/unpack.md).
 *
 * libarchive only reads: decoding runs on a second thread that feeds a
 * bounded queue, and roost's own writer creates every entry relative to a
 * stack of directory fds, refusing anything that would leave the target. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "store/store.h"

struct archive;

/* Let the reader A decompress what libarchive decodes itself (gzip,
 * bzip2, xz, lzma, lzip, zstd, lz4, compress), each only where libarchive
 * was built with its library: never by running a program found in PATH. */
void unpack_read_filters(struct archive *a);

/* Defaults when a limit is 0. Alpine's minirootfs is about 8 MB in 500
 * entries; these leave room for much larger trees and still stop a bomb. */
#define UNPACK_DEFAULT_MAX_BYTES   (UINT64_C(16) << 30) /* 16 GiB of file data */
#define UNPACK_DEFAULT_MAX_ENTRIES UINT64_C(1000000)
/* Nesting deeper than this is refused: each level holds a directory fd. */
#define UNPACK_MAX_DEPTH 256

/* What an OCI whiteout entry becomes (docs/unpack.md, "Layers and
 * whiteouts"): ".wh.NAME" deletes NAME of the layers below, and
 * ".wh..wh..opq" hides what they put in its directory. */
enum unpack_whiteouts {
        /* Ordinary files: a plain tarball that is no image layer. */
        UNPACK_WHITEOUT_KEEP = 0,
        /* A layer tree for overlayfs to stack: ".wh.NAME" becomes a
         * whiteout (character device 0/0) at NAME, ".wh..wh..opq" the
         * opaque attribute of its directory. */
        UNPACK_WHITEOUT_OVERLAY,
        /* Layers flattened into one tree: ".wh.NAME" removes NAME and
         * ".wh..wh..opq" its directory's contents, of what the layers
         * below put there; what this layer itself made stays. */
        UNPACK_WHITEOUT_APPLY,
};

struct unpack_options {
        uint64_t max_bytes;   /* 0: UNPACK_DEFAULT_MAX_BYTES */
        uint64_t max_entries; /* 0: UNPACK_DEFAULT_MAX_ENTRIES */
        /* Called now and then with compressed bytes read so far and the
         * input's size (0 when unknown, e.g. a pipe). May be NULL. */
        void (*progress)(void *userdata, uint64_t done, uint64_t total);
        void *userdata;
        /* Non-fatal problems (a device node skipped when unprivileged, an
         * extended attribute the file system refused), one line each; what
         * was left out on purpose, as one line of counts at the end. May
         * be NULL. */
        void (*warn)(void *userdata, const char *msg);
        /* Outside the store (unpack_file, unpack_fd, unpack_into) a tree
         * gets no device nodes, no setuid or setgid bit on anything but a
         * directory and no file capability, unless asked for here: a
         * directory of the user's choice may be reachable by other users,
         * who would open the node or run the file with its privileges. The
         * store's trees (unpack_image) always get everything: they sit in
         * the store's private tmp/ and trees/. docs/unpack.md, "Privileged
         * files". */
        bool keep_devices;
        bool keep_setid; /* set-id bits and security.capability */
        enum unpack_whiteouts whiteouts;
        /* UNPACK_WHITEOUT_OVERLAY: mark opaque directories (and whiteouts,
         * where the kernel refuses the 0/0 node) with user.overlay.*, for
         * an overlay mounted with userxattr (a store not root's), rather
         * than trusted.overlay.*, which only root may set. */
        bool overlay_user_xattrs;
};

/* Extract the stored blob SHA256 into the store's tree for it
 * (store_tree_begin/commit: temporary dir, rename into place). Returns 0 when
 * extracted, 1 when the tree was already there, negative with E filled (one
 * line naming the problem and the entry) on failure, leaving no tree. */
int unpack_image(store *s, const char *sha256, const struct unpack_options *o, roost_error *e);
/* The same, replacing a tree that is there (a damaged one, as roost verify
 * reports): extracted anew from the stored archive and exchanged with the
 * old one in one rename. -EBUSY while a running container uses it. */
int unpack_image_repair(store *s, const char *sha256, const struct unpack_options *o, roost_error *e);

/* Extract archive file PATH ("-" for stdin) into directory DIR, which must not
 * exist or be empty: extract into a temporary directory next to DIR, rename
 * into place on success. */
int unpack_file(const char *path, const char *dir, const struct unpack_options *o, roost_error *e);

/* As unpack_file, reading the archive from the open file descriptor FD (not
 * closed); NAME is used in messages. */
int unpack_fd(int fd, const char *name, const char *dir, const struct unpack_options *o, roost_error *e);

/* Extract the archive read from FD into the empty directory ROOTFD, with
 * the privileged files O asks for. The building block of the above; on
 * failure the directory holds a partial tree that the caller removes.
 * With UNPACK_WHITEOUT_OVERLAY this makes one layer's tree for overlayfs
 * (keep_devices and keep_setid for a store tree, as unpack_image); the
 * opaque attribute on ROOTFD itself, which overlayfs ignores on a layer's
 * root, says the layer hides every layer below it. With
 * UNPACK_WHITEOUT_APPLY, ROOTFD need not be empty: what it holds is taken
 * for the layers below. */
int unpack_into(int fd, const char *name, int rootfd, const struct unpack_options *o, roost_error *e);

/* Flatten the N layer archives FDS (bottom first; NAMES for messages)
 * into directory DIR, which must not exist or be empty, as unpack_fd does:
 * in a temporary directory next to DIR, renamed into place once every
 * layer went in. Whiteouts apply (UNPACK_WHITEOUT_APPLY, whatever O
 * says); the limits of O count all layers together. */
int unpack_layers(const int *fds, const char *const *names, size_t n, const char *dir,
                  const struct unpack_options *o, roost_error *e);
/* The same into the empty directory ROOTFD, without the temporary: on
 * failure ROOTFD holds a partial tree that the caller removes. */
int unpack_layers_into(const int *fds, const char *const *names, size_t n, int rootfd,
                       const struct unpack_options *o, roost_error *e);
