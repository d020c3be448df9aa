/* Drives roost import (exchange/import*.c) over a file in the scratch
 * tmpfs, into a temporary store there: recognition by content (OCI layout
 * archive, docker-archive, roost's earlier export, root filesystem
 * tarball), the listing and documents read in one pass, the blobs stored
 * and verified in the second. Each input is imported twice, once named by
 * what it says itself and once as fuzz:1 for another platform (the second
 * finds the first's blobs stored), and, when it unpacks into a directory,
 * that directory is imported as an OCI layout too (its files reached with
 * openat2, RESOLVE_BENEATH). */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exchange/exchange.h"
#include "fuzz/scratch.h"
#include "unpack/unpack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char input[128], layout[128], root[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        snprintf(input, sizeof(input), "%s/input", fuzz_scratch_path());
        snprintf(layout, sizeof(layout), "%s/layout", fuzz_scratch_path());
        snprintf(root, sizeof(root), "%s/store", fuzz_scratch_path());
        return 0;
}

static void import(store *s, const char *path, const struct exchange_import_options *o)
{
        struct exchange_import_result r = { 0 };
        roost_error e;
        if (exchange_import(s, path, o, &r, &e) == 0)
                exchange_import_result_done(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        const struct exchange_import_options own = { .arch = "x86_64" };
        const struct exchange_import_options named = { .name = "fuzz", .tag = "1", .arch = "aarch64",
                                                       .arch_given = true };
        struct unpack_options uo = { .max_bytes = 64 << 20, .max_entries = 20000 };
        roost_error e;
        store *s;
        fuzz_scratch_empty();
        fuzz_write("input", data, n);
        if (store_open(root, 0, &s) < 0)
                abort();
        import(s, input, &own);
        import(s, input, &named);
        if (unpack_file(input, layout, &uo, &e) == 0)
                import(s, layout, &own);
        store_close(s);
        return 0;
}
