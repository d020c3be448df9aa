/* Drives fetch_index_pick (fetch/resolve.c): Alpine's latest-releases.yaml
 * as a mirror serves it, parsed with libyaml (its event scan, then the
 * document) and the minirootfs entry picked as pull picks it: the newest
 * for an architecture, or one version asked for. */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include "fetch/fetch-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        static const char *const arch[] = { "x86_64", "aarch64" };
        static const char *const want[] = { NULL, "3.20.3" };
        for (size_t i = 0; i < 2; i++) {
                struct fetch_release r = { 0 };
                roost_error e = { 0 };
                if (fetch_index_pick((const char *)data, n, arch[i], want[i], &r, &e) == 0)
                        fetch_release_done(&r);
        }
        return 0;
}
