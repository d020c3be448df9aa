/* fetch: resolve an Alpine release on a mirror, download it over HTTPS,
 * verify it while it streams in, and store it. The whole public face of
 * the fetch stage, which the pull tool's main calls (launch and roost run
 * that tool; they link none of this). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include "common/error.h"
#include "store/store.h"

#define FETCH_DEFAULT_MIRROR "https://dl-cdn.alpinelinux.org/alpine"

struct fetch_options {
        const char *mirror; /* NULL: $ROOST_MIRROR, else FETCH_DEFAULT_MIRROR */
        const char *cacert; /* extra trust anchor (PEM file), may be NULL */
        /* A registry's USER:PASSWORD (--creds), else those auth.json or
         * docker's config.json hold for it; never printed or stored. */
        const char *creds;
        /* The credentials file to read instead of podman's and docker's
         * (--authfile); NULL: registry_creds_lookup's order. */
        const char *authfile;
        /* Talk plain HTTP to a registry on a loopback address (as docker
         * allows for 127.0.0.0/8); refused for any other, and no
         * credential is ever sent over it. */
        bool plain_http;
        const char *arch;   /* NULL: the host's, uname -m mapped to Alpine's names */
        /* Keys whose signatures are trusted beside Alpine's built-in one
         * and those of $ROOST_TRUST (colon-separated files): --trust. */
        const char *const *trust;
        size_t n_trust;
        /* Accept a release its mirror serves no signature for, marked
         * unsigned (false: $ROOST_ALLOW_UNSIGNED=1 says so). A bad
         * signature is refused whatever this says. */
        bool allow_unsigned;
        bool refresh;       /* resolve again even if a matching image is stored */
        bool offline;       /* never touch the network: fail with ROOST_ENOTFOUND if not stored */
        int retries;        /* transient failures retried in a row; negative: $ROOST_RETRIES, else 5 */
        double timeout;     /* seconds a request may go without progress, retries included;
                             * 0: $ROOST_RETRY_MAX_TIME, else 300 */
        /* progress: called with a step name and bytes done/total (total 0 =
         * unknown); may be NULL */
        void (*progress)(void *userdata, const char *step, uint64_t done, uint64_t total);
        /* warn: one line the user should see even without progress (each
         * retry, with its reason and its wait); may be NULL */
        void (*warn)(void *userdata, const char *msg);
        void *userdata;
};

/* --retries N (0 to 100) and --timeout S (seconds, more than 0, at most a
 * day; a fraction is allowed) as typed: -ROOST_EUSAGE for anything else. */
int fetch_retries_parse(const char *text, int *ret);
int fetch_timeout_parse(const char *text, double *ret);

/* Resolve NAME:TAG ("alpine", "3.22" / "3.22.1" / "edge" / "latest-stable"),
 * download and verify into S unless already stored and verified, write the
 * reference, and fill *ret (caller frees with store_ref_done). Returns 0, or
 * negative with E filled with one good message. */
int fetch_pull(store *s, const char *name, const char *tag, const struct fetch_options *o,
               struct store_ref *ret, roost_error *e);

/* roost login's check: whether REGISTRY (as auth.json names it:
 * "127.0.0.1:5000", "docker.io") takes USER and PASS, by its /v2/ and the
 * challenge it answers with (Basic, or a Bearer token asked for with
 * them). Uses O's cacert, plain_http, retries, timeout and warn. 0 also
 * for a registry that asks for no credentials, as docker says; a refusal
 * is -ROOST_EHTTP with one line in E that holds no secret. */
int fetch_login_check(const char *registry, const char *user, const char *pass, const struct fetch_options *o,
                      roost_error *e);
