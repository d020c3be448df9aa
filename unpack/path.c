#include "config.h"
#include <limits.h>
#include <string.h>
#include "common/error.h"
#include "unpack/unpack-private.h"

int unpack_path_split(char *buf, const char **parts, size_t max, const char **why)
{
        size_t len = strlen(buf), n = 0;
        if (len == 0) {
                *why = "empty name";
                return -ROOST_EUNSAFE;
        }
        /* Refused rather than resolved through a long chain of directory fds:
         * no real root file system needs it, and every tool that later walks
         * the tree by path would fail on it. */
        if (len >= PATH_MAX) {
                *why = "name longer than PATH_MAX";
                return -ROOST_EUNSAFE;
        }
        /* GNU tar strips a leading '/', libarchive's secure mode refuses it;
         * refusing keeps an archive meant for / from being read as relative.
         * The root itself is the one exception: umoci's layers name it "/",
         * where others write "./", and it is the tree's top either way. */
        if (buf[0] == '/' && buf[strspn(buf, "/")] == 0)
                return 0;
        if (buf[0] == '/') {
                *why = "absolute name";
                return -ROOST_EUNSAFE;
        }
        char *save = NULL;
        for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        *why = "'..' component";
                        return -ROOST_EUNSAFE;
                }
                if (strlen(c) > NAME_MAX) {
                        *why = "component longer than NAME_MAX";
                        return -ROOST_EUNSAFE;
                }
                if (n == max) {
                        *why = "nested too deep";
                        return -ROOST_EUNSAFE;
                }
                parts[n++] = c;
        }
        return (int)n;
}
