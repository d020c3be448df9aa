/* Drives the store's readers of its own JSON (store/ref.c, store/oci.c,
 * store/migrate.c) on documents planted in a temporary store: a
 * reference file (tags/fuzz/latest), the index it names, the manifest the
 * index names and the config the manifest names, read by store_ref_read,
 * store_ref_list, store_ref_match, store_image_read,
 * store_image_config_read and store_gc (which must read every reference
 * before it removes anything), and the reference file by
 * store_ref_v1_parse too.
 *
 * The input is those four documents separated by NUL bytes (JSON holds
 * none). A digest is what a fuzzer cannot forge, so "@C", "@M" and "@I"
 * stand for "sha256:" and the config's, the manifest's and the index's
 * digest as stored, and "@L" and "@D" for a small gzip layer's digest and
 * diff_id. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz/scratch.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* An empty tar (two zero blocks), gzipped. */
static const unsigned char layer[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03,
                                       0x63, 0x60, 0x18, 0x05, 0xa3, 0x60, 0x14, 0x8c, 0x54, 0x00,
                                       0x00, 0x2e, 0xaf, 0xb5, 0xef, 0x00, 0x04, 0x00, 0x00 };
#define LAYER_DIFF_ID "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

/* DOC with each placeholder KEYS[i] ("@C") written as "sha256:" VALS[i]. */
static char *expand(const char *doc, const char *const *keys, const char *const *vals, size_t k)
{
        size_t cap = strlen(doc) * 36 + 1, o = 0; /* "@X" (2 bytes) grows to 71 */
        char *out = malloc(cap);
        if (!out)
                abort();
        for (const char *p = doc; *p;) {
                size_t i = 0;
                while (i < k && strncmp(p, keys[i], 2))
                        i++;
                if (i < k) {
                        o += (size_t)sprintf(out + o, "sha256:%s", vals[i]);
                        p += 2;
                } else
                        out[o++] = *p++;
        }
        out[o] = 0;
        return out;
}

static void put(store *s, const char *doc, char hex[STORE_SHA256_HEX + 1])
{
        if (store_blob_put(s, doc, strlen(doc), hex) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        /* The four documents, each NUL-terminated (missing ones empty). */
        char *text = fuzz_strndup(data, n);
        const char *doc[4];
        const char *p = text, *end = text + n;
        for (size_t i = 0; i < 4; i++) {
                doc[i] = p < end ? p : "";
                if (p < end)
                        p += strlen(p) + 1;
        }
        fuzz_scratch_empty();
        char root[128];
        snprintf(root, sizeof(root), "%s/store", fuzz_scratch_path());
        store *s;
        if (store_open(root, STORE_EXCLUSIVE, &s) < 0)
                abort();

        char lhex[STORE_SHA256_HEX + 1], chex[STORE_SHA256_HEX + 1], mhex[STORE_SHA256_HEX + 1],
                ihex[STORE_SHA256_HEX + 1];
        if (store_blob_put(s, layer, sizeof(layer), lhex) < 0)
                abort();
        const char *keys[] = { "@L", "@D", "@C", "@M", "@I" };
        const char *vals[] = { lhex, LAYER_DIFF_ID, chex, mhex, ihex };
        char *config = expand(doc[3], keys, vals, 2);
        put(s, config, chex);
        char *manifest = expand(doc[2], keys, vals, 3);
        put(s, manifest, mhex);
        char *index = expand(doc[1], keys, vals, 4);
        put(s, index, ihex);
        char *ref = expand(doc[0], keys, vals, 5);
        if (mkdirat(store_dirfd(s), "tags", 0755) < 0 && errno != EEXIST)
                abort();
        if (mkdirat(store_dirfd(s), "tags/fuzz", 0755) < 0 && errno != EEXIST)
                abort();
        int fd = openat(store_dirfd(s), "tags/fuzz/latest", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, ref, strlen(ref)) < 0)
                abort();
        close(fd);

        struct store_ref r = { 0 }, *refs = NULL;
        size_t n_refs = 0;
        char *bad = NULL, layer_hex[STORE_SHA256_HEX + 1];
        if (store_ref_read(s, "fuzz", "latest", "x86_64", &r) == 0)
                store_ref_done(&r);
        if (store_ref_list(s, &refs, &n_refs, &bad) == 0)
                store_ref_list_free(refs, n_refs);
        free(bad);
        if (store_ref_match(s, "fuzz", NULL, "x86_64", &refs, &n_refs) == 0)
                store_ref_list_free(refs, n_refs);
        if (store_image_read(s, mhex, &r) == 0)
                store_ref_done(&r);
        struct store_image_config c = { 0 };
        if (store_image_config_read(s, chex, &c) == 0)
                store_image_config_done(&c);
        if (store_ref_v1_parse(ref, &r, layer_hex) == 0)
                store_ref_done(&r);
        struct store_gc_report report;
        (void)store_gc(s, &report);

        store_close(s);
        free(ref);
        free(index);
        free(manifest);
        free(config);
        free(text);
        return 0;
}
