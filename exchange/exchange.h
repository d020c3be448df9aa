/* exchange: the interchange formats, between roost's store and the files
 * the container world reads and writes (docs/exchange.md). The store knows
 * nothing of them: this library reads its images through store/store.h and
 * lays layers out through unpack/unpack.h. Library code: it never prints
 * and never exits; failures come back as -errno or -ROOST_* with one line
 * of context in a roost_error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "store/store.h"

/* ======================================================================
 * export: roost export (exchange/export.c, layout.c, rootfs.c, bundle.c)
 * ====================================================================== */

enum exchange_format {
        /* An OCI image layout (image-spec v1.1) as one tar archive: the
         * stored manifest, config and layers byte for byte, so the image
         * digest is roost's image id. */
        EXCHANGE_FORMAT_OCI,
        /* The image's layers applied bottom first (whiteouts honoured) as
         * one tar archive of the flattened tree, as docker export writes. */
        EXCHANGE_FORMAT_ROOTFS,
        /* An OCI runtime bundle directory: config.json and rootfs/, for
         * runc run and crun run. */
        EXCHANGE_FORMAT_BUNDLE,
};

/* "oci", "rootfs", "bundle" -> *RET; -EINVAL for anything else. */
int exchange_format_parse(const char *text, enum exchange_format *ret);

struct exchange_export_options {
        enum exchange_format format;
        /* Non-fatal problems (an owner or attribute a non-root export
         * could not keep), one line each. May be NULL. */
        void (*warn)(void *userdata, const char *msg);
        void *userdata;
};

/* Export the image REF (as store_ref_resolve gives it) of store S to
 * DEST: a file, or "-" for standard output, for the tar formats; a
 * directory that does not exist or is empty for a bundle. Nothing appears
 * at DEST until it is complete: a file is written unnamed (O_TMPFILE)
 * beside DEST and linked into place, a bundle built in a temporary beside
 * DEST and renamed; on failure neither is left, and a FILE that was there
 * is left as it was. Standard output gets what was written so far. Every
 * blob is hashed as it is read: a damaged store fails with
 * -ROOST_EDIGEST rather than export damaged bytes. */
int exchange_export(store *s, const struct store_ref *ref, const char *dest,
                    const struct exchange_export_options *o, roost_error *e);

/* The pieces, writing a tar archive to the open FD (not closed). */
int exchange_export_oci(store *s, const struct store_ref *ref, int fd, roost_error *e);
int exchange_export_rootfs(store *s, const struct store_ref *ref, int fd,
                           const struct exchange_export_options *o, roost_error *e);
/* The bundle into directory DIR (empty or missing). */
int exchange_export_bundle(store *s, const struct store_ref *ref, const char *dir,
                           const struct exchange_export_options *o, roost_error *e);

/* The annotation on an exported manifest's descriptor that names the
 * blob of its release's detached OpenPGP signature (a one-layer image pull
 * found signed): what import checks again before it records the image as
 * signed. */
#define EXCHANGE_SIGNATURE "roost.signature"

/* The org.opencontainers.image.ref.name an OCI export gives REF's
 * manifest in index.json: "NAME:TAG" (docs/exchange.md says why). */
int exchange_ref_name(const struct store_ref *ref, char **ret);

/* ======================================================================
 * import: roost import (exchange/import*.c)
 * ====================================================================== */

/* What roost import recognises, by content and never by file name. */
enum exchange_input {
        EXCHANGE_INPUT_OCI,         /* an OCI image layout: a directory, or a tar of one */
        EXCHANGE_INPUT_DOCKER,      /* docker save's archive: manifest.json, Config, Layers */
        EXCHANGE_INPUT_ROOST,       /* roost's earlier export: roost-image.json, sha256/<hex> */
        EXCHANGE_INPUT_ROOTFS,      /* a root filesystem tarball, as docker import takes one */
};

struct exchange_import_options {
        /* NAME[:TAG] from the command line, either may be NULL: what the
         * image is stored under, else what the input names it. */
        const char *name;
        const char *tag;
        /* The platform wanted (Alpine's name). ARCH_GIVEN: asked for with
         * --arch, so that an image of one platform only, another one's,
         * is refused rather than taken as it is (as docker load takes it). */
        const char *arch;
        bool arch_given;
};

struct exchange_import_result {
        enum exchange_input format;
        char *name, *tag; /* the reference written */
        char *arch;
        char digest[STORE_SHA256_HEX + 1]; /* the image's manifest: its id */
        size_t n_layers;
};
void exchange_import_result_done(struct exchange_import_result *r);

/* Import PATH (a file, an OCI layout directory, or "-" for standard
 * input) into S as O says. Every blob is checked against its digest (and
 * its descriptor's size) as it is stored; the reference is written last,
 * so a failure leaves none (blobs stored before it stay for gc). Returns
 * 0, or negative with E filled (one line naming the input and what failed):
 *   -ROOST_ENOTFOUND  PATH does not exist, or holds no image for the
 *                     platform asked for
 *   -ROOST_EUSAGE     the image needs a NAME:TAG it was not given
 *   -EOPNOTSUPP       a layer or document roost does not store (zstd,
 *                     foreign layers, an artifact)
 *   -ROOST_EDIGEST, -ROOST_ESIZE, -ROOST_EFORMAT, -ROOST_EUNSAFE,
 *   -ROOST_EARCHIVE, -ROOST_ELIMIT   damaged, tampered or hostile input
 *   other -errno      the store or the input could not be read or written */
int exchange_import(store *s, const char *path, const struct exchange_import_options *o,
                    struct exchange_import_result *ret, roost_error *e);

