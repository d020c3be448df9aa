/* unpack: safe, atomic, faithful extraction of tarballs (docs/unpack.md).
 *
 * libarchive only reads: decoding runs on a second thread that feeds a
 * bounded queue, and roost's own writer creates every entry relative to a
 * stack of directory fds, refusing anything that would leave the target. */
#pragma once

#include <stdbool.h>
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
 * failure the directory holds a partial tree that the caller removes. */
int unpack_into(int fd, const char *name, int rootfd, const struct unpack_options *o, roost_error *e);
