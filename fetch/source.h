/* A source of images: how fetch_pull brings an image into the store,
 * whoever serves it. Alpine's release mirror is one (source-alpine.c); an
 * OCI registry will be another. The job (pull.c) runs the same straight
 * line for every source, and a source plugs in at each step:
 *
 *   begin      NAME:TAG is one the source can mean: check the tag, set up
 *              the source's own state. No I/O: a bad tag is a usage error
 *              even offline.
 *              (the job: a stored reference with its blobs ends the pull
 *              here, without a request; --offline ends it otherwise)
 *   resolve    connect (fetch_job_connect), read the source's metadata,
 *              check it as far as the source can (Alpine: the index
 *              against the published .sha256), and fill j->image: the
 *              layers to fetch with their digests and sizes, and the
 *              provenance the reference records.
 *   fetch_blob for each layer not stored yet, the bytes into the store blob
 *              SINK, resuming from store_blob_offset(SINK); over fetch/http.c
 *              (fetch_http_download).
 *              (the job: fetch the layer's signature from its sig_url;
 *              begin the blob, resume or restart it, hand its bytes to the
 *              signature check as they are written; check its size,
 *              SHA-256, the signature (else, unsigned, the SHA-512 where
 *              given), commit it and store the signature beside it)
 *   publish    the image around the stored layers: its config and manifest,
 *              written with store_image_put* (or stored as the source
 *              published them); the manifest's digest.
 *              (the job: the reference NAME:TAG for the architecture,
 *              written and read back)
 *              A by_digest source (a registry) has no signatures: the
 *              manifest it checked names each blob's SHA-256.
 *   done       free the source's state (j->data may still be NULL when
 *              begin failed); called at the end of every job begun.
 *
 * What the store guarantees a source: a blob appears under its name only
 * whole and with that SHA-256; two pulls of one blob never download it
 * twice (the second waits, then finds it stored); a reference never names
 * a blob that is missing. A source never builds a store path, and never
 * prints: steps go through fetch_job_step, retries through the transport. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "fetch/fetch-private.h"
#include "store/store.h"
#include "trust/trust.h"

/* One blob to fetch: a layer, bottom first in an image. */
struct fetch_desc {
        char *name;    /* what messages call it: "alpine-minirootfs-3.22.1-x86_64.tar.gz" */
        char *url;     /* where fetch_blob gets it; the source's business, may be NULL */
        char *sha256;  /* hex: the blob's name in the store, checked as the bytes arrive */
        char *sha512;  /* hex as published, or NULL; checked when given. Once the job
                        * has downloaded the blob, what the bytes hash to. */
        uint64_t size; /* as published, or 0: unknown (FETCH_MAX_UNKNOWN_SIZE caps the
                        * body); the stored size once the job has the blob */
        bool gzip;     /* a gzip layer (its diff_id is computed as it arrives), else a tar */
        char *sig_url; /* its detached OpenPGP signature (FILE.asc), or NULL: the source
                        * has none to offer. A 404 there is "unsigned". */
        /* Once the job has the blob: the stored signature blob's hex and
         * its signer's fingerprint; both NULL for a release let in
         * unsigned. */
        char *sig_sha256;
        char *signer;
};

/* What resolve found: the image to store, and where it came from. */
struct fetch_image {
        struct fetch_desc *layers;
        size_t n_layers;
        char *version; /* the release it resolved to ("3.22.1"), the reference's; may be NULL */
        char *source;  /* where it came from (a URL), the reference's; may be NULL */
};

struct fetch_job;

struct fetch_source {
        const char *default_tag; /* the tag of a bare NAME: "latest-stable" */
        /* Its blobs are proven by their SHA-256 alone, which a manifest
         * checked against its own digest names (a registry): no signature
         * is asked for, no SHA-512 computed, and no verdict recorded. */
        bool by_digest;
        /* Whether NAME (a valid reference name) is one this source serves. */
        bool (*serves)(const char *name);
        int (*begin)(struct fetch_job *j, roost_error *e);
        int (*resolve)(struct fetch_job *j, roost_error *e);
        /* STEP names the transfer for progress reports. */
        int (*fetch_blob)(struct fetch_job *j, const struct fetch_desc *d, const char *step, store_blob *sink,
                          roost_error *e);
        /* Optional, for a by_digest source: ready the transport to fetch
         * every layer straight from its url (a registry's headers), so
         * that the job fetches several at once (fetch_http_download_set),
         * and fetch_blob only resumes one that failed. NULL: one layer
         * after another, through fetch_blob. */
        int (*prepare_blobs)(struct fetch_job *j, roost_error *e);
        int (*publish)(struct fetch_job *j, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e);
        void (*done)(struct fetch_job *j);
};

/* One pull. The job owns everything here; a source fills image and data. */
struct fetch_job {
        const struct fetch_source *source;
        store *s;
        const struct fetch_options *o;
        const char *name, *tag, *arch;
        fetch_http *http; /* fetch_job_connect's, freed with the job */
        trust_keys *keys; /* loaded before the source resolves (no thread yet) */
        bool allow_unsigned; /* the options' or $ROOST_ALLOW_UNSIGNED=1 */
        bool allow_http; /* set by a source before fetch_job_connect: plain http:// to a
                          * loopback registry (--plain-http); redirects stay https-only */
        struct fetch_image image;
        void *data; /* the source's own state, freed by its done */
};

/* The job for NAME:TAG (NAME valid) from SOURCE: what fetch_pull runs
 * for the source serving NAME, and what a test runs for a source of its
 * own. E must not be NULL. */
int fetch_job_run(const struct fetch_source *source, store *s, const char *name, const char *tag,
                  const struct fetch_options *o, struct store_ref *ret, roost_error *e);

/* The transport for J, with the user's trust anchor, retries, timeout,
 * progress and warnings; ALLOW_FILE lets it read file:// URLs too. */
int fetch_job_connect(struct fetch_job *j, bool allow_file, roost_error *e);
/* Report a step ("resolving alpine:3.22 (x86_64)") to the caller. */
void fetch_job_step(const struct fetch_job *j, const char *what, uint64_t done, uint64_t total);
/* Room for N layers in j->image, zeroed; -ENOMEM. */
int fetch_image_layers(struct fetch_image *img, size_t n);
void fetch_image_done(struct fetch_image *img);

extern const struct fetch_source fetch_source_alpine;
extern const struct fetch_source fetch_source_registry;
