/* roost export: which format, and where it goes. A file is written
 * unnamed (O_TMPFILE) in its destination's directory and given its name
 * only once complete, so a failure, a full disk or a kill -9 leaves
 * neither a partial file nor a damaged old one; layout.c, rootfs.c and
 * bundle.c write the formats themselves. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common/util.h"
#include "exchange/exchange-private.h"

static const char *const format_names[] = {
        [EXCHANGE_FORMAT_OCI] = "oci",
        [EXCHANGE_FORMAT_ROOTFS] = "rootfs",
        [EXCHANGE_FORMAT_BUNDLE] = "bundle",
};

int exchange_format_parse(const char *text, enum exchange_format *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(format_names); i++)
                if (text && !strcmp(text, format_names[i])) {
                        *ret = (enum exchange_format)i;
                        return 0;
                }
        return -EINVAL;
}

static int export_fd(store *s, const struct store_ref *ref, int fd, const struct exchange_export_options *o,
                     roost_error *e)
{
        return o->format == EXCHANGE_FORMAT_OCI ? exchange_export_oci(s, ref, fd, e)
                                                : exchange_export_rootfs(s, ref, fd, o, e);
}

/* A system error while writing (a full disk) is the destination's: the
 * message names it before the entry it was at. */
static int name_dest(int r, const char *dest, roost_error *e)
{
        if (r < 0 && -r < ROOST_ERR_BASE && e && strncmp(e->msg, "writing ", 8) == 0) {
                char msg[sizeof(e->msg)];
                snprintf(msg, sizeof(msg), "writing %s (at %s", dest, e->msg + 8);
                char *colon = strrchr(msg, ':');
                /* "writing FILE (at ENTRY): ERROR" */
                if (colon && colon > msg + strlen(dest) + 12 && strlen(msg) + 1 < sizeof(msg)) {
                        memmove(colon + 1, colon, strlen(colon) + 1);
                        *colon = ')';
                }
                snprintf(e->msg, sizeof(e->msg), "%s", msg);
        }
        return r;
}

/* DEST exists and is no regular file (/dev/null, a FIFO, a terminal
 * the caller allowed): written in place, as a shell redirection would. */
static int export_special(store *s, const struct store_ref *ref, const char *dest,
                          const struct exchange_export_options *o, roost_error *e)
{
        _cleanup_close_ int fd = open(dest, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return roost_error_set(e, -errno, "opening %s", dest);
        return name_dest(export_fd(s, ref, fd, o, e), dest, e);
}

static mode_t current_umask(void)
{
        mode_t m = umask(0);
        umask(m);
        return m;
}

static int export_file(store *s, const struct store_ref *ref, const char *dest,
                       const struct exchange_export_options *o, roost_error *e)
{
        struct stat st;
        if (stat(dest, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return roost_error_set(e, 0, "%s is a directory; name a file to write", dest), -EISDIR;
                if (!S_ISREG(st.st_mode))
                        return export_special(s, ref, dest, o, e);
        }
        _cleanup_free_ char *copy = strdup(dest), *tmpname = NULL;
        if (!copy)
                return -ENOMEM;
        const char *dir = dirname(copy);
        /* 0666 less the umask, as any file the user makes. */
        _cleanup_close_ int fd = open(dir, O_WRONLY | O_TMPFILE | O_CLOEXEC, 0666);
        bool named = false;
        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
                /* A file system without O_TMPFILE: a named temporary,
                 * removed on every path but a kill. */
                if (asprintf(&tmpname, "%s.roost-XXXXXX", dest) < 0)
                        return -ENOMEM;
                fd = mkostemp(tmpname, O_CLOEXEC);
                named = fd >= 0;
                if (named)
                        (void)fchmod(fd, 0666 & ~current_umask());
        }
        if (fd < 0)
                return roost_error_set(e, -errno, "writing %s", dest);
        int r = name_dest(export_fd(s, ref, fd, o, e), dest, e);
        if (r == 0 && fsync(fd) < 0)
                r = roost_error_set(e, -errno, "writing %s", dest);
        if (r == 0 && !named) {
                /* Linked under a temporary name, then renamed over DEST:
                 * linkat cannot replace a file that is there. */
                char self[64];
                snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
                if (asprintf(&tmpname, "%s.roost-XXXXXX", dest) < 0)
                        return -ENOMEM;
                char *x = tmpname + strlen(tmpname) - 6;
                for (int tries = 0; r == 0; tries++) {
                        if ((r = random_suffix(x, 7)) < 0)
                                break;
                        if (linkat(AT_FDCWD, self, AT_FDCWD, tmpname, AT_SYMLINK_FOLLOW) == 0) {
                                named = true;
                                break;
                        }
                        if (errno != EEXIST || tries > 16)
                                r = roost_error_set(e, -errno, "writing %s", dest);
                }
        }
        if (r == 0 && rename(tmpname, dest) < 0)
                r = roost_error_set(e, -errno, "writing %s", dest);
        if (r < 0 && named)
                (void)unlink(tmpname);
        return r;
}

int exchange_export(store *s, const struct store_ref *ref, const char *dest,
                    const struct exchange_export_options *o, roost_error *e)
{
        if (o->format == EXCHANGE_FORMAT_BUNDLE) {
                if (!strcmp(dest, "-"))
                        return roost_error_set(e, 0, "a bundle is a directory; it cannot go to standard output"),
                               -ROOST_EUSAGE;
                return exchange_export_bundle(s, ref, dest, o, e);
        }
        if (!strcmp(dest, "-"))
                return export_fd(s, ref, STDOUT_FILENO, o, e);
        return export_file(s, ref, dest, o, e);
}
