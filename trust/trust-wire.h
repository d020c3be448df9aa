/* What trust/client.c and trust/roost-verify.c say to each other: the two
 * are always of one build, so structs pass as they are. */
#pragma once
#include <stdint.h>

#define TRUST_WIRE_ANSWER_FD 3
#define TRUST_WIRE_SIG_MAX   (1u << 20)

/* The verifier's first answer: its keys loaded (STATUS 0), or why not
 * (STATUS a negative roost error, WHY one line). */
struct trust_ready {
        int32_t status;
        char why[1024]; /* a roost_error's message */
};
