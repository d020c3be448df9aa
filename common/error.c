#include "config.h"
#include <errno.h>
#include <string.h>
#include "common/error.h"

static const char *const messages[ROOST_ERR_MAX - ROOST_ERR_BASE] = {
        [ROOST_ENOTFOUND - ROOST_ERR_BASE] = "not found",
        [ROOST_EDIGEST - ROOST_ERR_BASE] = "checksum mismatch",
        [ROOST_ESIZE - ROOST_ERR_BASE] = "size mismatch",
        [ROOST_EFORMAT - ROOST_ERR_BASE] = "malformed data",
        [ROOST_EHTTP - ROOST_ERR_BASE] = "HTTP request failed",
        [ROOST_ENETWORK - ROOST_ERR_BASE] = "network failure",
        [ROOST_ETLS - ROOST_ERR_BASE] = "TLS verification failed",
        [ROOST_EPROTO - ROOST_ERR_BASE] = "URL scheme or redirect refused",
        [ROOST_EUNSAFE - ROOST_ERR_BASE] = "unsafe path",
        [ROOST_EARCHIVE - ROOST_ERR_BASE] = "corrupt or unreadable archive",
        [ROOST_ELIMIT - ROOST_ERR_BASE] = "limit exceeded",
        [ROOST_EUSAGE - ROOST_ERR_BASE] = "invalid argument",
        [ROOST_EOLDSTORE - ROOST_ERR_BASE] =
                "the store is in roost's earlier layout and cannot be written to migrate it: run any roost command on it with write access once (roost images)",
        [ROOST_ESIGNATURE - ROOST_ERR_BASE] = "signature check failed",
};

const char *roost_strerror(int r)
{
        if (r < 0)
                r = -r;
        if (r > ROOST_ERR_BASE && r < ROOST_ERR_MAX)
                return messages[r - ROOST_ERR_BASE];
        return strerror(r);
}

int roost_exit_code(int r)
{
        switch (r < 0 ? -r : r) {
        case 0:
                return 0;
        case ROOST_EUSAGE:
        case EINVAL:
                return EXIT_USAGE;
        case ROOST_ENOTFOUND:
                return EXIT_NOTFOUND;
        case ROOST_EHTTP:
        case ROOST_ENETWORK:
        case ROOST_ETLS:
        case ROOST_EPROTO:
                return EXIT_NETWORK;
        case ROOST_EDIGEST:
        case ROOST_ESIZE:
        case ROOST_EFORMAT:
        case ROOST_ESIGNATURE:
                return EXIT_VERIFY;
        case ROOST_EUNSAFE:
        case ROOST_EARCHIVE:
        case ROOST_ELIMIT:
                return EXIT_ARCHIVE;
        case ROOST_EOLDSTORE:
        case ENOSPC:
        case EDQUOT:
        case EROFS:
        case EACCES:
        case EPERM:
        case ENOENT:
        case EIO:
                return EXIT_STORE;
        default:
                return EXIT_FAIL;
        }
}

#include <stdarg.h>
#include <stdio.h>

int roost_error_set(roost_error *e, int r, const char *fmt, ...)
{
        if (!e)
                return r;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        if (r != 0 && n >= 0 && (size_t)n < sizeof(e->msg))
                snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", roost_strerror(r));
        return r;
}
