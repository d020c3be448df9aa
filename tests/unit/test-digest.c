/* store_hash's layer diff_id: the SHA-256 of the inflated stream, taken in
 * the same pass as the blob's digests, whichever inflater roost is built
 * with. The answers are checked against zlib's own inflate and a plain
 * SHA-256, over inputs fed in awkward pieces, above and below the size at
 * which the hashing moves to its threads. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

struct buf {
        unsigned char *p;
        size_t n;
};

/* N bytes half text, half noise, so that deflate makes both stored and
 * compressed blocks. */
static struct buf payload(size_t n, unsigned seed)
{
        struct buf b = { malloc(n), n };
        assert_non_null(b.p);
        uint32_t x = seed * 2654435761u + 1;
        for (size_t i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                b.p[i] = (i / 4096) % 2 ? (unsigned char)(x >> 24) : (unsigned char)("roost layer "[i % 12]);
        }
        return b;
}

static struct buf gzip(const struct buf *in)
{
        z_stream z = { 0 };
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        struct buf out = { malloc(deflateBound(&z, in->n) + 64), 0 };
        assert_non_null(out.p);
        z.next_in = in->p;
        z.avail_in = (uInt)in->n;
        z.next_out = out.p;
        z.avail_out = (uInt)(deflateBound(&z, in->n) + 64);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        out.n = z.total_out;
        deflateEnd(&z);
        return out;
}

/* IN as one gzip member whose header carries FEXTRA, FNAME and FCOMMENT,
 * each field EACH bytes long (FEXTRA's at most 65535), and FHCRC if HCRC. */
static struct buf gzip_header(const struct buf *in, size_t each, int hcrc)
{
        z_stream z = { 0 };
        gz_header hd = { 0 };
        unsigned char *extra = malloc(each), *name = malloc(each + 1), *comment = malloc(each + 1);
        assert_true(extra && name && comment);
        memset(extra, 'x', each);
        memset(name, 'n', each);
        name[each] = 0;
        memset(comment, 'c', each);
        comment[each] = 0;
        hd.extra = extra;
        hd.extra_len = (uInt)each;
        hd.name = name;
        hd.comment = comment;
        hd.hcrc = hcrc;
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        assert_int_equal(deflateSetHeader(&z, &hd), Z_OK);
        size_t room = deflateBound(&z, in->n) + 3 * each + 64;
        struct buf out = { malloc(room), 0 };
        assert_non_null(out.p);
        z.next_in = in->p;
        z.avail_in = (uInt)in->n;
        z.next_out = out.p;
        z.avail_out = (uInt)room;
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        out.n = z.total_out;
        deflateEnd(&z);
        free(extra);
        free(name);
        free(comment);
        return out;
}

static struct buf join(const struct buf *a, const struct buf *b)
{
        struct buf c = { malloc(a->n + b->n), a->n + b->n };
        assert_non_null(c.p);
        memcpy(c.p, a->p, a->n);
        memcpy(c.p + a->n, b->p, b->n);
        return c;
}

static void sha256_hex(const struct buf *b, char out[STORE_SHA256_HEX + 1])
{
        unsigned char md[32];
        unsigned len = 0;
        assert_true(EVP_Digest(b->p, b->n, md, &len, EVP_sha256(), NULL));
        hex_encode(md, len, out);
}

/* STREAM fed to a store_hash in pieces of STEP bytes (the last shorter);
 * the diff_id's answer, with *DIFF set when it is 0. The blob's own
 * SHA-256 must be right whatever the diff_id says. */
static int diff_id_of(const struct buf *stream, size_t step, char diff[STORE_SHA256_HEX + 1])
{
        store_hash *h;
        char sha256[STORE_SHA256_HEX + 1], want[STORE_SHA256_HEX + 1], sha512[STORE_SHA512_HEX + 1];
        assert_int_equal(store_hash_new(&h), 0);
        assert_int_equal(store_hash_want_diff_id(h), 0);
        for (size_t off = 0; off < stream->n; off += step)
                assert_int_equal(store_hash_update(h, stream->p + off, stream->n - off < step ? stream->n - off : step),
                                 0);
        int r = store_hash_diff_id(h, diff);
        assert_int_equal(store_hash_peek(h, sha256, sha512), 0);
        sha256_hex(stream, want);
        assert_string_equal(sha256, want);
        store_hash_free(h);
        return r;
}

