/* The trust anchors of a transfer: the system's plus --cacert's, as one
 * PEM blob for libcurl (docs/pull.md, "Transfers"). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "fetch/http-ca.h"

static int slurp_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= max) {
                                free(buf);
                                return -EFBIG;
                        }
                        cap *= 2;
                        char *n = realloc(buf, cap + 1);
                        if (!n) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = n;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        buf[len] = 0;
        *ret = buf;
        *ret_len = len;
        return 0;
}

static int slurp_path(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return slurp_fd(fd, max, ret, ret_len);
}

/* At least one certificate, and every one OpenSSL can read: a damaged
 * file is the caller's mistake (exit 2), not a TLS failure of the mirror's
 * (exit 4) found only at the handshake. */
static bool pem_certificates_ok(const char *pem, size_t len)
{
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        int n = 0;
        if (!b)
                return false;
        ERR_clear_error();
        for (;;) {
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                if (!x)
                        break;
                X509_free(x);
                n++;
        }
        /* The loop ends at the end of the text (PEM_R_NO_START_LINE) or at
         * a certificate it could not read (anything else). */
        unsigned long err = ERR_peek_last_error();
        bool bad = err && !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
        ERR_clear_error();
        BIO_free(b);
        return n > 0 && !bad;
}

/* --cacert adds a trust anchor: CURLOPT_CAINFO would replace the system's.
 * A blob (CURLOPT_CAINFO_BLOB) takes the place of the system bundle file
 * but not of the hashed CA directory, where OpenSSL looks anchors up only
 * when a chain needs them: so when libcurl has such a directory, the blob
 * holds just the extra certificate (no parsing of every system one, which
 * costs more than a small pull); otherwise it is the system bundle plus
 * the extra. */
int fetch_http_ca_blob(CURL *probe, const char *cacert, char **ret, size_t *ret_len, roost_error *e)
{
        _cleanup_free_ char *extra = NULL, *sys = NULL;
        size_t extra_len = 0, sys_len = 0;
        int r = slurp_path(cacert, 4 << 20, &extra, &extra_len);
        if (r == -ENOENT) /* a missing file is "not found" (exit 3) in every tool */
                return fetch_fail(e, -ROOST_ENOTFOUND, "--cacert %s: no such file", cacert);
        if (r < 0)
                return fetch_fail(e, -ROOST_EUSAGE, "reading --cacert %s: %s", cacert,
                                  r == -EFBIG ? "too large" : strerror(-r));
        if (!pem_certificates_ok(extra, extra_len))
                return fetch_fail(e, -ROOST_EUSAGE, "--cacert %s holds no valid PEM certificate", cacert);
        const char *sys_path = NULL, *sys_dir = NULL;
        struct stat st;
        if (curl_easy_getinfo(probe, CURLINFO_CAPATH, &sys_dir) != CURLE_OK || !sys_dir ||
            stat(sys_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &sys_path) != CURLE_OK || !sys_path)
                        sys_path = NULL;
        }
        if (sys_path && slurp_path(sys_path, 16 << 20, &sys, &sys_len) < 0) {
                sys = NULL;
                sys_len = 0;
        }
        char *blob = malloc(sys_len + 1 + extra_len + 1);
        if (!blob)
                return -ENOMEM;
        if (sys_len)
                memcpy(blob, sys, sys_len);
        blob[sys_len] = '\n';
        memcpy(blob + sys_len + 1, extra, extra_len);
        *ret_len = sys_len + 1 + extra_len;
        blob[*ret_len] = 0;
        *ret = blob;
        return 0;
}
