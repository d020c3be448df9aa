/* Inside trust/: the librnp handles behind the public types. */
#pragma once
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include "trust/trust.h"

struct trust_keys {
        rnp_ffi_t ffi;
};
