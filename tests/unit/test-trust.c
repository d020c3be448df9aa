/* trust/: the key that ships with roost is Alpine's, by the pinned
 * fingerprint; a key file that is not Alpine's is refused in its place; a
 * check over garbage or a truncated signature is never good, whatever
 * bytes stream through it. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "trust/rnp.h"
#include "trust/trust.h"

static void test_shipped_key_is_pinned(void **state)
{
        char fpr[TRUST_FINGERPRINT_MAX + 1];
        roost_error e = { "" };
        assert_int_equal(trust_key_file_fingerprint(ROOST_SOURCE_KEYS "/" TRUST_ALPINE_KEY_FILE, fpr, &e), 0);
        assert_string_equal(fpr, TRUST_ALPINE_FINGERPRINT);
        assert_string_equal(TRUST_ALPINE_FINGERPRINT, "0482D84022F52DF1C4E7CD43293ACD0907D9495A");
        trust_ring *k;
        assert_int_equal(trust_ring_new(&k, &e), 0);
        assert_int_equal(trust_ring_add_alpine(k, ROOST_SOURCE_KEYS, &e), 0);
        trust_ring_free(k);
}

static void test_other_files_are_not_alpines_key(void **state)
{
        char dir[] = "/tmp/roost-trust-XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/%s", dir, TRUST_ALPINE_KEY_FILE);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 at all\n-----END PGP PUBLIC KEY BLOCK-----\n", f);
        fclose(f);
        trust_ring *ring;
        roost_error e = { "" };
        assert_int_equal(trust_ring_new(&ring, &e), 0);
        assert_true(trust_ring_add_alpine(ring, dir, &e) < 0);
        assert_non_null(strstr(e.msg, path));
        trust_ring_free(ring);
        /* The same through the verifier: said when the check begins. */
        trust_keys *k;
        trust_check *c;
        assert_int_equal(trust_keys_new(&k, &e), 0);
        assert_int_equal(trust_keys_add_alpine(k, "/nonexistent", &e), -ENOENT);
        assert_int_equal(trust_keys_add_alpine(k, dir, &e), 0);
        e.msg[0] = 0;
        assert_true(trust_check_begin(k, "sig", 3, &c, &e) < 0);
        assert_non_null(strstr(e.msg, path));
        trust_keys_free(k);
        unlink(path);
        rmdir(dir);
}

/* Whatever streams through, a signature that cannot be read is not good,
 * and the writer is never stopped by the check giving up early. */
static void test_unreadable_signatures(void **state)
{
        static const char *const sigs[] = {
                "garbage",
                "-----BEGIN PGP SIGNATURE-----\n\niQIzBAABCgAdFiEE\n",
                "\x88\x01",
        };
        static char data[3 << 20];
        memset(data, 'x', sizeof(data));
        trust_keys *k;
        roost_error e = { "" };
        assert_int_equal(trust_keys_new(&k, &e), 0);
        assert_int_equal(trust_keys_add_alpine(k, ROOST_SOURCE_KEYS, &e), 0);
        trust_check *c;
        assert_int_equal(trust_check_begin(k, "", 0, &c, &e), -ROOST_ESIGNATURE);
        assert_string_equal(e.msg, "the signature file is empty");
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
                struct trust_verdict v;
                assert_int_equal(trust_check_begin(k, sigs[i], strlen(sigs[i]), &c, &e), 0);
                for (size_t off = 0; off < sizeof(data); off += 65536)
                        assert_int_equal(trust_check_update(c, data + off, 65536), 0);
                assert_int_equal(trust_check_end(c, &v, &e), -ROOST_ESIGNATURE);
                assert_false(v.good);
                assert_true(v.why[0] != 0);
        }
        /* Aborted halfway: nothing waits, nothing leaks. */
        assert_int_equal(trust_check_begin(k, sigs[1], strlen(sigs[1]), &c, &e), 0);
        assert_int_equal(trust_check_update(c, data, 1000), 0);
        trust_check_abort(c);
        trust_keys_free(k);
}

/* A check that never started (none to end) is a refusal, never a
 * crash: a caller that lost its check must not read a verdict. */
static void test_no_check_is_no_verdict(void **state)
{
        struct trust_verdict v = { .good = true };
        roost_error e = { "" };
        assert_int_equal(trust_check_end(NULL, &v, &e), -ROOST_ESIGNATURE);
        assert_false(v.good);
        assert_string_equal(e.msg, "the signature check did not run");
        trust_check_abort(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_key_is_pinned),
                cmocka_unit_test(test_other_files_are_not_alpines_key),
                cmocka_unit_test(test_unreadable_signatures),
                cmocka_unit_test(test_no_check_is_no_verdict),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
