/* The verifier's check (trust/roost-verify.c): one detached signature
 * over the bytes read from a descriptor, as librnp reads them through a
 * callback, and the verdict. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "trust/rnp.h"

static bool read_pipe(void *ctx, void *buf, size_t len, size_t *got)
{
        struct trust_run *c = ctx;
        for (;;) {
                ssize_t k = read(c->rfd, buf, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return false;
                *got = (size_t)k;
                return true;
        }
}

/* The signing key's primary: its fingerprint and user id. */
static void describe_signer(rnp_ffi_t ffi, rnp_key_handle_t key, struct trust_verdict *v)
{
        rnp_key_handle_t primary = NULL;
        bool is_primary = true;
        char *s = NULL;
        if (rnp_key_is_primary(key, &is_primary) == RNP_SUCCESS && !is_primary &&
            rnp_key_get_primary_grip(key, &s) == RNP_SUCCESS && s)
                rnp_locate_key(ffi, "grip", s, &primary);
        rnp_buffer_destroy(s);
        rnp_key_handle_t k = primary ? primary : key;
        if (rnp_key_get_fprint(k, &s) == RNP_SUCCESS && s)
                snprintf(v->signer, sizeof(v->signer), "%s", s);
        rnp_buffer_destroy(s);
        s = NULL;
        if (rnp_key_get_primary_uid(k, &s) == RNP_SUCCESS && s)
                snprintf(v->user_id, sizeof(v->user_id), "%s", s);
        rnp_buffer_destroy(s);
        if (primary)
                rnp_key_handle_destroy(primary);
}

/* What the one signature says, in C->v. */
static void judge(struct trust_run *c, rnp_op_verify_t op)
{
        struct trust_verdict *v = &c->v;
        size_t count = 0;
        rnp_op_verify_signature_t sig = NULL;
        if (rnp_op_verify_get_signature_count(op, &count) != RNP_SUCCESS || count == 0 ||
            rnp_op_verify_get_signature_at(op, 0, &sig) != RNP_SUCCESS) {
                snprintf(v->why, sizeof(v->why), "the signature file holds no signature (%s)",
                         rnp_result_to_string(c->result));
                return;
        }
        if (count > 1) {
                snprintf(v->why, sizeof(v->why), "the signature file holds %zu signatures; one is expected", count);
                return;
        }
        char *hash = NULL;
        uint32_t created = 0, expires = 0;
        if (rnp_op_verify_signature_get_hash(sig, &hash) == RNP_SUCCESS && hash)
                snprintf(v->hash, sizeof(v->hash), "%s", hash);
        rnp_buffer_destroy(hash);
        rnp_op_verify_signature_get_times(sig, &created, &expires);
        v->created = created;
        rnp_key_handle_t key = NULL;
        if (rnp_op_verify_signature_get_key(sig, &key) == RNP_SUCCESS && key) {
                describe_signer(c->ring->ffi, key, v);
                rnp_key_handle_destroy(key);
        }
        rnp_result_t status = rnp_op_verify_signature_get_status(sig);
        bool strong = !strcmp(v->hash, "SHA256") || !strcmp(v->hash, "SHA384") || !strcmp(v->hash, "SHA512");
        if (!strong && v->hash[0]) {
                snprintf(v->why, sizeof(v->why), "the signature uses %s, which roost refuses (SHA-256, "
                         "SHA-384 or SHA-512 only)", v->hash);
                return;
        }
        switch (status) {
        case RNP_SUCCESS:
                v->good = strong;
                if (!strong)
                        snprintf(v->why, sizeof(v->why), "the signature names no hash roost accepts");
                return;
        case RNP_ERROR_KEY_NOT_FOUND: {
                rnp_signature_handle_t h = NULL;
                char *id = NULL;
                if (rnp_op_verify_signature_get_handle(sig, &h) == RNP_SUCCESS)
                        rnp_signature_get_keyid(h, &id);
                snprintf(v->why, sizeof(v->why), "signed by key %s, which roost does not trust (add it with "
                         "--trust KEY.asc)", id ? id : "(unknown)");
                rnp_buffer_destroy(id);
                rnp_signature_handle_destroy(h);
                return;
        }
        case RNP_ERROR_SIGNATURE_EXPIRED:
                snprintf(v->why, sizeof(v->why), "the signature has expired");
                return;
        case RNP_ERROR_SIGNATURE_INVALID:
                snprintf(v->why, sizeof(v->why), "the signature does not match the file, or its key was not "
                         "valid when it was made");
                return;
        default:
                snprintf(v->why, sizeof(v->why), "the signature cannot be checked (%s)",
                         rnp_result_to_string(status));
        }
}

void trust_run(struct trust_run *c)
{
        rnp_input_t data = NULL;
        rnp_op_verify_t op = NULL;
        c->result = rnp_input_from_callback(&data, read_pipe, NULL, c);
        if (c->result == RNP_SUCCESS)
                c->result = rnp_op_verify_detached_create(&op, c->ring->ffi, data, c->sig);
        if (c->result == RNP_SUCCESS)
                c->result = rnp_op_verify_execute(op);
        if (op)
                judge(c, op);
        else
                snprintf(c->v.why, sizeof(c->v.why), "the signature cannot be read (%s)",
                         rnp_result_to_string(c->result));
        /* The writer must never meet a closed pipe: what librnp left unread
         * (it stops early on a refused hash) is drained to the end. */
        char buf[1 << 14];
        while (read(c->rfd, buf, sizeof(buf)) > 0 || errno == EINTR)
                ;
        rnp_op_verify_destroy(op);
        rnp_input_destroy(data);
}

