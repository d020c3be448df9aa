/* Test helper: store an archive and a reference to it, as pull would, so
 * that unpack's tests do not depend on pull.
 *   unpack-store-put STORE NAME TAG ARCH FILE */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

static int hash_file(int fd, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1])
{
        store_hash *h = NULL;
        int r = store_hash_new(&h);
        if (r < 0)
                return r;
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                store_hash_update(h, buf, (size_t)n);
        r = n < 0 ? -errno : store_hash_peek(h, sha256, sha512);
        store_hash_free(h);
        return r;
}

int main(int argc, char **argv)
{
        if (argc != 6) {
                fprintf(stderr, "usage: unpack-store-put STORE NAME TAG ARCH FILE\n");
                return 2;
        }
        char sha256[STORE_SHA256_HEX + 1], sha512[STORE_SHA512_HEX + 1];
        _cleanup_close_ int fd = open(argv[5], O_RDONLY | O_CLOEXEC);
        struct stat st;
        int r = fd < 0 ? -errno : fstat(fd, &st) < 0 ? -errno : hash_file(fd, sha256, sha512);
        if (r < 0) {
                fprintf(stderr, "unpack-store-put: %s: %s\n", argv[5], roost_strerror(r));
                return 1;
        }
        store *s = NULL;
        if ((r = store_open(argv[1], 0, &s)) < 0) {
                fprintf(stderr, "unpack-store-put: opening %s: %s\n", argv[1], roost_strerror(r));
                return 1;
        }
        store_blob *b = NULL;
        r = store_blob_begin(s, sha256, &b);
        if (r == 0) {
                char buf[65536];
                ssize_t n;
                lseek(fd, 0, SEEK_SET);
                while (r >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
                        r = store_blob_write(b, buf, (size_t)n);
                r = r < 0 ? (store_blob_abort(b, false), r) : store_blob_commit(b);
        }
        char source[4200];
        snprintf(source, sizeof(source), "file://%s", argv[5]);
        struct store_ref ref = {
                .name = argv[2], .tag = argv[3], .arch = argv[4], .version = argv[3],
                .source = source, .sha256 = sha256, .sha512 = sha512,
                .size = (uint64_t)st.st_size, .created = time(NULL),
        };
        if (r >= 0)
                r = store_ref_write(s, &ref);
        store_close(s);
        if (r < 0) {
                fprintf(stderr, "unpack-store-put: storing %s: %s\n", argv[5], roost_strerror(r));
                return 1;
        }
        printf("%s\n", sha256);
        return 0;
}
