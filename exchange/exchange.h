/* exchange: the file formats images travel in between roost and the
 * container world. The store knows none of them: this library reads and
 * writes them through the store's public API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"
#include "store/store.h"

/* ---- import (exchange/import*.c, docs/import.md) ---- */

/* What roost import recognises, by content and never by file name. */
enum exchange_format {
        EXCHANGE_FORMAT_OCI,         /* an OCI image layout: a directory, or a tar of one */
        EXCHANGE_FORMAT_DOCKER,      /* docker save's archive: manifest.json, Config, Layers */
        EXCHANGE_FORMAT_ROOST,       /* roost's earlier export: roost-image.json, sha256/<hex> */
        EXCHANGE_FORMAT_ROOTFS,      /* a root filesystem tarball, as docker import takes one */
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
        enum exchange_format format;
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

/* ---- end of import ---- */
