/* A test helper that reaches the store library directly, so that the store
 * commands can be tested without a mirror:
 *   store-put put STORE FILE NAME TAG ARCH VERSION   store FILE and a reference to it
 *   store-put use STORE SHA256                       hold the tree in use until stdin closes
 *   store-put tree STORE SHA256 DIR                  publish a copy of DIR as the tree of SHA256 */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

static int put(store *s, char **argv)
{
        _cleanup_close_ int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return perror(argv[3]), 1;
        /* The digest is not known before reading; hash once, then write. */
        store_hash *h;
        static unsigned char buf[1 << 16];
        ssize_t k;
        uint64_t size = 0;
        store_hash_new(&h);
        store_hash_fd(h, fd, &size);
        char sha256[STORE_SHA256_HEX + 1], sha512[STORE_SHA512_HEX + 1];
        store_hash_peek(h, sha256, sha512);
        store_hash_free(h);
        /* A gzip file is a gzip layer, anything else a plain tar's. */
        unsigned char magic[2] = { 0 };
        bool gzip = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        store_blob *b;
        int r = store_blob_begin_layer(s, sha256, gzip, &b);
        if (r == 0) {
                lseek(fd, 0, SEEK_SET);
                while ((k = read(fd, buf, sizeof(buf))) > 0)
                        store_blob_write(b, buf, (size_t)k);
                r = store_blob_commit(b);
        }
        if (r < 0)
                return fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1;
        char diff[STORE_SHA256_HEX + 1], digest[STORE_SHA256_HEX + 1];
        if ((r = store_layer_diff_id(s, sha256, gzip, diff)) < 0)
                return fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1;
        struct store_layer l = { .digest = sha256, .diff_id = diff, .size = size,
                                 .media_type = (char *)(gzip ? STORE_MEDIA_LAYER_GZIP : STORE_MEDIA_LAYER_TAR) };
        struct store_image_config c = { .created = time(NULL) };
        if ((r = store_image_put(s, argv[6], &l, 1, &c, argv[7], digest)) < 0)
                return fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1;
        struct store_ref ref = {
                .name = argv[4],
                .tag = argv[5],
                .arch = argv[6],
                .version = argv[7],
                .source = (char *)"file:///test",
                .digest = digest,
                .sha512 = sha512,
                .size = size,
                .created = time(NULL),
        };
        if ((r = store_ref_write(s, &ref)) < 0)
                return fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1;
        printf("%s\n", sha256);
        return 0;
}

static int tree(store *s, char **argv)
{
        store_tree *t;
        int r = store_tree_begin(s, argv[3], &t);
        if (r != 0)
                return fprintf(stderr, "store-put: %s\n", r < 0 ? roost_strerror(r) : "exists"), 1;
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "cp -a '%s'/. /proc/%d/fd/%d/", argv[4], (int)getpid(),
                 store_tree_dirfd(t));
        if (system(cmd) != 0) {
                store_tree_abort(t);
                return 1;
        }
        r = store_tree_commit(t);
        return r < 0 ? fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1 : 0;
}

int main(int argc, char **argv)
{
        store *s;
        if (argc < 3 || store_open(argv[2], 0, &s) < 0)
                return fprintf(stderr, "usage: store-put put|use STORE ...\n"), 2;
        if (!strcmp(argv[1], "put") && argc == 8)
                return put(s, argv);
        if (!strcmp(argv[1], "tree") && argc == 5)
                return tree(s, argv);
        if (!strcmp(argv[1], "use") && argc == 4) {
                int fd = store_tree_use(s, argv[3]);
                if (fd < 0)
                        return 1;
                store_close(s); /* a running container holds no store lock */
                printf("holding\n");
                fflush(stdout);
                char c;
                while (read(0, &c, 1) > 0)
                        ;
                return 0;
        }
        return fprintf(stderr, "usage: store-put put|use STORE ...\n"), 2;
}
