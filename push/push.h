/* push: send an image from the store to an OCI distribution registry,
 * byte for byte, so that its digests there are the store's. The whole
 * public face of the push stage, which the push tool's main calls (the
 * roost front runs that tool). The store knows nothing of networks: this
 * library reads it and talks to the registry over fetch/'s transport. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"
#include "store/store.h"

enum push_fate {
        PUSH_PRESENT,  /* the registry had it (HEAD) */
        PUSH_MOUNTED,  /* mounted from another repository of the registry */
        PUSH_UPLOADED, /* sent */
};

struct push_options {
        const char *cacert; /* extra trust anchor (PEM file), may be NULL */
        /* The registry's USER:PASSWORD (--creds), else those auth.json or
         * docker's config.json hold for it; never printed or stored. */
        const char *creds;
        /* Plain HTTP to a registry on a loopback address; refused for any
         * other, and no credential is ever sent over it. */
        bool plain_http;
        const char *arch; /* push only this platform's manifest; NULL: every stored one */
        int retries;      /* negative: $ROOST_RETRIES, else 5 */
        double timeout;   /* 0: $ROOST_RETRY_MAX_TIME, else 300 */
        /* A blob larger than this goes in PATCH chunks of this size, each
         * resumed from where the registry says it stopped should the
         * connection break; 0: one PUT per blob. */
        uint64_t chunk_size;
        /* May be NULL: a step with bytes done/total; a line the user
         * should see (a retry); each blob's fate (FROM: the repository a
         * mount came from, else NULL). */
        void (*progress)(void *userdata, const char *step, uint64_t done, uint64_t total);
        void (*warn)(void *userdata, const char *msg);
        void (*blob)(void *userdata, const char *hex, uint64_t size, enum push_fate fate, const char *from);
        void *userdata;
};

struct push_report {
        char *reference; /* "127.0.0.1:5000/team/app:1" */
        char digest[STORE_SHA256_HEX + 1]; /* what the tag names: the manifest, or the index */
        bool index;                        /* the tag names an index (more than one platform) */
        unsigned manifests;                /* image manifests put */
        unsigned present, mounted, uploaded;
        uint64_t bytes_uploaded;
};
void push_report_done(struct push_report *r);

/* --chunk-size as typed: a number of bytes with an optional K, M or G
 * (powers of 1024), from 1 MiB to 4 GiB, or 0; -ROOST_EUSAGE otherwise. */
int push_chunk_size_parse(const char *text, uint64_t *ret);

/* Push the stored image IMAGE (NAME[:TAG]; a bare name is its newest
 * tag, as launch reads it) to DEST (REGISTRY/REPOSITORY[:TAG], "latest"
 * by default). Every blob is checked with HEAD first and only the missing
 * ones are sent (mounted when the image, or another stored one, came from
 * another repository of the same registry); then each manifest, then the
 * tag: the manifest itself when one platform is pushed, else an index of
 * them. Returns 0 and fills RET, or negative with E holding one line:
 * -ROOST_EUSAGE, -ROOST_ENOTFOUND (no such image; a repository the
 * registry does not know), -ROOST_EHTTP (refused), -ROOST_ENETWORK,
 * -ROOST_ETLS, -ROOST_EDIGEST (the registry says a blob or manifest is not
 * what its digest or size says). */
int push_image(store *s, const char *image, const char *dest, const struct push_options *o,
               struct push_report *ret, roost_error *e);
