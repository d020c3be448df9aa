/* Shared between exchange's own files; not part of its public face. */
#pragma once
#include <stdint.h>
#include "exchange/exchange.h"

struct archive;

/* A tar writer (pax, as skopeo, umoci and docker write theirs) on FD. */
int exchange_tar_open(int fd, struct archive **ret, roost_error *e);
/* Close (flushing the last blocks) and free A; E filled on failure. */
int exchange_tar_close(struct archive *a, const char *what, roost_error *e);

/* Apply REF's layers bottom first into the empty directory ROOTFD, whiteouts
 * honoured (unpack_layers_into, UNPACK_WHITEOUT_APPLY), every layer hashed
 * as it is read: a blob that no longer matches its name is -ROOST_EDIGEST.
 * Devices, set-id bits and capabilities are kept: the tree is the image's. */
int exchange_flatten(store *s, const struct store_ref *ref, int rootfd, const struct exchange_export_options *o,
                     roost_error *e);

/* runtime-spec config.json (bundle.c) for the image config CFG, users
 * resolved against the tree below ROOTFD. */
int exchange_bundle_config(const struct store_image_config *cfg, int rootfd, char **ret, roost_error *e);
