/* Drives launch's reading of an image's /etc/passwd and /etc/group
 * (launch/user.c): user_resolve for -u by name, by number, with a group by
 * name and by number, on files in the scratch tmpfs as the image's
 * etc/passwd and etc/group, opened and read as PID 1 does. The input is
 * written as both files: each reader is line by line, so every line is
 * tried as a passwd entry and as a group entry, NUL bytes and overlong
 * lines included. */
#include "config.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz/scratch.h"
#include "launch/launch-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        static const char *const specs[] = { "root",           "app",       "1000",      "0",
                                             "nobody:nogroup", "app:wheel", "1000:1000", "daemon:2",
                                             "4294967294" };
        int root = fuzz_scratch();
        if (mkdirat(root, "etc", 0755) < 0)
                abort();
        fuzz_write("etc/passwd", data, n);
        fuzz_write("etc/group", data, n);
        for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
                struct launch_user u;
                struct user_ids ids;
                roost_error e;
                if (launch_user_parse(specs[i], &u, &e) < 0)
                        abort(); /* the specs above are all well-formed */
                if (user_resolve(&u, root, &ids, &e) == 0) {
                        if (ids.n_groups < 1 || !ids.home)
                                abort();
                        free(ids.groups);
                        free(ids.home);
                }
        }
        fuzz_scratch_empty();
        return 0;
}
