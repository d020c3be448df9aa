/* unpack-layer [--user-xattrs] FILE DIR: extract one layer tarball into the
 * new directory DIR as a tree for overlayfs (UNPACK_WHITEOUT_OVERLAY, every
 * privileged file kept, as a store's layer tree), for
 * tests/unpack-layers.sh, which stacks such trees with a real overlay
 * mount. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/error.h"
#include "unpack/unpack.h"

static void warn(void *userdata, const char *msg)
{
        fprintf(stderr, "unpack-layer: warning: %s\n", msg);
}

int main(int argc, char **argv)
{
        bool user = argc > 1 && strcmp(argv[1], "--user-xattrs") == 0;
        if (argc != 3 + user) {
                fprintf(stderr, "usage: unpack-layer [--user-xattrs] FILE DIR\n");
                return EXIT_USAGE;
        }
        const char *file = argv[1 + user], *dir = argv[2 + user];
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || mkdir(dir, 0755) < 0) {
                perror(fd < 0 ? file : dir);
                return EXIT_FAIL;
        }
        int rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct unpack_options o = {
                .warn = warn,
                .keep_devices = true,
                .keep_setid = true,
                .whiteouts = UNPACK_WHITEOUT_OVERLAY,
                .overlay_user_xattrs = user,
        };
        roost_error e = { "" };
        int r = rootfd < 0 ? -ENOENT : unpack_into(fd, file, rootfd, &o, &e);
        if (r < 0) {
                fprintf(stderr, "unpack-layer: %s\n", e.msg);
                return roost_exit_code(r);
        }
        return 0;
}
