/* Drives the reference parsers a registry pull and the store apply to a
 * name given on the command line or found in an imported file:
 * registry_ref_parse and registry_ref_is_remote (docker's rules,
 * fetch/registry.c), store_ref_parse (store/ref.c). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "fetch/registry.h"
#include "fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        char *text = fuzz_strndup(data, n), *name = NULL, *tag = NULL;
        struct registry_ref r;
        (void)registry_ref_is_remote(text);
        if (registry_ref_parse(text, &r) == 0)
                registry_ref_done(&r);
        if (store_ref_parse(text, "latest", &name, &tag) == 0) {
                free(name);
                free(tag);
        }
        name = tag = NULL;
        if (store_ref_parse(text, NULL, &name, &tag) == 0) {
                free(name);
                free(tag);
        }
        free(text);
        return 0;
}
