/* Drives registry_challenge_parse (fetch/registry.c): a 401's
 * WWW-Authenticate header as a registry (or anything between) sends it. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "fetch/registry.h"
#include "fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        char *text = fuzz_strndup(data, n);
        struct registry_challenge c;
        if (registry_challenge_parse(text, &c) == 0)
                registry_challenge_done(&c);
        free(text);
        return 0;
}
