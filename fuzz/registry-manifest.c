/* Drives the registry's manifest readers (fetch/registry.c) over one JSON
 * document as a registry returns it: registry_is_index under each
 * Content-Type, registry_index_pick for a few platforms, and
 * registry_manifest_parse. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "fetch/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        static const char *const types[] = { NULL, STORE_MEDIA_INDEX, STORE_MEDIA_DOCKER_MANIFEST, "text/plain" };
        static const char *const arch[] = { "x86_64", "armv7", "aarch64" };
        const char *json = (const char *)data;
        bool idx;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                (void)registry_is_index(json, n, types[i], &idx);
        for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++) {
                struct registry_desc d = { 0 };
                char *list = NULL;
                if (registry_index_pick(json, n, arch[i], &d, &list) == 0)
                        free(d.media_type);
                free(list);
        }
        struct registry_desc config = { 0 }, *layers = NULL;
        size_t n_layers = 0;
        if (registry_manifest_parse(json, n, 64, &config, &layers, &n_layers) == 0) {
                free(config.media_type);
                registry_desc_free(layers, n_layers);
        }
        return 0;
}
