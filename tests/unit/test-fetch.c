/* Unit tests for the fetch stage's parsers (tags, versions, the release
 * index, checksum files), for the store's threaded hashing that pull
 * relies on for speed, and for the pull job with a source of the test's
 * own (source.h). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "fetch/fetch-private.h"
#include "fetch/source.h"

static void test_tag_parse(void **state)
{
        struct fetch_tag t;
        assert_int_equal(fetch_tag_parse("3.22", &t), 0);
        assert_int_equal(t.kind, FETCH_TAG_BRANCH);
        assert_string_equal(t.dir, "v3.22");
        assert_int_equal(fetch_tag_parse("v3.22", &t), 0);
        assert_string_equal(t.dir, "v3.22");
        assert_int_equal(fetch_tag_parse("3.22.1", &t), 0);
        assert_int_equal(t.kind, FETCH_TAG_EXACT);
        assert_string_equal(t.dir, "v3.22");
        assert_string_equal(t.version, "3.22.1");
        assert_int_equal(fetch_tag_parse("3.22.0_rc1", &t), 0);
        assert_int_equal(t.kind, FETCH_TAG_EXACT);
        assert_string_equal(t.dir, "v3.22");
        assert_int_equal(fetch_tag_parse("10.123.45", &t), 0);
        assert_string_equal(t.dir, "v10.123");
        assert_int_equal(fetch_tag_parse("edge", &t), 0);
        assert_int_equal(t.kind, FETCH_TAG_EDGE);
        assert_string_equal(t.dir, "edge");
        assert_int_equal(fetch_tag_parse("latest-stable", &t), 0);
        assert_int_equal(t.kind, FETCH_TAG_LATEST);
        assert_string_equal(t.dir, "latest-stable");

        static const char *const bad[] = {
                "",         "3",       "3.",         ".3",          "3..2",    "3.22.",        "3.22.1.4",
                "3.22_rc1", "3.22.1_", "3.22.1_RC1", "3.22.1_rc/1", "../3.22", "3.22/..",      "v",
                "vv3.22",   "edge2",   "Edge",       "latest",      "3.x",     "1234567890.1", "3.22.1 ",
                " 3.22",    "3.22\n",  "-3.22",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = fetch_tag_parse(bad[i], &t);
                if (strcmp(bad[i], "latest") == 0) {
                        /* "latest" is accepted as docker users type it. */
                        assert_int_equal(r, 0);
                        assert_int_equal(t.kind, FETCH_TAG_LATEST);
                        continue;
                }
                if (r != -ROOST_EUSAGE)
                        fail_msg("'%s' accepted", bad[i]);
        }
        char longtag[200];
        memset(longtag, '1', sizeof(longtag) - 1);
        longtag[sizeof(longtag) - 1] = 0;
        assert_int_equal(fetch_tag_parse(longtag, &t), -ROOST_EUSAGE);
        assert_int_equal(fetch_tag_parse(NULL, &t), -ROOST_EUSAGE);
}

static void test_version_compare(void **state)
{
        static const char *const ordered[] = {
                "3.9.0",  "3.9.1",  "3.9.10", "3.10.0_rc1", "3.10.0_rc2",
                "3.10.0", "3.10.1", "3.20.3", "3.100.0",    "4.0.0",
        };
        for (size_t i = 0; i < ELEMENTSOF(ordered); i++)
                for (size_t j = 0; j < ELEMENTSOF(ordered); j++) {
                        int c = store_version_compare(ordered[i], ordered[j]);
                        int want = i < j ? -1 : i > j ? 1 : 0;
                        if (c != want)
                                fail_msg("%s vs %s: %d, want %d", ordered[i], ordered[j], c, want);
                }
        assert_int_equal(store_version_compare("3.020.1", "3.20.1"), 0);
        assert_int_equal(store_version_compare("20250108", "20241231"), 1);
}

