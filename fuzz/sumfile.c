/* Drives fetch_sumfile_parse (fetch/resolve.c): the .sha256 and .sha512
 * files published beside a release, "HEX  NAME" lines or one bare HEX,
 * searched for the release's file name. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "fetch/fetch-private.h"
#include "fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        char *text = fuzz_strndup(data, n), out[STORE_SHA512_HEX + 1];
        (void)fetch_sumfile_parse(text, "alpine-minirootfs-3.20.3-x86_64.tar.gz", STORE_SHA256_HEX, out);
        (void)fetch_sumfile_parse(text, "alpine-minirootfs-3.20.3-x86_64.tar.gz", STORE_SHA512_HEX, out);
        free(text);
        return 0;
}
