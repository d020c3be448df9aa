/* trust: OpenPGP signatures over what roost downloads (docs/pull.md,
 * "Signatures"). Keys live in memory only: no keyring on disk, no agent.
 * A check runs beside the download, over the bytes as they stream in, in
 * a verifier process of its own (trust/roost-verify.c): the tools that
 * use this header never load librnp. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"

/* Alpine's release signing key (Natanael Copa), pinned: the key file that
 * ships with roost must have this primary fingerprint, or it is refused. */
#define TRUST_ALPINE_FINGERPRINT "0482D84022F52DF1C4E7CD43293ACD0907D9495A"
#define TRUST_ALPINE_KEY_FILE    "alpine-ncopa.asc"
#define TRUST_FINGERPRINT_MAX    64 /* hex digits, v4 and v5 keys */

/* The keys a signature may be made with: the files to read, which the
 * verifier process reads (trust/roost-verify.c). What cannot be read is
 * said at once; what is not a key, when the check begins. */
typedef struct trust_keys trust_keys;
int trust_keys_new(trust_keys **ret, roost_error *e);
void trust_keys_free(trust_keys *k);
/* Add the public keys of the file PATH (armored or binary). Returns how
 * many primary keys it held (at least one), or negative with E filled. */
int trust_keys_add_file(trust_keys *k, const char *path, roost_error *e);
/* Add Alpine's key from the folder DIR (the installed keys, or the source
 * tree's for an uninstalled build), checked against the pinned
 * fingerprint. */
int trust_keys_add_alpine(trust_keys *k, const char *dir, roost_error *e);
/* Alpine's key where roost keeps it: installed under $(pkgdatadir)/keys
 * (TRUST_KEYS_DIR) when it is there, else in the source tree's trust/
 * (TRUST_SOURCE_KEYS_DIR), for a build that is run uninstalled and for
 * the tests. Both folders are fixed when roost is configured. */
int trust_keys_add_shipped(trust_keys *k, roost_error *e);
/* The keys a pull trusts: Alpine's (trust_keys_add_shipped), the files of
 * ROOST_TRUST (colon-separated) and the N FILES (--trust). A verifier is
 * started at once, so that it is ready when the signature has come. */
int trust_keys_load(const char *const *files, size_t n, trust_keys **ret, roost_error *e);
/* What a check found. */
struct trust_verdict {
        bool good;                                  /* made by a trusted key over exactly these bytes */
        char signer[TRUST_FINGERPRINT_MAX + 1];     /* the signing key's primary fingerprint; "" unknown */
        char user_id[256];                          /* its primary user id, when known */
        char hash[16];                              /* "SHA512", ... */
        int64_t created;                            /* the signature's creation time */
        char why[256];                              /* when not good: one line */
};

/* One detached signature checked over a stream: begin with the signature
 * (armored or binary, SIG_LEN bytes), feed the signed bytes with update,
 * then end. A signature by an untrusted key, over other bytes, with MD5 or
 * SHA-1, made outside its key's validity, or unparsable is not good. */
typedef struct trust_check trust_check;
int trust_check_begin(trust_keys *k, const void *sig, size_t sig_len, trust_check **ret, roost_error *e);
int trust_check_update(trust_check *c, const void *buf, size_t n);
/* The verdict; C is freed. A check that is not good returns
 * -ROOST_ESIGNATURE with E holding the verdict's why; so does a C of
 * NULL (no check ran: no verdict). */
int trust_check_end(trust_check *c, struct trust_verdict *ret, roost_error *e);
/* Stop a check whose bytes will not all come (a failed download). */
void trust_check_abort(trust_check *c);
/* One check over the whole of FD (read with pread from offset 0): a
 * stored blob, for `roost verify` and a release already stored. */
int trust_check_fd(trust_keys *k, const void *sig, size_t sig_len, int fd, struct trust_verdict *ret,
                   roost_error *e);