static void test_names(void **state)
{
        assert_true(fetch_branch_valid("v3.20"));
        assert_false(fetch_branch_valid("3.20"));
        assert_false(fetch_branch_valid("v3.20.1"));
        assert_false(fetch_branch_valid("v3.20/../x"));
        assert_false(fetch_branch_valid("v3.20\n"));
        assert_false(fetch_branch_valid(""));
        assert_true(fetch_file_name_valid("alpine-minirootfs-3.20.3-x86_64.tar.gz"));
        assert_false(fetch_file_name_valid("../etc/passwd"));
        assert_false(fetch_file_name_valid("a/b.tar.gz"));
        assert_false(fetch_file_name_valid(".."));
        assert_false(fetch_file_name_valid(".hidden"));
        assert_false(fetch_file_name_valid(""));
        assert_false(fetch_file_name_valid("a b"));
        assert_false(fetch_file_name_valid("a%2fb"));
#if defined(__x86_64__)
        assert_string_equal(host_alpine_arch(), "x86_64");
#endif
}

#define SHA_A "d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c"
#define SHA_B "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_C "2222222222222222222222222222222222222222222222222222222222222222"
#define SHA512_A                                                                                             \
        "9d5405f61f8a6ebc02461ba75346fbf1a63a4eab8510a0158dd321cee0c4dafe28c2a3d2cb7c3d75e2a8130dae0c3c9238" \
        "2f5b6adeea"                                                                                         \
        "309eafc97621c5bf6400"

static const char index_yaml[] =
        "---\n"
        "-\n  title: \"Standard\"\n  branch: v3.20\n  arch: x86_64\n  version: 3.20.9\n  flavor: "
        "alpine-standard\n"
        "  file: alpine-standard-3.20.9-x86_64.iso\n  size: 200001000\n  sha256: " SHA_C "\n"
        "-\n  flavor: alpine-minirootfs\n  arch: x86_64\n  version: 3.20.2\n"
        "  file: alpine-minirootfs-3.20.2-x86_64.tar.gz\n  size: 100\n  sha256: " SHA_B "\n"
        "-\n  flavor: alpine-minirootfs\n  arch: x86_64\n  version: 3.20.10\n"
        "  file: alpine-minirootfs-3.20.10-x86_64.tar.gz\n  size: 3490290\n  sha256: " SHA_A
        "\n  sha512: " SHA512_A "\n"
        "-\n  flavor: alpine-minirootfs\n  arch: aarch64\n  version: 3.20.11\n"
        "  file: alpine-minirootfs-3.20.11-aarch64.tar.gz\n  size: 5\n  sha256: " SHA_C "\n"
        "-\n  flavor: alpine-minirootfs\n  arch: x86_64\n  version: 3.20.9\n"
        "  file: alpine-minirootfs-3.20.9-x86_64.tar.gz\n  size: 7\n  sha256: " SHA_C "\n";

static int pick(const char *yaml, const char *arch, const char *want, struct fetch_release *r, roost_error *e)
{
        return fetch_index_pick(yaml, strlen(yaml), arch, want, r, e);
}

static void test_index_pick(void **state)
{
        struct fetch_release r = { 0 };
        roost_error e;
        assert_int_equal(pick(index_yaml, "x86_64", NULL, &r, &e), 0);
        assert_string_equal(r.version, "3.20.10"); /* numeric order, not text or position */
        assert_string_equal(r.file, "alpine-minirootfs-3.20.10-x86_64.tar.gz");
        assert_string_equal(r.sha256, SHA_A);
        assert_string_equal(r.sha512, SHA512_A);
        assert_int_equal(r.size, 3490290);
        fetch_release_done(&r);

        assert_int_equal(pick(index_yaml, "x86_64", "3.20.2", &r, &e), 0);
        assert_string_equal(r.sha256, SHA_B);
        assert_null(r.sha512);
        fetch_release_done(&r);

        assert_int_equal(pick(index_yaml, "aarch64", NULL, &r, &e), 0);
        assert_string_equal(r.version, "3.20.11");
        fetch_release_done(&r);

        assert_int_equal(pick(index_yaml, "x86_64", "3.20.11", &r, &e), -ROOST_ENOTFOUND);
        assert_int_equal(pick(index_yaml, "riscv64", NULL, &r, &e), -ROOST_ENOTFOUND);
        assert_int_equal(pick("---\n- flavor: alpine-standard\n  version: 1.2.3\n", "x86_64", NULL, &r, &e),
                         -ROOST_ENOTFOUND);
}