static void test_diff_id(void **state)
{
        (void)state;
        /* Below and above the size at which hashing goes to its threads. */
        static const size_t sizes[] = { 1000, 300000, 3u << 20 };
        static const size_t steps[] = { 1, 7, 4096, 65537, 1u << 20 };
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                struct buf plain = payload(sizes[i], (unsigned)i), gz = gzip(&plain);
                char want[STORE_SHA256_HEX + 1], got[STORE_SHA256_HEX + 1];
                sha256_hex(&plain, want);
                for (size_t j = 0; j < ELEMENTSOF(steps); j++) {
                        if (steps[j] == 1 && sizes[i] > 300000)
                                continue; /* a byte at a time: slow, and said by the smaller ones */
                        assert_int_equal(diff_id_of(&gz, steps[j], got), 0);
                        assert_string_equal(got, want);
                }

                /* Two members, as pigz writes: one tar. */
                struct buf plain2 = payload(sizes[i] / 3 + 1, 99), gz2 = gzip(&plain2);
                struct buf both = join(&gz, &gz2), both_plain = join(&plain, &plain2);
                sha256_hex(&both_plain, want);
                assert_int_equal(diff_id_of(&both, 65537, got), 0);
                assert_string_equal(got, want);
                assert_int_equal(diff_id_of(&both, 7, got), 0);
                assert_string_equal(got, want);

                /* Cut short, anywhere in the last member's data or
                 * trailer: no diff_id, since the tar is not whole. */
                struct buf cut = { gz.p, gz.n - 4 };
                assert_int_equal(diff_id_of(&cut, 65537, got), -ROOST_EFORMAT);
                cut.n = gz.n / 2;
                assert_int_equal(diff_id_of(&cut, 4096, got), -ROOST_EFORMAT);

                /* Bytes after the member that start no other: refused. */
                struct buf junk = join(&gz, &plain2);
                assert_int_equal(diff_id_of(&junk, 65537, got), -ROOST_EFORMAT);

                /* Not gzip at all: no diff_id, the digests still right. */
                assert_int_equal(diff_id_of(&plain, 65537, got), -ROOST_EFORMAT);

                /* A flipped byte in the compressed data: refused (the
                 * inflater fails, or gzip's CRC does). */
                struct buf bad = { malloc(gz.n), gz.n };
                assert_non_null(bad.p);
                memcpy(bad.p, gz.p, gz.n);
                bad.p[bad.n / 2] ^= 0x55;
                assert_int_equal(diff_id_of(&bad, 65537, got), -ROOST_EFORMAT);

                free(plain.p);
                free(gz.p);
                free(plain2.p);
                free(gz2.p);
                free(both.p);
                free(both_plain.p);
                free(junk.p);
                free(bad.p);
        }
}

/* gzip's less common shapes: an empty member, alone or between others, a
 * stream whose pieces end exactly at a member's end, and headers with
 * every optional field, small and large, fed in pieces that split them. */
static void test_diff_id_shapes(void **state)
{
        (void)state;
        static const size_t steps[] = { 1, 7, 4096, 65537 };
        struct buf empty = { NULL, 0 }, plain = payload(300000, 5), gz = gzip(&plain);
        struct buf gz_empty = gzip(&empty);
        char want[STORE_SHA256_HEX + 1], got[STORE_SHA256_HEX + 1];

        sha256_hex(&empty, want);
        for (size_t j = 0; j < ELEMENTSOF(steps); j++) {
                assert_int_equal(diff_id_of(&gz_empty, steps[j], got), 0);
                assert_string_equal(got, want);
        }

        /* An empty member before, between and after the data's. */
        struct buf a = join(&gz_empty, &gz), b = join(&a, &gz_empty), c = join(&b, &gz);
        struct buf two = join(&plain, &plain);
        sha256_hex(&plain, want);
        for (size_t j = 1; j < ELEMENTSOF(steps); j++) {
                assert_int_equal(diff_id_of(&b, steps[j], got), 0);
                assert_string_equal(got, want);
        }
        sha256_hex(&two, want);
        for (size_t j = 1; j < ELEMENTSOF(steps); j++) {
                assert_int_equal(diff_id_of(&c, steps[j], got), 0);
                assert_string_equal(got, want);
        }

        /* Pieces that end exactly where a member does. */
        struct buf gg = join(&gz, &gz);
        assert_int_equal(diff_id_of(&gg, gz.n, got), 0);
        assert_string_equal(got, want);
        sha256_hex(&plain, want);
        assert_int_equal(diff_id_of(&gz, gz.n, got), 0);
        assert_string_equal(got, want);

        /* Optional header fields, and one header past any buffer's size. */
        static const size_t eaches[] = { 1, 300, 5000, 65535 };
        for (size_t i = 0; i < 2 * ELEMENTSOF(eaches); i++) {
                struct buf h = gzip_header(&plain, eaches[i / 2], (int)(i % 2));
                for (size_t j = 0; j < ELEMENTSOF(steps); j++) {
                        if (steps[j] == 1 && eaches[i / 2] > 300)
                                continue;
                        assert_int_equal(diff_id_of(&h, steps[j], got), 0);
                        assert_string_equal(got, want);
                }
                free(h.p);
        }

        /* A reserved flag bit in a member's header (RFC 1952 asks for an
         * error): no diff_id, in the first member or a later one. */
        struct buf res = join(&gz, &gz);
        res.p[3] |= 0x20;
        assert_int_equal(diff_id_of(&res, 65537, got), -ROOST_EFORMAT);
        res.p[3] &= 0x1f;
        res.p[gz.n + 3] |= 0x80;
        assert_int_equal(diff_id_of(&res, 65537, got), -ROOST_EFORMAT);
        free(res.p);

        free(plain.p);
        free(gz.p);
        free(gz_empty.p);
        free(a.p);
        free(b.p);
        free(c.p);
        free(two.p);
        free(gg.p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_diff_id),
                cmocka_unit_test(test_diff_id_shapes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
