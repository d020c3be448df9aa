/* A test helper for trust/: check the detached signature SIG over standard
 * input, streamed in 64 KiB writes, against the keys in the KEY files
 * (none: Alpine's shipped key).
 *   trust-check SIG [KEY...]   prints "good FINGERPRINT HASH" (exit 0) or
 *                              "bad: WHY" (exit 5) */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "common/util.h"
#include "trust/trust.h"

int main(int argc, char **argv)
{
        if (argc < 2)
                return fprintf(stderr, "usage: trust-check SIG [KEY...] <DATA\n"), 2;
        roost_error e = { "" };
        trust_keys *k;
        int r = trust_keys_new(&k, &e);
        for (int i = 2; r >= 0 && i < argc; i++)
                r = trust_keys_add_file(k, argv[i], &e);
        if (r >= 0 && argc == 2)
                r = trust_keys_add_alpine(k, ROOST_SOURCE_KEYS, &e);
        if (r < 0)
                return fprintf(stderr, "trust-check: %s\n", e.msg), 1;
        _cleanup_free_ char *sig = NULL;
        size_t len = 0;
        FILE *f = fopen(argv[1], "rb");
        if (!f)
                return perror(argv[1]), 1;
        sig = malloc(1 << 20);
        len = fread(sig, 1, 1 << 20, f);
        fclose(f);
        trust_check *c;
        struct trust_verdict v = { 0 };
        if ((r = trust_check_begin(k, sig, len, &c, &e)) >= 0) {
                static char buf[1 << 16];
                ssize_t n;
                while (r >= 0 && (n = read(0, buf, sizeof(buf))) > 0)
                        r = trust_check_update(c, buf, (size_t)n);
                r = trust_check_end(c, &v, &e);
        }
        trust_keys_free(k);
        if (r < 0)
                return printf("bad: %s\n", e.msg), 5;
        printf("good %s %s\n", v.signer, v.hash);
        return 0;
}