/* One minirootfs entry with FIELD's line replaced by LINE (or dropped). */
static char *entry_with(const char *field, const char *line)
{
        static const char *const lines[][2] = {
                { "flavor", "  flavor: alpine-minirootfs\n" },
                { "arch", "  arch: x86_64\n" },
                { "version", "  version: 3.20.3\n" },
                { "file", "  file: alpine-minirootfs-3.20.3-x86_64.tar.gz\n" },
                { "size", "  size: 3490290\n" },
                { "sha256", "  sha256: " SHA_A "\n" },
        };
        char *out = strdup("---\n-\n");
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                const char *l = strcmp(lines[i][0], field) == 0 ? line : lines[i][1];
                char *n;
                assert_true(asprintf(&n, "%s%s", out, l) > 0);
                free(out);
                out = n;
        }
        return out;
}

static void test_index_hostile(void **state)
{
        static const struct {
                const char *field, *line;
        } cases[] = {
                { "version", "" },
                { "version", "  version: [3.20.3]\n" },
                { "version", "  version: ../3\n" },
                { "file", "" },
                { "file", "  file: ../../etc/passwd\n" },
                { "file", "  file: /etc/passwd\n" },
                { "file", "  file: \"a\\0b\"\n" },
                { "size", "" },
                { "size", "  size: -1\n" },
                { "size", "  size: 0\n" },
                { "size", "  size: 12abc\n" },
                { "size", "  size: 99999999999999999999999\n" },
                { "sha256", "  sha256: xyz\n" },
                { "sha256", "  sha256: " SHA_A "00\n" },
                { "sha256", "  sha256: {a: b}\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *yaml = entry_with(cases[i].field, cases[i].line);
                struct fetch_release r = { 0 };
                roost_error e;
                int rr = pick(yaml, "x86_64", NULL, &r, &e);
                if (rr != -ROOST_EFORMAT)
                        fail_msg("case %zu (%s): got %d (%s)", i, cases[i].line, rr,
                                 rr == 0 ? r.file : e.msg);
        }
        struct fetch_release r = { 0 };
        roost_error e;
        /* An entry that names no architecture is for none. */
        _cleanup_free_ char *noarch = entry_with("arch", "");
        assert_int_equal(pick(noarch, "x86_64", NULL, &r, &e), -ROOST_ENOTFOUND);
        /* Uppercase hex is Alpine's digest all the same. */
        _cleanup_free_ char *upper = entry_with(
                "sha256", "  sha256: D4E6FD67DCF75E40C451560AC7265166C2B72A0F38DDC9AAE756A7DE3D1EFA0C\n");
        assert_int_equal(pick(upper, "x86_64", NULL, &r, &e), 0);
        assert_string_equal(r.sha256, SHA_A);
        fetch_release_done(&r);
        /* No sha256 at all: the release's .sha256 file is read instead. */
        _cleanup_free_ char *nosha = entry_with("sha256", "");
        assert_int_equal(pick(nosha, "x86_64", NULL, &r, &e), 0);
        assert_null(r.sha256);
        fetch_release_done(&r);

        static const char *const broken[] = {
                "",
                "---\n",
                "just a string\n",
                "- [1, 2\n",
                "{flavor: alpine-minirootfs}\n",
                "- 1\n- 2\n",
                "-\n  flavor: alpine-minirootfs\n  version: &a [*a]\n",
                "\t- x\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
                int rr = pick(broken[i], "x86_64", NULL, &r, &e);
                if (rr != -ROOST_EFORMAT)
                        fail_msg("broken index %zu accepted: %d", i, rr);
        }
        /* An alias, and nesting no index has: refused by name, at their
         * first event (a 1 MiB index of either kept libyaml busy for
         * minutes). */
        static const char *const shapes[][2] = {
                { "- &e {flavor: alpine-minirootfs, version: 3.20.3}\n- *e\n", "anchors and aliases" },
                { "- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested deeper" },
                { "-\n  a: {b: {c: {d: {e: 1}}}}\n", "nested deeper" },
        };
        for (size_t i = 0; i < ELEMENTSOF(shapes); i++) {
                assert_int_equal(pick(shapes[i][0], "x86_64", NULL, &r, &e), -ROOST_EFORMAT);
                if (!strstr(e.msg, shapes[i][1]))
                        fail_msg("index shape %zu: %s", i, e.msg);
        }
        /* Binary junk must fail cleanly, not crash. */
        unsigned char junk[4096];
        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (unsigned char)(i * 7919 % 251);
        assert_true(fetch_index_pick((const char *)junk, sizeof(junk), "x86_64", NULL, &r, &e) < 0);
}

static void test_sumfile(void **state)
{
        char out[STORE_SHA512_HEX + 1];
        const char *f = "alpine-minirootfs-3.20.3-x86_64.tar.gz";
        assert_int_equal(fetch_sumfile_parse(SHA_A "  alpine-minirootfs-3.20.3-x86_64.tar.gz\n", f, 64, out),
                         0);
        assert_string_equal(out, SHA_A);
        assert_int_equal(fetch_sumfile_parse(SHA_B "  other.tar.gz\n" SHA_A
                                                   " *alpine-minirootfs-3.20.3-x86_64.tar.gz\r\n",
                                             f, 64, out),
                         0);
        assert_string_equal(out, SHA_A);
        assert_int_equal(
                fetch_sumfile_parse(SHA_A "  ./releases/alpine-minirootfs-3.20.3-x86_64.tar.gz", f, 64, out),
                0);
        assert_int_equal(fetch_sumfile_parse(SHA_A "\n", f, 64, out), 0);
        assert_int_equal(
                fetch_sumfile_parse("D4E6FD67DCF75E40C451560AC7265166C2B72A0F38DDC9AAE756A7DE3D1EFA0C  "
                                    "alpine-minirootfs-3.20.3-x86_64.tar.gz\n",
                                    f, 64, out),
                0);
        assert_string_equal(out, SHA_A);
        assert_int_equal(
                fetch_sumfile_parse(SHA512_A "  alpine-minirootfs-3.20.3-x86_64.tar.gz\n", f, 128, out), 0);
        assert_string_equal(out, SHA512_A);

        assert_int_equal(fetch_sumfile_parse(SHA_A "  other.tar.gz\n", f, 64, out), -ROOST_EFORMAT);
        assert_int_equal(
                fetch_sumfile_parse(SHA512_A "  alpine-minirootfs-3.20.3-x86_64.tar.gz\n", f, 64, out),
                -ROOST_EFORMAT);
        assert_int_equal(fetch_sumfile_parse("d4e6  alpine-minirootfs-3.20.3-x86_64.tar.gz\n", f, 64, out),
                         -ROOST_EFORMAT);
        assert_int_equal(fetch_sumfile_parse("", f, 64, out), -ROOST_EFORMAT);
        assert_int_equal(fetch_sumfile_parse("<html>404</html>\n", f, 64, out), -ROOST_EFORMAT);
        assert_int_equal(fetch_sumfile_parse(SHA_A "x  alpine-minirootfs-3.20.3-x86_64.tar.gz\n", f, 64, out),
                         -ROOST_EFORMAT);
}

/* The threaded hash must equal a one-shot digest whatever the write sizes,
 * across the point where it goes asynchronous, and after a peek. */
/* --retries and --timeout as typed: the whole text is a number in range. */
static void test_retry_options(void **state)
{
        (void)state;
        int n = -1;
        double d = 0;
        assert_int_equal(fetch_retries_parse("0", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(fetch_retries_parse("100", &n), 0);
        assert_int_equal(n, 100);
        static const char *const bad_retries[] = { "",   "-1",  "+1",  " 1",
                                                   "1x", "101", "1e2", "99999999999999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad_retries); i++)
                assert_int_equal(fetch_retries_parse(bad_retries[i], &n), -ROOST_EUSAGE);
        assert_int_equal(fetch_timeout_parse("1.5", &d), 0);
        assert_true(d == 1.5);
        assert_int_equal(fetch_timeout_parse("86400", &d), 0);
        static const char *const bad_timeouts[] = { "",    "0",  "0.0",   "-1",  "nan",
                                                    "inf", "1s", "86401", "1e9", " 2" };
        for (size_t i = 0; i < ELEMENTSOF(bad_timeouts); i++)
                assert_int_equal(fetch_timeout_parse(bad_timeouts[i], &d), -ROOST_EUSAGE);
}

static void test_threaded_hash(void **state)
{
        size_t n = 9u << 20;
        unsigned char *data = malloc(n);
        assert_non_null(data);
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data[i] = (unsigned char)x;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len;
        char want256[65], want512[129], got256[65], got512[129], mid256[65];
        assert_true(EVP_Digest(data, n, md, &len, EVP_sha256(), NULL));
        hex_encode(md, len, want256);
        assert_true(EVP_Digest(data, n, md, &len, EVP_sha512(), NULL));
        hex_encode(md, len, want512);
        char want_mid[65];
        assert_true(EVP_Digest(data, 3u << 20, md, &len, EVP_sha256(), NULL));
        hex_encode(md, len, want_mid);

        static const size_t sizes[] = { 1, 7, 16384, 16411, 65536, 1u << 20, (1u << 20) + 1, 3u << 20 };
        for (size_t s = 0; s < ELEMENTSOF(sizes); s++) {
                store_hash *h;
                assert_int_equal(store_hash_new(&h), 0);
                size_t off = 0, step = sizes[s];
                bool peeked = false;
                while (off < n) {
                        size_t k = n - off < step ? n - off : step;
                        if (!peeked && off + k > (3u << 20)) {
                                k = (3u << 20) - off;
                                assert_int_equal(store_hash_update(h, data + off, k), 0);
                                off += k;
                                assert_int_equal(store_hash_peek(h, mid256, NULL), 0);
                                assert_string_equal(mid256, want_mid);
                                peeked = true;
                                continue;
                        }
                        assert_int_equal(store_hash_update(h, data + off, k), 0);
                        off += k;
                        /* Single bytes would take minutes: jump ahead. */
                        if (step < 16 && off > 4096)
                                step = 262139;
                }
                assert_int_equal(store_hash_peek(h, got256, got512), 0);
                assert_string_equal(got256, want256);
                assert_string_equal(got512, want512);
                store_hash_free(h);
        }
        /* Freed with bytes in flight: no hang, no leak (under ASan). */
        store_hash *h;
        assert_int_equal(store_hash_new(&h), 0);
        assert_int_equal(store_hash_update(h, data, n), 0);
        store_hash_free(h);
        free(data);
}

/* ---- the job, with a source of the test's own ---- */

/* Two plain-tar "layers" from memory: the job must fetch, verify and
 * store each, and the source writes the image around them, as a
 * registry's would be with more than one layer. */
static const char *const fake_blobs[] = { "the bottom layer's bytes", "the top layer, a little longer" };
static struct {
        int fetches;
        bool corrupt; /* the source sends other bytes than it announced */
} fake;

static bool fake_serves(const char *name)
{
        return strcmp(name, "test/fake") == 0;
}

static int fake_begin(struct fetch_job *j, roost_error *e)
{
        return strcmp(j->tag, "1.0") == 0 ? 0 : fetch_fail(e, -ROOST_EUSAGE, "'%s' is not 1.0", j->tag);
}

static int fake_resolve(struct fetch_job *j, roost_error *e)
{
        int r = fetch_image_layers(&j->image, ELEMENTSOF(fake_blobs));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(fake_blobs); i++) {
                struct fetch_desc *d = &j->image.layers[i];
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned len;
                char hex[STORE_SHA256_HEX + 1];
                EVP_Digest(fake_blobs[i], strlen(fake_blobs[i]), md, &len, EVP_sha256(), NULL);
                hex_encode(md, len, hex);
                if (asprintf(&d->name, "layer %zu", i) < 0 || !(d->sha256 = strdup(hex)))
                        return -ENOMEM;
                d->size = strlen(fake_blobs[i]);
        }
        j->image.version = strdup("1.0");
        j->image.source = strdup("test://fake");
        return j->image.version && j->image.source ? 0 : -ENOMEM;
}

static int fake_fetch_blob(struct fetch_job *j, const struct fetch_desc *d, const char *step,
                           store_blob *sink, roost_error *e)
{
        const char *b = fake_blobs[d - j->image.layers];
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", b);
        if (fake.corrupt)
                buf[0] ^= 1;
        fake.fetches++;
        uint64_t off = store_blob_offset(sink);
        return store_blob_write(sink, buf + off, strlen(buf) - off);
}

static int fake_publish(struct fetch_job *j, char ret_digest[STORE_SHA256_HEX + 1], roost_error *e)
{
        static char tar[] = STORE_MEDIA_LAYER_TAR;
        struct store_layer ls[ELEMENTSOF(fake_blobs)];
        for (size_t i = 0; i < j->image.n_layers; i++)
                /* A plain tar's diff_id is its digest. */
                ls[i] = (struct store_layer){ .digest = j->image.layers[i].sha256,
                                              .diff_id = j->image.layers[i].sha256,
                                              .media_type = tar,
                                              .size = j->image.layers[i].size };
        struct store_image_config c = { 0 };
        return store_image_put(j->s, j->arch, ls, j->image.n_layers, &c, j->image.version, ret_digest);
}

static void fake_done(struct fetch_job *j)
{
}

static const struct fetch_source fake_source = {
        .default_tag = "1.0",
        .serves = fake_serves,
        .begin = fake_begin,
        .resolve = fake_resolve,
        .fetch_blob = fake_fetch_blob,
        .publish = fake_publish,
        .done = fake_done,
};

static void test_job_source(void **state)
{
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/roost-unit.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        assert_non_null(mkdtemp(dir));
        _cleanup_store_ store *s = NULL;
        assert_int_equal(store_open(dir, 0, &s), 0);
        struct fetch_options o = { .arch = "x86_64", .retries = -1, .allow_unsigned = true };
        roost_error e = { "" };

        _cleanup_store_ref_ struct store_ref ref = { 0 };
        assert_int_equal(fetch_job_run(&fake_source, s, "test/fake", NULL, &o, &ref, &e), 0);
        assert_int_equal(fake.fetches, 2);
        assert_string_equal(ref.tag, "1.0");
        assert_string_equal(ref.version, "1.0");
        assert_string_equal(ref.source, "test://fake");
        assert_int_equal(ref.n_layers, 2);
        assert_int_equal(ref.size, strlen(fake_blobs[0]) + strlen(fake_blobs[1]));
        assert_null(ref.sha512); /* the reference records one only for a single layer */
        for (size_t i = 0; i < 2; i++)
                assert_true(store_blob_exists(s, ref.layers[i].digest));
        store_ref_done(&ref);

        /* Stored: no request; with --refresh, resolved again but nothing
         * fetched, the blobs being there. */
        assert_int_equal(fetch_job_run(&fake_source, s, "test/fake", "1.0", &o, &ref, &e), 0);
        store_ref_done(&ref);
        o.refresh = true;
        assert_int_equal(fetch_job_run(&fake_source, s, "test/fake", "1.0", &o, &ref, &e), 0);
        assert_int_equal(fake.fetches, 2);
        assert_int_equal(ref.n_layers, 2);
        store_ref_done(&ref);

        /* The source's own check of the tag, and a wrong architecture. */
        assert_int_equal(fetch_job_run(&fake_source, s, "test/fake", "2.0", &o, &ref, &e), -ROOST_EUSAGE);
        assert_string_equal(e.msg, "'2.0' is not 1.0");
        o.arch = "../x";
        assert_int_equal(fetch_job_run(&fake_source, s, "test/fake", "1.0", &o, &ref, &e), -ROOST_EUSAGE);
        o.arch = "x86_64";

        /* Bytes that are not what the source announced: refused, nothing
         * stored, nothing kept for a resume. */
        fake.corrupt = true;
        _cleanup_store_ store *s2 = NULL;
        char dir2[300];
        snprintf(dir2, sizeof(dir2), "%s/other", dir);
        assert_int_equal(store_open(dir2, 0, &s2), 0);
        assert_int_equal(fetch_job_run(&fake_source, s2, "test/fake", "1.0", &o, &ref, &e), -ROOST_EDIGEST);
        assert_non_null(strstr(e.msg, "verifying layer 0: sha256 mismatch"));
        assert_int_equal(fake.fetches, 3);
        DIR *d = NULL;
        size_t left = 0;
        assert_int_equal(opendir_at(store_dirfd(s2), "partial", &d), 0);
        for (struct dirent *de; (de = readdir(d));)
                left += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        assert_int_equal(left, 0);
        assert_int_equal(store_ref_read(s2, "test/fake", "1.0", "x86_64", &ref), -ROOST_ENOTFOUND);
        fake.corrupt = false;

        store_close(TAKE_PTR(s2));
        store_close(TAKE_PTR(s));
        rm_rf_at(AT_FDCWD, dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tag_parse),     cmocka_unit_test(test_version_compare),
                cmocka_unit_test(test_names),         cmocka_unit_test(test_index_pick),
                cmocka_unit_test(test_index_hostile), cmocka_unit_test(test_sumfile),
                cmocka_unit_test(test_threaded_hash), cmocka_unit_test(test_retry_options),
                cmocka_unit_test(test_job_source),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
