/* A test helper that reaches the store library directly, so that the store
 * commands can be tested without a mirror:
 *   store-put put STORE FILE NAME TAG ARCH VERSION   store FILE and a reference to it
 *   store-put use STORE SHA256                       hold the tree in use until stdin closes
 *   store-put image STORE NAME TAG ARCH CONFIG LAYER...  an image of LAYER files, bottom first, whose
 *                                                    config is CONFIG (JSON: Env, Entrypoint, Cmd,
 *                                                    WorkingDir, User); prints its id
 *   store-put tree STORE SHA256 DIR                  publish a copy of DIR as the tree of SHA256
 *   store-put oci STORE LAYOUT REFNAME NAME TAG ARCH store the manifest LAYOUT's index.json names
 *                                                    REFNAME (an OCI layout umoci made: any number
 *                                                    of layers) with its blobs, as NAME:TAG
 *   store-put v1 STORE NAME TAG ARCH                 print NAME:TAG's reference as roost's earlier
 *                                                    exports carried it (roost-image.json) */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "common/error.h"
#include "common/util.h"
#include "store/store.h"

/* Store the layer file PATH (a gzip file is a gzip layer, anything else a
 * plain tar's) and describe it in L, whose strings are static until the
 * next call. */
static int put_layer(store *s, const char *path, struct store_layer *l, char sha512[STORE_SHA512_HEX + 1])
{
        static char sha256[STORE_SHA256_HEX + 1], diff[STORE_SHA256_HEX + 1];
        static unsigned char buf[1 << 16];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return perror(path), -1;
        /* The digest is not known before reading; hash once, then write. */
        store_hash *h;
        ssize_t k;
        uint64_t size = 0;
        store_hash_new(&h);
        store_hash_fd(h, fd, &size);
        store_hash_peek(h, sha256, sha512);
        store_hash_free(h);
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
        if (r >= 0)
                r = store_layer_diff_id(s, sha256, gzip, diff);
        if (r < 0)
                return fprintf(stderr, "store-put: %s: %s\n", path, roost_strerror(r)), -1;
        *l = (struct store_layer){ .digest = sha256, .diff_id = diff, .size = size,
                                   .media_type = (char *)(gzip ? STORE_MEDIA_LAYER_GZIP : STORE_MEDIA_LAYER_TAR) };
        return 0;
}

static int put_ref(store *s, const char *name, const char *tag, const char *arch, const char *version,
                   const char *digest, const char *sha512, uint64_t size)
{
        struct store_ref ref = {
                .name = (char *)name,
                .tag = (char *)tag,
                .arch = (char *)arch,
                .version = (char *)version,
                .source = (char *)"file:///test",
                .digest = (char *)digest,
                .sha512 = (char *)sha512,
                .size = size,
                .created = time(NULL),
        };
        int r = store_ref_write(s, &ref);
        return r < 0 ? fprintf(stderr, "store-put: %s\n", roost_strerror(r)), -1 : 0;
}

static int put(store *s, char **argv)
{
        char sha512[STORE_SHA512_HEX + 1], digest[STORE_SHA256_HEX + 1];
        struct store_layer l;
        if (put_layer(s, argv[3], &l, sha512) < 0)
                return 1;
        struct store_image_config c = { .created = time(NULL) };
        int r = store_image_put(s, argv[6], &l, 1, &c, argv[7], digest);
        if (r < 0)
                return fprintf(stderr, "store-put: %s\n", roost_strerror(r)), 1;
        if (put_ref(s, argv[4], argv[5], argv[6], argv[7], digest, sha512, l.size) < 0)
                return 1;
        printf("%s\n", l.digest);
        return 0;
}

static char **strv_json(json_t *a)
{
        if (!json_is_array(a))
                return NULL;
        char **v = calloc(json_array_size(a) + 1, sizeof(char *));
        for (size_t i = 0; v && i < json_array_size(a); i++)
                v[i] = strdup(json_string_value(json_array_get(a, i)) ?: "");
        return v;
}

/* An image of the layer files LAYERS (bottom first) whose config is
 * CONFIG's JSON, an OCI config's "config" object (Env, Entrypoint, Cmd,
 * WorkingDir, User). Prints the image id. */
