/* The transport's trust anchors (http-ca.c), for http.c alone. */
#pragma once

#include <stddef.h>
#include <curl/curl.h>
#include "common/error.h"
#include "fetch/fetch-private.h"

/* The PEM blob that adds CACERT's certificates to the system's anchors,
 * for CURLOPT_CAINFO_BLOB; PROBE is a handle to ask libcurl where the
 * system's anchors are. A missing file is -ROOST_ENOTFOUND, a file that
 * holds no certificate -ROOST_EUSAGE. */
int fetch_http_ca_blob(CURL *probe, const char *cacert, char **ret, size_t *ret_len, roost_error *e);
