/* roost-verify: the process that checks one OpenPGP signature for pull and
 * roost verify (trust/client.c starts it; nobody runs it by hand).
 *
 *   roost-verify [--alpine DIR] [KEY...]   fd 0: the stream, fd 3: the answers
 *
 * It loads the keys at once, while its caller is still busy with the
 * network, and answers on fd 3 with a struct trust_ready. Then it reads
 * from fd 0 the signature's length (4 bytes, host order) and bytes, then the
 * signed bytes to the end, and answers with a struct trust_verdict.
 *
 * A process of its own, for three reasons: librnp and the libraries it
 * brings (Botan, ...) cost each process that loads them tens of
 * milliseconds, which pull then never pays on its own path; librnp as
 * Debian builds it writes its parsers' complaints to stderr with no way
 * to turn them off, and this process's stderr is /dev/null; and a
 * signature is input from the network, parsed where a fault cannot take
 * the download with it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "trust/rnp.h"
#include "trust/trust-wire.h"

static int read_all(int fd, void *buf, size_t n)
{
        char *p = buf;
        while (n > 0) {
                ssize_t k = read(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int answer(const void *buf, size_t n)
{
        return write(TRUST_WIRE_ANSWER_FD, buf, n) == (ssize_t)n ? 0 : 1;
}

int main(int argc, char **argv)
{
        struct trust_ready ready = { .status = 0 };
        roost_error e = { "" };
        trust_ring *ring = NULL;
        int r = trust_ring_new(&ring, &e);
        for (int i = 1; r >= 0 && i < argc; i++) {
                if (!strcmp(argv[i], "--alpine") && i + 1 < argc)
                        r = trust_ring_add_alpine(ring, argv[++i], &e);
                else
                        r = trust_ring_add_file(ring, argv[i], &e);
        }
        if (r < 0) {
                ready.status = r;
                snprintf(ready.why, sizeof(ready.why), "%s", e.msg);
                return answer(&ready, sizeof(ready));
        }
        if (answer(&ready, sizeof(ready)))
                return 1;
        uint32_t len;
        if (read_all(0, &len, sizeof(len)) < 0 || len == 0 || len > TRUST_WIRE_SIG_MAX)
                return 1;
        char *sig = malloc(len);
        if (!sig || read_all(0, sig, len) < 0)
                return 1;
        struct trust_run run = { .ring = ring, .rfd = 0 };
        if (rnp_input_from_memory(&run.sig, (const uint8_t *)sig, len, false) != RNP_SUCCESS)
                return 1;
        trust_run(&run);
        rnp_input_destroy(run.sig);
        free(sig);
        trust_ring_free(ring);
        return answer(&run.v, sizeof(run.v));
}
