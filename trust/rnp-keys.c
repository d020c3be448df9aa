/* The verifier's keys (trust/roost-verify.c), held by librnp in memory:
 * roost keeps no keyring on disk and starts no agent. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "trust/rnp.h"

/* librnp writes its parsers' complaints about a bad key or signature to
 * stderr; roost's own one line says what went wrong, so they go nowhere. */
static int new_ffi(rnp_ffi_t *ret)
{
        if (rnp_ffi_create(ret, "GPG", "GPG") != RNP_SUCCESS)
                return -ENOMEM;
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0 && rnp_ffi_set_log_fd(*ret, null) != RNP_SUCCESS)
                close(null);
        return 0;
}

int trust_ring_new(trust_ring **ret, roost_error *e)
{
        trust_ring *k = calloc(1, sizeof(*k));
        if (!k)
                return roost_error_set(e, -ENOMEM, "loading keys");
        if (new_ffi(&k->ffi) < 0) {
                free(k);
                return roost_error_set(e, -ENOMEM, "starting the OpenPGP library");
        }
        /* Whatever a key's own self-signatures use (Alpine's key dates from
         * 2014), a signature over data made with MD5 or SHA-1 is refused
         * whenever it was made; trust_check_end checks the name as well. */
        static const char *const weak[] = { "MD5", "SHA1", "RIPEMD160" };
        for (size_t i = 0; i < ELEMENTSOF(weak); i++)
                if (rnp_add_security_rule(k->ffi, RNP_FEATURE_HASH_ALG, weak[i],
                                          RNP_SECURITY_OVERRIDE | RNP_SECURITY_VERIFY_DATA, 0,
                                          RNP_SECURITY_PROHIBITED) != RNP_SUCCESS) {
                        trust_ring_free(k);
                        return roost_error_set(e, -ENOMEM, "setting the OpenPGP library's hash rules");
                }
        *ret = k;
        return 0;
}

void trust_ring_free(trust_ring *k)
{
        if (!k)
                return;
        rnp_ffi_destroy(k->ffi);
        free(k);
}

/* Import the public keys of PATH into FFI; the primary keys' fingerprints
 * go to FPRS (up to MAX). Returns how many primaries, or negative. */
static int import_file(rnp_ffi_t ffi, const char *path, char fprs[][TRUST_FINGERPRINT_MAX + 1], int max,
                       roost_error *e)
{
        rnp_input_t in = NULL;
        char *results = NULL;
        if (access(path, R_OK) < 0)
                return roost_error_set(e, -errno, "reading the key %s", path);
        /* librnp's complaints about a bad file go to stderr whatever its
         * log fd says: silenced here, where keys are loaded before any
         * thread of the caller's runs (trust.h). */
        int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (saved >= 0 && null >= 0)
                dup2(null, STDERR_FILENO);
        rnp_result_t rr = rnp_input_from_path(&in, path);
        if (rr == RNP_SUCCESS)
                rr = rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS, &results);
        rnp_input_destroy(in);
        if (saved >= 0 && null >= 0)
                dup2(saved, STDERR_FILENO);
        closep(&saved);
        closep(&null);
        if (rr != RNP_SUCCESS) {
                rnp_buffer_destroy(results);
                return roost_error_set(e, 0, "%s holds no OpenPGP public key (%s)", path,
                                       rnp_result_to_string(rr)), -ROOST_EFORMAT;
        }
        json_t *doc = json_loads(results, 0, NULL);
        rnp_buffer_destroy(results);
        json_t *keys = json_object_get(doc, "keys"), *key;
        size_t i;
        int n = 0;
        json_array_foreach(keys, i, key) {
                const char *fpr = json_string_value(json_object_get(key, "fingerprint"));
                rnp_key_handle_t h = NULL;
                bool primary = false;
                if (!fpr || rnp_locate_key(ffi, "fingerprint", fpr, &h) != RNP_SUCCESS || !h)
                        continue;
                if (rnp_key_is_primary(h, &primary) == RNP_SUCCESS && primary && n < max &&
                    strlen(fpr) <= TRUST_FINGERPRINT_MAX) {
                        /* upper-case, as rnp_key_get_fprint and gpg print it */
                        for (size_t j = 0; j <= strlen(fpr); j++)
                                fprs[n][j] = (char)toupper((unsigned char)fpr[j]);
                        n++;
                }
                rnp_key_handle_destroy(h);
        }
        json_decref(doc);
        if (n == 0)
                return roost_error_set(e, 0, "%s holds no OpenPGP primary public key", path), -ROOST_EFORMAT;
        return n;
}

int trust_ring_add_file(trust_ring *k, const char *path, roost_error *e)
{
        char fprs[16][TRUST_FINGERPRINT_MAX + 1];
        return import_file(k->ffi, path, fprs, ELEMENTSOF(fprs), e);
}

int trust_key_file_fingerprint(const char *path, char ret[TRUST_FINGERPRINT_MAX + 1], roost_error *e)
{
        rnp_ffi_t ffi;
        char fprs[1][TRUST_FINGERPRINT_MAX + 1];
        if (new_ffi(&ffi) < 0)
                return roost_error_set(e, -ENOMEM, "starting the OpenPGP library");
        int r = import_file(ffi, path, fprs, 1, e);
        rnp_ffi_destroy(ffi);
        if (r > 0)
                memcpy(ret, fprs[0], sizeof(fprs[0]));
        return r < 0 ? r : 0;
}

int trust_ring_add_alpine(trust_ring *k, const char *dir, roost_error *e)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, TRUST_ALPINE_KEY_FILE) < 0)
                return roost_error_set(e, -ENOMEM, "loading Alpine's key");
        /* Read once on its own first: the file must hold Alpine's key and
         * nothing else, or a key planted beside it would be trusted too. */
        rnp_ffi_t probe;
        char fprs[4][TRUST_FINGERPRINT_MAX + 1];
        if (new_ffi(&probe) < 0)
                return roost_error_set(e, -ENOMEM, "starting the OpenPGP library");
        int n = import_file(probe, path, fprs, ELEMENTSOF(fprs), e);
        rnp_ffi_destroy(probe);
        if (n < 0)
                return n;
        if (n != 1 || strcmp(fprs[0], TRUST_ALPINE_FINGERPRINT))
                return roost_error_set(e, 0,
                                       "%s is not Alpine's release key (fingerprint %s expected, %s found%s)",
                                       path, TRUST_ALPINE_FINGERPRINT, fprs[0], n > 1 ? " with other keys" : ""),
                       -ROOST_ESIGNATURE;
        return import_file(k->ffi, path, fprs, ELEMENTSOF(fprs), e) < 0 ? -ROOST_EFORMAT : 0;
}

