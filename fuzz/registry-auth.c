/* Drives registry_creds_lookup, registry_creds_store and
 * registry_creds_remove (fetch/registry-auth.c) on an auth.json (podman's)
 * or config.json (docker's) in the scratch tmpfs: the credentials of a few
 * registries looked up under each name docker and podman use, then one
 * stored into and removed from the same file. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fetch/registry.h"
#include "fuzz/scratch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char file[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        snprintf(file, sizeof(file), "%s/auth.json", fuzz_scratch_path());
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        static const char *const registries[] = { "docker.io", "registry-1.docker.io", "ghcr.io", "127.0.0.1:5000" };
        fuzz_write("auth.json", data, n);
        for (size_t i = 0; i < sizeof(registries) / sizeof(registries[0]); i++) {
                char *user = NULL, *pass = NULL;
                if (registry_creds_lookup(file, registries[i], &user, &pass) == 0) {
                        free(user);
                        free(pass);
                }
        }
        if (registry_creds_store(file, "ghcr.io", "fuzz", "pass:word") == 0)
                (void)registry_creds_remove(file, "ghcr.io");
        (void)registry_creds_remove(file, "127.0.0.1:5000");
        fuzz_scratch_empty();
        return 0;
}
