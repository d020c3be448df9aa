/* Inside trust/'s verifier (trust/roost-verify.c): librnp's side. Only the
 * verifier program and the tests link it; the tools that use trust/ talk
 * to the verifier (trust/trust.h) and never load librnp themselves. */
#pragma once
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include "trust/trust.h"

/* The trusted keys, in one librnp context. */
typedef struct trust_ring {
        rnp_ffi_t ffi;
} trust_ring;
int trust_ring_new(trust_ring **ret, roost_error *e);
void trust_ring_free(trust_ring *k);
/* Add the public keys of PATH (armored or binary): how many primary keys
 * it held, or negative with E filled. */
int trust_ring_add_file(trust_ring *k, const char *path, roost_error *e);
/* Add Alpine's key from DIR, which must hold that key (the pinned
 * fingerprint) and no other. */
int trust_ring_add_alpine(trust_ring *k, const char *dir, roost_error *e);

/* One check: the signature SIG (librnp input), the signed bytes read from
 * RFD to its end, the verdict in V. */
struct trust_run {
        trust_ring *ring;
        rnp_input_t sig;
        int rfd;
        rnp_result_t result;
        struct trust_verdict v;
};
void trust_run(struct trust_run *c);

/* The primary fingerprint of the first key of the file PATH, upper-case
 * hex. For tests and for naming a --trust file. */
int trust_key_file_fingerprint(const char *path, char ret[TRUST_FINGERPRINT_MAX + 1], roost_error *e);