static int image(store *s, char **argv, int n_layers)
{
        json_error_t je;
        json_t *o = json_load_file(argv[6], 0, &je);
        if (!json_is_object(o))
                return fprintf(stderr, "store-put: %s: %s\n", argv[6], je.text), 1;
        struct store_image_config c = {
                .env = strv_json(json_object_get(o, "Env")),
                .entrypoint = strv_json(json_object_get(o, "Entrypoint")),
                .cmd = strv_json(json_object_get(o, "Cmd")),
                .created = time(NULL),
        };
        const char *w = json_string_value(json_object_get(o, "WorkingDir"));
        const char *u = json_string_value(json_object_get(o, "User"));
        c.workdir = w ? strdup(w) : NULL;
        c.user = u ? strdup(u) : NULL;
        json_decref(o);
        struct store_layer *layers = calloc((size_t)n_layers, sizeof(*layers));
        char sha512[STORE_SHA512_HEX + 1], digest[STORE_SHA256_HEX + 1];
        uint64_t size = 0;
        int r = 0;
        for (int i = 0; i < n_layers && r == 0; i++) {
                struct store_layer l;
                if ((r = put_layer(s, argv[7 + i], &l, sha512)) == 0) {
                        layers[i] = (struct store_layer){ .digest = strdup(l.digest), .diff_id = strdup(l.diff_id),
                                                          .media_type = l.media_type, .size = l.size };
                        size += l.size;
                }
        }
        if (r == 0 && (r = store_image_put(s, argv[5], layers, (size_t)n_layers, &c, NULL, digest)) < 0)
                fprintf(stderr, "store-put: %s\n", roost_strerror(r));
        if (r == 0 && (r = put_ref(s, argv[3], argv[4], argv[5], NULL, digest, NULL, size)) == 0)
                printf("%s\n", digest);
        for (int i = 0; i < n_layers; i++) {
                free(layers[i].digest);
                free(layers[i].diff_id);
        }
        free(layers);
        store_image_config_done(&c);
        return r < 0 ? 1 : 0;
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

/* LAYOUT/blobs/sha256/HEX into the store, byte for byte. */
static int oci_blob(store *s, const char *layout, const char *digest, bool layer, bool gzip)
{
        char path[4096];
        if (!digest || strncmp(digest, "sha256:", 7))
                return -EINVAL;
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, digest + 7);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        store_blob *b;
        int r = layer ? store_blob_begin_layer(s, digest + 7, gzip, &b) : store_blob_begin(s, digest + 7, &b);
        if (r != 0)
                return r > 0 ? 0 : r;
        static unsigned char buf[1 << 16];
        ssize_t k;
        while ((k = read(fd, buf, sizeof(buf))) > 0)
                store_blob_write(b, buf, (size_t)k);
        return store_blob_commit(b);
}

static int oci(store *s, char **argv)
{
        const char *layout = argv[3];
        char path[4096];
        snprintf(path, sizeof(path), "%s/index.json", layout);
        json_t *index = json_load_file(path, 0, NULL), *m, *l;
        _cleanup_free_ char *digest = NULL;
        size_t i;
        json_array_foreach (json_object_get(index, "manifests"), i, m) {
                const char *rn = json_string_value(
                        json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
                const char *d = json_string_value(json_object_get(m, "digest"));
                if (rn && d && !strcmp(rn, argv[4]) && !digest)
                        digest = strdup(d);
        }
        snprintf(path, sizeof(path), "%s/blobs/sha256/%s", layout, digest ? digest + 7 : "-");
        json_t *manifest = digest ? json_load_file(path, 0, NULL) : NULL;
        int r = manifest ? 0 : -ENOENT;
        if (r == 0)
                r = oci_blob(s, layout, json_string_value(json_object_get(json_object_get(manifest, "config"), "digest")),
                             false, false);
        json_array_foreach (json_object_get(manifest, "layers"), i, l) {
                const char *mt = json_string_value(json_object_get(l, "mediaType"));
                if (r == 0)
                        r = oci_blob(s, layout, json_string_value(json_object_get(l, "digest")), true,
                                     mt && strstr(mt, "gzip"));
        }
        if (r == 0)
                r = oci_blob(s, layout, digest, false, false);
        if (r == 0) {
                struct store_ref ref = {
                        .name = argv[5], .tag = argv[6], .arch = argv[7],
                        .source = (char *)"file:///test", .digest = digest + 7, .created = time(NULL),
                };
                r = store_ref_write(s, &ref);
        }
        json_decref(manifest);
        json_decref(index);
        if (r < 0)
                return fprintf(stderr, "store-put: oci: %s\n", roost_strerror(r)), 1;
        printf("%s\n", digest + 7);
        return 0;
}

int main(int argc, char **argv)
{
        /* Closed on every return: LeakSanitizer (the distcheck run) counts
         * a store left open at exit as a leak, and fails the test. */
        _cleanup_store_ store *s = NULL;
        if (argc < 3 || store_open(argv[2], 0, &s) < 0)
                return fprintf(stderr, "usage: store-put put|use STORE ...\n"), 2;
        if (!strcmp(argv[1], "put") && argc == 8)
                return put(s, argv);
        if (!strcmp(argv[1], "image") && argc >= 8)
                return image(s, argv, argc - 7);
        if (!strcmp(argv[1], "v1") && argc == 6) {
                struct store_ref ref = { 0 };
                _cleanup_free_ char *json = NULL;
                int r = store_ref_read(s, argv[3], argv[4], argv[5], &ref);
                if (r == 0)
                        r = store_ref_v1_json(&ref, &json);
                store_ref_done(&ref);
                if (r < 0)
                        return fprintf(stderr, "store-put: v1: %s\n", roost_strerror(r)), 1;
                printf("%s\n", json);
                return 0;
        }
        if (!strcmp(argv[1], "oci") && argc == 8)
                return oci(s, argv);
        if (!strcmp(argv[1], "tree") && argc == 5)
                return tree(s, argv);
        if (!strcmp(argv[1], "use") && argc == 4) {
                int fd = store_tree_use(s, argv[3]);
                if (fd < 0)
                        return 1;
                store_close(TAKE_PTR(s)); /* a running container holds no store lock */
                printf("holding\n");
                fflush(stdout);
                char c;
                while (read(0, &c, 1) > 0)
                        ;
                return 0;
        }
        return fprintf(stderr, "usage: store-put put|use STORE ...\n"), 2;
}
