/* jansson's json_t with the cleanup attribute, for the store and the
 * callers that build or read JSON with it (they link jansson through the
 * store's libraries). */
#pragma once

#include <jansson.h>
#include "common/util.h"

/* jansson (2.11 and later) has the cleanup function itself, json_decrefp,
 * which leaves NULL alone: its json_auto_t under roost's spelling. */
#define _cleanup_json_ _cleanup_(json_decrefp)
