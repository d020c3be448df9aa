/* The store's invariants, each with a test that fails when the invariant
 * is broken. Every test works in a fresh store under a temporary root. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "common/error.h"
#include "common/user.h"
#include "common/util.h"
#include "store/store.h"

#define PAYLOAD_SIZE (1 << 20)

static char root[256];
static unsigned char *payload;
static char payload_sha256[STORE_SHA256_HEX + 1];

static void sha256_hex(const void *buf, size_t n, char *out)
{
        unsigned char md[32];
        unsigned len;
        EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL);
        hex_encode(md, len, out);
}

static int setup(void **state)
{
        snprintf(root, sizeof(root), "%s/roost-unit.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(root))
                return -1;
        strcat(root, "/store");
        return 0;
}

static int teardown(void **state)
{
        char parent[256];
        snprintf(parent, sizeof(parent), "%s", root);
        *strrchr(parent, '/') = 0;
        rm_rf_at(AT_FDCWD, parent);
        return 0;
}

static int count_entries(const char *sub)
{
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, sub);
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        int n = 0;
        DIR *d = fdopendir(fd);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static bool path_exists(const char *fmt, ...)
{
        char rel[512], p[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

/* Invariant 1: nothing under its final name until complete and verified. */
static void test_blob_atomic_publish(void **state)
{
        store *s;
        store_blob *b;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE / 2), 0);
        assert_false(store_blob_exists(s, payload_sha256));
        assert_false(path_exists("blobs/sha256/%s", payload_sha256));
        assert_int_equal(store_blob_write(b, payload + PAYLOAD_SIZE / 2, PAYLOAD_SIZE / 2), 0);
        assert_false(path_exists("blobs/sha256/%s", payload_sha256));
        assert_int_equal(store_blob_commit(b), 0);
        assert_true(store_blob_exists(s, payload_sha256));
        char p[512];
        struct stat st;
        snprintf(p, sizeof(p), "%s/blobs/sha256/%s", root, payload_sha256);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0444);
        assert_int_equal(st.st_size, PAYLOAD_SIZE);
        assert_int_equal(count_entries("partial"), 0);
        store_close(s);
}

static void test_blob_wrong_bytes_refused(void **state)
{
        store *s;
        store_blob *b;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE - 1), 0);
        assert_int_equal(store_blob_write(b, "X", 1), 0);
        assert_int_equal(store_blob_commit(b), -ROOST_EDIGEST);
        assert_false(store_blob_exists(s, payload_sha256));
        assert_int_equal(count_entries("blobs/sha256"), 0);
        assert_int_equal(count_entries("partial"), 0);
        store_close(s);
}

static void test_tree_atomic_publish(void **state)
{
        store *s;
        store_tree *t;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_tree_begin(s, payload_sha256, &t), 0);
        int fd = openat(store_tree_dirfd(t), "file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_false(store_tree_exists(s, payload_sha256));
        assert_false(path_exists("trees/%s", payload_sha256));
        assert_int_equal(store_tree_commit(t), 0);
        assert_true(store_tree_exists(s, payload_sha256));
        assert_true(path_exists("trees/%s/rootfs/file", payload_sha256));
        assert_int_equal(count_entries("tmp"), 0);
        /* A second writer finds it done. */
        assert_int_equal(store_tree_begin(s, payload_sha256, &t), 1);
        assert_null(t);
        store_close(s);
}

/* Invariant 2: SIGKILL mid-write leaves a consistent store; the next open
 * cleans what the dead writer left, and a download resumes. */
static void test_sigkill_mid_write(void **state)
{
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                store *s;
                store_blob *b;
                store_tree *t;
                if (store_open(root, 0, &s) < 0 || store_blob_begin(s, payload_sha256, &b) < 0 ||
                    store_blob_write(b, payload, PAYLOAD_SIZE / 2) < 0 ||
                    store_tree_begin(s, payload_sha256, &t) < 0)
                        _exit(1);
                int fd = openat(store_tree_dirfd(t), "half", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, payload, 4096) != 4096)
                        _exit(1);
                if (write(pipefd[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(pipefd[1]);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));

        assert_int_equal(count_entries("tmp"), 1);
        store *s;
        assert_int_equal(store_open(root, 0, &s), 0);
        /* The dead writer's temporary tree is gone, nothing is published. */
        assert_int_equal(count_entries("tmp"), 0);
        assert_false(store_blob_exists(s, payload_sha256));
        assert_false(store_tree_exists(s, payload_sha256));
        /* The half-written blob resumes where it stopped and verifies whole. */
        store_blob *b;
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_offset(b), PAYLOAD_SIZE / 2);
        assert_int_equal(store_blob_write(b, payload + PAYLOAD_SIZE / 2, PAYLOAD_SIZE / 2), 0);
        assert_int_equal(store_blob_commit(b), 0);
        assert_true(store_blob_exists(s, payload_sha256));
        store_close(s);
}


/* A blob whose digest is known only at the end (a layer roost makes):
 * written in a temporary, published under its hash with its diff_id
 * recorded, never visible before; an abandoned or killed one leaves
 * nothing behind. */
static void test_blob_publish_new(void **state)
{
        store *s;
        store_blob *b;
        char got[STORE_SHA256_HEX + 1], diff[STORE_SHA256_HEX + 1], fake_diff[STORE_SHA256_HEX + 1];
        sha256_hex("tar", 3, fake_diff);
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(count_entries("tmp"), 1);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE / 3), 0);
        assert_int_equal(store_blob_write(b, payload + PAYLOAD_SIZE / 3, PAYLOAD_SIZE - PAYLOAD_SIZE / 3), 0);
        assert_int_equal(count_entries("blobs/sha256"), 0);
        assert_int_equal(store_blob_commit(b), -EINVAL); /* no name to check: publish */
        assert_int_equal(count_entries("tmp"), 0);

        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_publish(b, "not-a-digest", got), -EINVAL);
        assert_int_equal(count_entries("blobs/sha256"), 0);
        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_publish(b, fake_diff, got), 0);
        assert_string_equal(got, payload_sha256);
        assert_true(store_blob_exists(s, payload_sha256));
        assert_int_equal(store_blob_verify(s, payload_sha256, NULL), 0);
        /* The writer's diff_id is what the store answers, not one it
         * computes from the gzip it does not have here. */
        assert_int_equal(store_layer_diff_id(s, payload_sha256, true, diff), 0);
        assert_string_equal(diff, fake_diff);
        char p[512];
        struct stat st;
        snprintf(p, sizeof(p), "%s/blobs/sha256/%s", root, payload_sha256);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0444);
        assert_int_equal(count_entries("tmp"), 0);

        /* The same bytes again: the stored copy stays, ours goes. */
        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_publish(b, NULL, got), 0);
        assert_string_equal(got, payload_sha256);
        assert_int_equal(count_entries("blobs/sha256"), 1);
        assert_int_equal(count_entries("tmp"), 0);

        /* Given up: nothing left. */
        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(store_blob_write(b, "abc", 3), 0);
        store_blob_abort(b, true);
        assert_int_equal(count_entries("tmp"), 0);
        assert_int_equal(count_entries("partial"), 0);
        store_close(s);

        /* Killed while writing: the next command removes its temporary. */
        int pipefd[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (store_open(root, 0, &s) < 0 || store_blob_begin_new(s, &b) < 0 ||
                    store_blob_write(b, payload, PAYLOAD_SIZE) < 0 || write(pipefd[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(pipefd[1]);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(count_entries("tmp"), 1);
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(count_entries("tmp"), 0);
        assert_int_equal(count_entries("blobs/sha256"), 1);
        store_close(s);
}

/* An image made from another keeps the config it is given byte for byte,
 * and only when its diff_ids are its layers'. */
static void test_image_put_config(void **state)
{
        store *s;
        store_blob *b;
        char layer[STORE_SHA256_HEX + 1], diff[STORE_SHA256_HEX + 1], digest[STORE_SHA256_HEX + 1];
        char config[512], other[512];
        sha256_hex("tar", 3, diff);
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin_new(s, &b), 0);
        assert_int_equal(store_blob_write(b, payload, 4096), 0);
        assert_int_equal(store_blob_publish(b, diff, layer), 0);
        struct store_layer l = { .digest = layer, .diff_id = diff, .media_type = (char *)STORE_MEDIA_LAYER_GZIP,
                                 .size = 4096 };
        snprintf(config, sizeof(config),
                 "{\"architecture\":\"amd64\",\"config\":{\"Labels\":{\"a\":\"b\"}},\"os\":\"linux\","
                 "\"rootfs\":{\"diff_ids\":[\"sha256:%s\"],\"type\":\"layers\"}}",
                 diff);
        snprintf(other, sizeof(other), "{\"rootfs\":{\"diff_ids\":[\"sha256:%s\"]}}", payload_sha256);
        assert_int_equal(store_image_put_config(s, other, &l, 1, NULL, digest), -EINVAL);
        assert_int_equal(store_image_put_config(s, "{\"rootfs\":{\"diff_ids\":[]}}", &l, 1, NULL, digest),
                         -ROOST_EFORMAT);
        assert_int_equal(store_image_put_config(s, "not json", &l, 1, NULL, digest), -ROOST_EFORMAT);
        struct store_layer missing = l;
        missing.digest = payload_sha256;
        assert_int_equal(store_image_put_config(s, config, &missing, 1, NULL, digest), -ENOENT);
        assert_int_equal(store_image_put_config(s, config, &l, 1, NULL, digest), 0);
        struct store_ref ref = { 0 };
        assert_int_equal(store_image_read(s, digest, &ref), 0);
        assert_int_equal(ref.n_layers, 1);
        assert_string_equal(ref.layers[0].digest, layer);
        assert_string_equal(ref.layers[0].diff_id, diff);
        _cleanup_free_ char *text = NULL;
        assert_int_equal(store_blob_read(s, ref.config, 4096, &text, NULL), 0);
        assert_string_equal(text, config);
        store_ref_done(&ref);
        store_close(s);
}

/* Named containers: listed by name, taken only when they exist. */
static void test_container_take_list(void **state)
{
        store *s;
        char **names;
        size_t n;
        int dfd;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_container_list(s, &names, &n), 0);
        assert_int_equal(n, 0);
        strv_free(names);
        assert_int_equal(store_container_take(s, "web", &dfd), -ENOENT);
        assert_false(path_exists("containers/web"));
        int lock = store_container_lock(s, "web", &dfd);
        assert_true(lock >= 0);
        close(dfd);
        assert_true(store_container_lock(s, "db", &dfd) >= 0);
        close(dfd);
        /* Held by a launch (another open file description): refused. */
        assert_int_equal(store_container_take(s, "web", &dfd), -EBUSY);
        close(lock);
        lock = store_container_take(s, "web", &dfd);
        assert_true(lock >= 0);
        close(dfd);
        close(lock);
        assert_int_equal(store_container_take(s, "../x", &dfd), -EINVAL);
        assert_int_equal(store_container_list(s, &names, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(names[0], "db");
        assert_string_equal(names[1], "web");
        assert_null(names[2]);
        strv_free(names);
        store_close(s);
}

/* A live writer's temporary survives another process opening the store. */
static void test_live_temporary_kept(void **state)
{
        int pipefd[2], go[2];
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                store *s;
                store_tree *t;
                char c;
                close(go[1]);
                if (store_open(root, 0, &s) < 0 || store_tree_begin(s, payload_sha256, &t) < 0 ||
                    write(pipefd[1], "x", 1) != 1 || read(go[0], &c, 1) < 0)
                        _exit(1);
                _exit(store_tree_commit(t) == 0 ? 0 : 2);
        }
        close(pipefd[1]);
        close(go[0]);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        store *s;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(count_entries("tmp"), 1);
        close(go[1]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(store_tree_exists(s, payload_sha256));
        store_close(s);
}

/* Invariant 3: eight processes committing one object at once: one copy, no
 * error, the bytes written once, and a reader never sees a partial blob. */
static void test_concurrent_commit(void **state)
{
        enum { WRITERS = 8 };
        int go[2];
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pids[WRITERS + 1];
        for (int i = 0; i <= WRITERS; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] != 0)
                        continue;
                close(go[1]);
                char c;
                if (read(go[0], &c, 1) != 0) /* wait until the pipe closes */
                        _exit(10);
                store *s;
                if (store_open(root, 0, &s) < 0)
                        _exit(11);
                if (i == WRITERS) {
                        /* The reader: the first moment the blob is
                         * visible, it is whole. It must become visible:
                         * a reader that never saw it proved nothing. */
                        struct timespec t0, now = { 0 };
                        clock_gettime(CLOCK_MONOTONIC, &t0);
                        do {
                                int fd = store_blob_open(s, payload_sha256);
                                if (fd < 0) {
                                        clock_gettime(CLOCK_MONOTONIC, &now);
                                        continue;
                                }
                                unsigned char *buf = malloc(PAYLOAD_SIZE + 1);
                                ssize_t n = read(fd, buf, PAYLOAD_SIZE + 1);
                                char got[STORE_SHA256_HEX + 1];
                                sha256_hex(buf, n > 0 ? (size_t)n : 0, got);
                                _exit(n == PAYLOAD_SIZE && !strcmp(got, payload_sha256) ? 0 : 12);
                        } while (now.tv_sec - t0.tv_sec < 30);
                        _exit(16);
                }
                store_blob *b;
                int r = store_blob_begin(s, payload_sha256, &b);
                if (r == 1)
                        _exit(20); /* found it done: wrote nothing */
                if (r < 0)
                        _exit(13);
                for (size_t off = 0; off < PAYLOAD_SIZE; off += 65536) {
                        if (store_blob_write(b, payload + off, 65536) < 0)
                                _exit(14);
                        usleep(100);
                }
                _exit(store_blob_commit(b) == 0 ? 0 : 15);
        }
        close(go[0]);
        close(go[1]);
        int wrote = 0, done = 0;
        for (int i = 0; i <= WRITERS; i++) {
                int status;
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                int code = WEXITSTATUS(status);
                if (i == WRITERS) {
                        assert_int_equal(code, 0);
                        continue;
                }
                assert_true(code == 0 || code == 20);
                wrote += code == 0;
                done += code == 20;
        }
        assert_int_equal(wrote, 1);
        assert_int_equal(done, WRITERS - 1);
        assert_int_equal(count_entries("blobs/sha256"), 1);
        assert_int_equal(count_entries("partial"), 0);
}

/* The manifest of an image whose one layer is the blob LAYER, taken as a
 * plain tar (its diff_id is its digest); the layer need not be stored. */
static void image_for(store *s, const char *layer, char digest[STORE_SHA256_HEX + 1])
{
        struct store_layer l = { .digest = (char *)layer, .diff_id = (char *)layer,
                                 .media_type = (char *)STORE_MEDIA_LAYER_TAR, .size = PAYLOAD_SIZE };
        struct store_image_config c = { .created = 1700000000 };
        assert_int_equal(store_image_put(s, "x86_64", &l, 1, &c, "3.20.3", digest), 0);
}

static struct store_ref make_ref(const char *digest)
{
        return (struct store_ref){
                .name = (char *)"alpine",
                .tag = (char *)"3.20",
                .arch = (char *)"x86_64",
                .version = (char *)"3.20.3",
                .source = (char *)"https://mirror.example/alpine/v3.20/releases/x86_64/x.tar.gz",
                .digest = (char *)digest,
                .sha512 = NULL,
                .size = PAYLOAD_SIZE,
                .created = 1700000000,
        };
}

/* Invariant 4: a reference never points at a missing object. */
static void test_ref_needs_blob(void **state)
{
        store *s;
        char digest[STORE_SHA256_HEX + 1];
        assert_int_equal(store_open(root, 0, &s), 0);
        image_for(s, payload_sha256, digest);
        struct store_ref ref = make_ref(digest);
        assert_int_equal(store_ref_write(s, &ref), -ENOENT);
        struct store_ref got;
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "x86_64", &got), -ROOST_ENOTFOUND);

        store_blob *b;
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_commit(b), 0);
        assert_int_equal(store_ref_write(s, &ref), 0);
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "x86_64", &got), 0);
        assert_string_equal(got.digest, digest);
        assert_int_equal(got.n_layers, 1);
        assert_string_equal(got.layers[0].digest, payload_sha256);
        assert_string_equal(got.version, "3.20.3");
        assert_int_equal(got.size, PAYLOAD_SIZE);
        assert_int_equal(got.created, 1700000000);
        assert_null(got.sha512);
        store_ref_done(&got);

        struct store_ref *list;
        size_t n;
        assert_int_equal(store_ref_list(s, &list, &n, NULL), 0);
        assert_int_equal(n, 1);
        assert_string_equal(list[0].tag, "3.20");
        store_ref_list_free(list, n);
        assert_int_equal(store_ref_remove(s, "alpine", "3.20", "x86_64"), 0);
        assert_int_equal(store_ref_remove(s, "alpine", "3.20", "x86_64"), -ROOST_ENOTFOUND);
        store_close(s);
}

/* An image that came with a config of its own and no manifest (a
 * docker-archive): the manifest written around it names the config as it
 * was stored, byte for byte, and the same inputs give the same digest; a
 * reference to it still needs every blob. */
static void test_manifest_put(void **state)
{
        store *s;
        char chex[STORE_SHA256_HEX + 1], d1[STORE_SHA256_HEX + 1], d2[STORE_SHA256_HEX + 1];
        static const char cfg[] = "{\"architecture\": \"amd64\", \"os\": \"linux\", \"container_config\": {}}";
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_put(s, cfg, strlen(cfg), chex), 0);
        struct store_layer l = { .digest = payload_sha256, .diff_id = payload_sha256,
                                 .media_type = (char *)STORE_MEDIA_LAYER_TAR, .size = PAYLOAD_SIZE };
        assert_int_equal(store_manifest_put(s, chex, strlen(cfg), &l, 1, NULL, d1), 0);
        assert_int_equal(store_manifest_put(s, chex, strlen(cfg), &l, 1, NULL, d2), 0);
        assert_string_equal(d1, d2);
        char *text;
        assert_int_equal(store_blob_read(s, d1, 4096, &text, NULL), 0);
        char want[1024];
        snprintf(want, sizeof(want),
                 "{\"config\":{\"digest\":\"sha256:%s\",\"mediaType\":\"%s\",\"size\":%zu},\"layers\":"
                 "[{\"digest\":\"sha256:%s\",\"mediaType\":\"%s\",\"size\":%d}],\"mediaType\":\"%s\","
                 "\"schemaVersion\":2}",
                 chex, STORE_MEDIA_CONFIG, strlen(cfg), payload_sha256, STORE_MEDIA_LAYER_TAR, PAYLOAD_SIZE,
                 STORE_MEDIA_MANIFEST);
        assert_string_equal(text, want);
        free(text);
        struct store_ref ref = make_ref(d1);
        assert_int_equal(store_ref_write(s, &ref), -ENOENT); /* the layer is not stored */
        store_blob *b;
        assert_int_equal(store_blob_begin_layer(s, payload_sha256, false, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_commit(b), 0);
        assert_int_equal(store_ref_write(s, &ref), 0);
        struct store_image_config c;
        assert_int_equal(store_image_config_read(s, chex, &c), 0);
        assert_null(c.cmd);
        store_image_config_done(&c);
        /* A digest that is no digest is refused before anything is written. */
        l.digest = (char *)"../../etc/passwd";
        assert_int_equal(store_manifest_put(s, chex, strlen(cfg), &l, 1, NULL, d2), -EINVAL);
        assert_int_equal(store_manifest_put(s, "nope", 1, NULL, 0, NULL, d2), -EINVAL);
        store_close(s);
}

/* A bare name means the newest image of that name already stored, so
 * that "launch alpine" after "pull alpine 3.20" runs it offline. */
static void test_version_is_release(void **state)
{
        static const char *const yes[] = { "3.20.3", "3.21.0_rc1", "0.0.0", "3.020.1" };
        static const char *const no[] = { "3.20",    "20250108",   "edge", "",        "3.20.3.1",
                                          "3.20.3_", "3.20.3_RC1", "3..3", "v3.20.3", "1234567890.1.1" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (!store_version_is_release(yes[i]))
                        fail_msg("'%s' is a release", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (store_version_is_release(no[i]))
                        fail_msg("'%s' is not a release", no[i]);
        assert_false(store_version_is_release(NULL));
}

static struct store_ref pulled(const char *tag, const char *arch, const char *version, int64_t created)
{
        struct store_ref r = make_ref(payload_sha256);
        r.tag = (char *)tag;
        r.arch = (char *)arch;
        r.version = (char *)version;
        r.created = created;
        return r;
}

static void test_ref_sort_newest(void **state)
{
        /* Pulled in an order that is neither the version order nor its
         * reverse; 3.9.9 against 3.10.0 is where a string order errs. */
        struct store_ref refs[] = {
                pulled("edge", "x86_64", "20250108", 500),
                pulled("3.10", "x86_64", "3.10.0", 100),
                pulled("3.9", "x86_64", "3.9.9", 400),
                pulled("rc", "x86_64", "3.10.1_rc1", 300),
                pulled("mine", "x86_64", "custom", 600),
                pulled("latest-stable", "x86_64", "3.10.0", 200),
                pulled("old-edge", "x86_64", "20240101", 50),
        };
        static const char *const want[] = { "3.10.1_rc1/rc",    "3.10.0/latest-stable", "3.10.0/3.10",
                                            "3.9.9/3.9",        "custom/mine",          "20250108/edge",
                                            "20240101/old-edge" };
        store_ref_sort_newest(refs, ELEMENTSOF(refs));
        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                char got[64];
                snprintf(got, sizeof(got), "%s/%s", refs[i].version, refs[i].tag);
                if (strcmp(got, want[i]) != 0)
                        fail_msg("position %zu: %s, want %s", i, got, want[i]);
        }
}

static void put_ref(store *s, const char *name, const char *tag, const char *arch, const char *version,
                    int64_t created)
{
        struct store_ref r = pulled(tag, arch, version, created);
        struct store_layer l = { .digest = payload_sha256, .diff_id = payload_sha256,
                                 .media_type = (char *)STORE_MEDIA_LAYER_TAR, .size = PAYLOAD_SIZE };
        struct store_image_config c = { .created = created };
        char digest[STORE_SHA256_HEX + 1];
        assert_int_equal(store_image_put(s, arch, &l, 1, &c, version, digest), 0);
        r.name = (char *)name;
        r.digest = digest;
        assert_int_equal(store_ref_write(s, &r), 0);
}

/* The tag of the reference store_ref_resolve picks, or the error. */
static const char *resolved(store *s, const char *name, const char *tag, const char *arch)
{
        static char buf[160];
        struct store_ref ref;
        int r = store_ref_resolve(s, name, tag, arch, &ref);
        if (r < 0)
                return r == -ROOST_ENOTFOUND ? "(none)" : roost_strerror(r);
        snprintf(buf, sizeof(buf), "%s:%s/%s", ref.name, ref.tag, ref.arch);
        store_ref_done(&ref);
        return buf;
}

static void test_ref_match(void **state)
{
        store *s;
        store_blob *b;
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "(none)");
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
        assert_int_equal(store_blob_commit(b), 0);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "(none)");

        /* Only images that carry no release: the most recently pulled. */
        put_ref(s, "alpine", "edge", "x86_64", "20250108", 300);
        put_ref(s, "alpine", "mine", "x86_64", "custom", 200);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "alpine:edge/x86_64");

        /* A release wins over them, and the newest release over the
         * most recently pulled one. */
        put_ref(s, "alpine", "3.99", "x86_64", "3.99.2", 100);
        put_ref(s, "alpine", "3.98", "x86_64", "3.98.5", 400);
        put_ref(s, "alpine", "3.100", "aarch64", "3.100.0", 100);
        put_ref(s, "busybox", "9.9", "x86_64", "9.9.9", 500);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "alpine:3.99/x86_64");
        assert_string_equal(resolved(s, "alpine", NULL, "aarch64"), "alpine:3.100/aarch64");
        assert_string_equal(resolved(s, "alpine", NULL, "armv7"), "(none)");
        assert_string_equal(resolved(s, "busybox", NULL, "x86_64"), "busybox:9.9/x86_64");
        assert_string_equal(resolved(s, "debian", NULL, "x86_64"), "(none)");

        struct store_ref *refs;
        size_t n;
        assert_int_equal(store_ref_match(s, "alpine", NULL, "x86_64", &refs, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(refs[0].tag, "3.99");
        assert_string_equal(refs[1].tag, "3.98");
        assert_string_equal(refs[2].tag, "edge");
        assert_string_equal(refs[3].tag, "mine");
        store_ref_list_free(refs, n);

        /* A tag that is stored means that reference; an exact release
         * means any reference of that version, whatever its tag. */
        assert_string_equal(resolved(s, "alpine", "3.98", "x86_64"), "alpine:3.98/x86_64");
        assert_string_equal(resolved(s, "alpine", "3.98.5", "x86_64"), "alpine:3.98/x86_64");
        assert_string_equal(resolved(s, "alpine", "v3.98.5", "x86_64"), "alpine:3.98/x86_64");
        assert_string_equal(resolved(s, "alpine", "3.98.4", "x86_64"), "(none)");
        assert_string_equal(resolved(s, "alpine", "3.100.0", "x86_64"), "(none)");
        assert_string_equal(resolved(s, "alpine", "3.100.0", "aarch64"), "alpine:3.100/aarch64");
        assert_string_equal(resolved(s, "alpine", "latest-stable", "x86_64"), "(none)");
        assert_string_equal(resolved(s, "alpine", "3.97", "x86_64"), "(none)");
        /* Under two tags, one release is still one image: the most
         * recently pulled reference to it, and both are matched. */
        put_ref(s, "alpine", "latest-stable", "x86_64", "3.99.2", 600);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "alpine:latest-stable/x86_64");
        assert_string_equal(resolved(s, "alpine", "3.99.2", "x86_64"), "alpine:latest-stable/x86_64");
        assert_int_equal(store_ref_match(s, "alpine", "3.99.2", "x86_64", &refs, &n), 0);
        assert_int_equal(n, 2);
        store_ref_list_free(refs, n);
        assert_int_equal(store_ref_match(s, "alpine", "3.99", "x86_64", &refs, &n), 0);
        assert_int_equal(n, 1);
        store_ref_list_free(refs, n);

        /* A reference that cannot be read is left out of a bare name's
         * choice, and reported when it is the one named. */
        char p[512];
        snprintf(p, sizeof(p), "%s/tags/alpine/4.0", root);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("{not json", f);
        fclose(f);
        assert_string_equal(resolved(s, "alpine", NULL, "x86_64"), "alpine:latest-stable/x86_64");
        struct store_ref ref;
        assert_int_equal(store_ref_resolve(s, "alpine", "4.0", "x86_64", &ref), -ROOST_EFORMAT);
        assert_int_equal(store_ref_resolve(s, "../x", NULL, "x86_64", &ref), -ROOST_EUNSAFE);
        assert_int_equal(store_ref_resolve(s, "alpine", "a/b", "x86_64", &ref), -ROOST_EUNSAFE);
        store_close(s);
}

static void test_escaping_names_refused(void **state)
{
        static const char *const bad[] = { "../x", "/", "", ".", "..", "a//b", ".hidden", "-x", "a\nb", "a/" };
        store *s;
        assert_int_equal(store_open(root, 0, &s), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *n = NULL, *t = NULL;
                assert_false(store_ref_name_valid(bad[i]));
                assert_false(store_ref_tag_valid(bad[i]));
                assert_false(store_arch_valid(bad[i]));
                struct store_ref ref = make_ref(payload_sha256);
                ref.tag = (char *)bad[i];
                assert_int_equal(store_ref_write(s, &ref), -ROOST_EUNSAFE);
                ref = make_ref(payload_sha256);
                ref.name = (char *)bad[i];
                assert_int_not_equal(store_ref_write(s, &ref), 0);
                ref = make_ref(payload_sha256);
                ref.arch = (char *)bad[i];
                assert_int_equal(store_ref_write(s, &ref), -ROOST_EUNSAFE);
                char text[64];
                snprintf(text, sizeof(text), "alpine:%s", bad[i]);
                assert_int_equal(store_ref_parse(text, "x", &n, &t), -ROOST_EUSAGE);
        }
        static const char *const bad_digests[] = {
                "../../etc/passwd",
                "",
                "/",
                "D4E6FD67DCF75E40C451560AC7265166C2B72A0F38DDC9AAE756A7DE3D1EFA0C",
                "d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0",
                "../d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1e"
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_digests); i++) {
                store_blob *b;
                store_tree *t;
                assert_int_equal(store_blob_begin(s, bad_digests[i], &b), -ROOST_EUNSAFE);
                assert_int_equal(store_tree_begin(s, bad_digests[i], &t), -ROOST_EUNSAFE);
                assert_int_equal(store_blob_open(s, bad_digests[i]), -ROOST_EUNSAFE);
        }
        store_close(s);
}

/* docker's names: a registry host[:port] first, then path components;
 * each is kept under tags/ as one path component. */
static void test_ref_names(void **state)
{
        static const char *const good[] = { "alpine", "team/app", "127.0.0.1:5000/team/app", "localhost/a",
                                            "ghcr.io/o/r", "a__b", "a-b--c", "a.b", "my.registry:443/x" };
        static const char *const bad[] = { "Team/app", "a/../b", "a/./b", "127.0.0.1:/x", "host:99999/x",
                                           "a___b", "a..b", "a_", "-a", "a/-b", "ghcr.io/", "x/Y" };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!store_ref_name_valid(good[i]))
                        fail_msg("'%s' is a valid name", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (store_ref_name_valid(bad[i]))
                        fail_msg("'%s' is not a valid name", bad[i]);
        char *n, *t;
        assert_int_equal(store_ref_parse("127.0.0.1:5000/team/app:1.0", NULL, &n, &t), 0);
        assert_string_equal(n, "127.0.0.1:5000/team/app");
        assert_string_equal(t, "1.0");
        free(n), free(t);
        assert_int_equal(store_ref_parse("127.0.0.1:5000/team/app", NULL, &n, &t), 0);
        assert_string_equal(n, "127.0.0.1:5000/team/app");
        assert_null(t);
        free(n);
        /* By digest: the tag sha256-HEX, whatever tag is beside it. */
        static const char hex[] = "d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c";
        char text[200];
        snprintf(text, sizeof(text), "127.0.0.1:5000/team/app:1@sha256:%s", hex);
        assert_int_equal(store_ref_parse(text, "latest", &n, &t), 0);
        assert_string_equal(n, "127.0.0.1:5000/team/app");
        assert_string_equal(t + 7, hex);
        assert_memory_equal(t, "sha256-", 7);
        free(n), free(t);
        static const char *const bad_pins[] = { "a@sha256:", "a@sha512:00", "a@sha256:D4E6FD67",
                                                "a@d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c",
                                                "@sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c" };
        for (size_t i = 0; i < ELEMENTSOF(bad_pins); i++)
                assert_int_equal(store_ref_parse(bad_pins[i], NULL, &n, &t), -ROOST_EUSAGE);
        assert_int_equal(store_ref_parse("docker.io/alpine:3.22", NULL, &n, &t), 0);
        assert_string_equal(n, "docker.io/library/alpine");
        assert_string_equal(t, "3.22");
        free(n), free(t);
        assert_int_equal(store_ref_parse("index.docker.io/team/app", "latest", &n, &t), 0);
        assert_string_equal(n, "docker.io/team/app");
        free(n), free(t);
        assert_true(store_ref_name_remote("127.0.0.1:5000/team/app"));
        assert_true(store_ref_name_remote("localhost/a"));
        assert_true(store_ref_name_remote("ghcr.io/o/r"));
        assert_false(store_ref_name_remote("alpine"));
        assert_false(store_ref_name_remote("team/app"));

        /* Stored, listed and removed under such a name; nothing leaves tags/. */
        store *s;
        char digest[STORE_SHA256_HEX + 1];
        assert_int_equal(store_open(root, 0, &s), 0);
        store_blob *b;
        if (store_blob_begin(s, payload_sha256, &b) == 0) {
                assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
                assert_int_equal(store_blob_commit(b), 0);
        }
        image_for(s, payload_sha256, digest);
        struct store_ref ref = make_ref(digest);
        ref.name = (char *)"127.0.0.1:5000/team/app";
        assert_int_equal(store_ref_write(s, &ref), 0);
        char path[512];
        snprintf(path, sizeof(path), "%s/tags/127.0.0.1:5000%%2Fteam%%2Fapp/3.20", root);
        assert_int_equal(access(path, F_OK), 0);
        struct store_ref *list;
        size_t k;
        assert_int_equal(store_ref_list(s, &list, &k, NULL), 0);
        assert_int_equal(k, 1);
        assert_string_equal(list[0].name, "127.0.0.1:5000/team/app");
        store_ref_list_free(list, k);
        assert_int_equal(store_ref_remove(s, "127.0.0.1:5000/team/app", "3.20", "x86_64"), 0);
        store_close(s);
}

/* An index lists the platforms present: a second architecture joins the
 * first, and removing one leaves the other. */
static void test_ref_platforms(void **state)
{
        store *s;
        char d1[STORE_SHA256_HEX + 1], d2[STORE_SHA256_HEX + 1];
        assert_int_equal(store_open(root, 0, &s), 0);
        store_blob *b;
        if (store_blob_begin(s, payload_sha256, &b) == 0) {
                assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE), 0);
                assert_int_equal(store_blob_commit(b), 0);
        }
        image_for(s, payload_sha256, d1);
        struct store_layer l = { .digest = payload_sha256, .diff_id = payload_sha256,
                                 .media_type = (char *)STORE_MEDIA_LAYER_TAR, .size = PAYLOAD_SIZE };
        struct store_image_config c = { .created = 1700000000 };
        assert_int_equal(store_image_put(s, "aarch64", &l, 1, &c, "3.20.3", d2), 0);
        assert_string_not_equal(d1, d2);
        struct store_ref ref = make_ref(d1);
        assert_int_equal(store_ref_write(s, &ref), 0);
        ref = make_ref(d2);
        ref.arch = (char *)"aarch64";
        assert_int_equal(store_ref_write(s, &ref), 0);
        struct store_ref got;
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "aarch64", &got), 0);
        assert_string_equal(got.digest, d2);
        store_ref_done(&got);
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "x86_64", &got), 0);
        assert_string_equal(got.digest, d1);
        store_ref_done(&got);
        assert_int_equal(store_ref_remove(s, "alpine", "3.20", "x86_64"), 0);
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "x86_64", &got), -ROOST_ENOTFOUND);
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "aarch64", &got), 0);
        store_ref_done(&got);
        assert_int_equal(store_ref_remove(s, "alpine", "3.20", "aarch64"), 0);
        assert_int_equal(store_ref_read(s, "alpine", "3.20", "aarch64", &got), -ROOST_ENOTFOUND);
        store_close(s);
}

static void test_ref_parse(void **state)
{
        char *n, *t;
        assert_int_equal(store_ref_parse("alpine:3.22", "latest-stable", &n, &t), 0);
        assert_string_equal(n, "alpine");
        assert_string_equal(t, "3.22");
        free(n), free(t);
        assert_int_equal(store_ref_parse("alpine", "latest-stable", &n, &t), 0);
        assert_string_equal(t, "latest-stable");
        free(n), free(t);
        /* Without a default, a bare name keeps no tag (store_ref_match). */
        assert_int_equal(store_ref_parse("alpine", NULL, &n, &t), 0);
        assert_string_equal(n, "alpine");
        assert_null(t);
        free(n);
        assert_int_equal(store_ref_parse("alpine:", NULL, &n, &t), -ROOST_EUSAGE);
        assert_int_equal(store_ref_parse("Alpine:3.22", "x", &n, &t), -ROOST_EUSAGE);
        assert_int_equal(store_ref_parse("alpine:", "x", &n, &t), -ROOST_EUSAGE);
}

static void test_ref_json_hostile(void **state)
{
        struct store_ref ref;
        char layer[STORE_SHA256_HEX + 1];
        static const char *const bad[] = {
                "",
                "{",
                "[]",
                "{\"schema\":1}",
                "{\"schema\":2,\"name\":\"alpine\",\"tag\":\"3\",\"arch\":\"x86_64\",\"version\":\"3\","
                "\"source\":\"s\",\"sha256\":\"00\",\"size\":1,\"created\":\"2024-01-01T00:00:00Z\"}",
                "{\"schema\":1,\"name\":\"../x\",\"tag\":\"3\",\"arch\":\"x86_64\",\"version\":\"3\","
                "\"source\":\"s\",\"sha256\":"
                "\"0000000000000000000000000000000000000000000000000000000000000000\","
                "\"size\":1,\"created\":\"2024-01-01T00:00:00Z\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(store_ref_v1_parse(bad[i], &ref, layer), -ROOST_EFORMAT);
}

/* Who a uid is, from /etc/passwd or getent (common/user.c), never NSS in
 * this process: root is in every /etc/passwd; a uid nobody has is -ENOENT
 * after asking getent. */
static void test_user_lookup(void **state)
{
        char *name, *home;
        assert_int_equal(user_lookup(0, &name, &home), 0);
        assert_string_equal(name, "root");
        assert_non_null(home);
        assert_true(home[0] == '/');
        free(name);
        free(home);
        assert_int_equal(user_lookup(0, NULL, &home), 0);
        assert_non_null(home);
        free(home);
        name = (char *)"x";
        assert_int_equal(user_lookup(3999999999u, &name, NULL), -ENOENT);
        assert_null(name);
}

/* A uid missing from /etc/passwd is asked of getent, which may know it
 * through NSS (here: systemd's module names root itself). Needs root to
 * hide /etc/passwd in a mount namespace of a child. */
static void test_user_lookup_getent(void **state)
{
        if (geteuid() != 0)
                skip();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char *name = NULL, *home = NULL;
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("/dev/null", "/etc/passwd", NULL, MS_BIND, NULL) < 0)
                        _exit(2);
                /* Without an NSS source that knows root, there is nothing to test. */
                if (system("getent passwd 0 >/dev/null") != 0)
                        _exit(3);
                int r = user_lookup(0, &name, &home);
                _exit(r == 0 && name && strcmp(name, "root") == 0 && home && home[0] == '/' ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 3)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child with its own mount namespace, /etc/passwd empty and
 * /usr/bin/getent replaced by SCRIPT: what user_lookup(0) makes of it.
 * Exit 0: CHECK holds for the home it returned; 1: it does not; 2: set-up
 * failed; 4: user_lookup failed with -ENOENT. A blocked SIGTERM, as launch
 * has it, must not reach getent. */
static int lookup_with_fake_getent(const char *script, const char *want_home)
{
        char path[] = "/tmp/roost-getent.XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, script, strlen(script)) != (ssize_t)strlen(script) || fchmod(fd, 0755) < 0)
                return 2;
        close(fd);
        pid_t pid = fork();
        if (pid == 0) {
                char *home = NULL;
                sigset_t set;
                sigemptyset(&set);
                sigaddset(&set, SIGTERM);
                sigprocmask(SIG_BLOCK, &set, NULL);
                alarm(10); /* a hang fails the test instead of the run */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("/dev/null", "/etc/passwd", NULL, MS_BIND, NULL) < 0 ||
                    mount(path, "/usr/bin/getent", NULL, MS_BIND, NULL) < 0)
                        _exit(2);
                int r = user_lookup(0, NULL, &home);
                if (r == -ENOENT)
                        _exit(4);
                _exit(r == 0 && home && strcmp(home, want_home) == 0 ? 0 : 1);
        }
        int status = -1;
        waitpid(pid, &status, 0);
        unlink(path);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* getent is a helper like any other: it must not inherit launch's blocked
 * signals, its whole output is read even when it is long, and its exit
 * status counts. */
static void test_user_lookup_getent_hostile(void **state)
{
        if (geteuid() != 0)
                skip();
        /* The blocked set, as the home directory. */
        assert_int_equal(lookup_with_fake_getent("#!/bin/sh\n"
                                                 "m=$(awk '/^SigBlk/ { print $2 }' /proc/self/status)\n"
                                                 "echo \"root:x:0:0::/$m:/bin/sh\"\n",
                                                 "/0000000000000000"),
                         0);
        /* 200 KB on one line: refused, not a hang on a full pipe. */
        assert_int_equal(lookup_with_fake_getent("#!/bin/sh\n"
                                                 "head -c 200000 /dev/zero | tr '\\0' a\n"
                                                 "echo ':x:0:0::/root:/bin/sh'\n",
                                                 "/root"),
                         4);
        /* A good line from a getent that then fails. */
        assert_int_equal(
                lookup_with_fake_getent("#!/bin/sh\necho 'root:x:0:0::/root:/bin/sh'\nexit 2\n", "/root"), 4);
        /* A name with a control character. */
        assert_int_equal(
                lookup_with_fake_getent("#!/bin/sh\nprintf 'ro\\033ot:x:0:0::/root:/bin/sh\\n'\n", "/root"),
                4);
}

static void test_default_root(void **state)
{
        char *p;
        setenv("ROOST_STORE", "/somewhere/else", 1);
        assert_int_equal(store_default_root(NULL, &p), 0);
        assert_string_equal(p, "/somewhere/else");
        free(p);
        /* --store wins over the environment. */
        assert_int_equal(store_default_root("/given", &p), 0);
        assert_string_equal(p, "/given");
        free(p);
        unsetenv("ROOST_STORE");
        if (geteuid() != 0) {
                setenv("XDG_DATA_HOME", "/xdg", 1);
                assert_int_equal(store_default_root(NULL, &p), 0);
                assert_string_equal(p, "/xdg/roost");
                free(p);
                unsetenv("XDG_DATA_HOME");
                setenv("HOME", "/home/u", 1);
                assert_int_equal(store_default_root(NULL, &p), 0);
                assert_string_equal(p, "/home/u/.local/share/roost");
                free(p);
        } else {
                assert_int_equal(store_default_root(NULL, &p), 0);
                assert_string_equal(p, "/var/lib/roost");
                free(p);
        }
}

static void test_private_permissions(void **state)
{
        store *s;
        assert_int_equal(store_open(root, 0, &s), 0);
        struct stat st;
        assert_int_equal(stat(root, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        store_close(s);
        assert_int_equal(store_open("/nonexistent-roost-root/x", STORE_NO_CREATE, &s), -ENOENT);
}

/* A store that a failed first command made holds nothing: closing it
 * removes it again, but never a store that holds something, one it did
 * not make, or one another command has open. */
static void test_empty_store_not_left(void **state)
{
        store *s, *other;
        store_blob *b;
        char p[512];
        assert_int_equal(store_open(root, 0, &s), 0);
        store_close(s);
        assert_false(path_exists(""));

        assert_int_equal(mkdir(root, 0700), 0); /* a folder given to be the store stays */
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        store_blob_abort(b, false);
        snprintf(p, sizeof(p), "%s/locks/tree-x", root); /* a lock file is nothing stored */
        close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        store_close(s);
        assert_true(path_exists(""));
        assert_false(path_exists("lock"));
        assert_false(path_exists("blobs"));
        assert_false(path_exists("locks"));

        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_open(root, 0, &other), 0);
        store_close(s); /* the other one is open: the store stays */
        assert_true(path_exists("lock"));
        store_close(other); /* and the other did not make it */
        assert_true(path_exists("lock"));
        rm_rf_at(AT_FDCWD, root);

        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_open(root, 0, &other), 0);
        assert_int_equal(store_unlock(other), 0); /* a container runs on, using tmp/ */
        store_close(s);
        assert_true(path_exists("tmp"));
        store_close(other);
        rm_rf_at(AT_FDCWD, root);
        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_unlock(s), 0); /* its own container is over when it closes */
        store_close(s);
        assert_false(path_exists(""));

        assert_int_equal(store_open(root, 0, &s), 0);
        assert_int_equal(store_blob_begin(s, payload_sha256, &b), 0);
        assert_int_equal(store_blob_write(b, payload, PAYLOAD_SIZE / 2), 0);
        store_blob_abort(b, true); /* bytes kept for a resume are something */
        store_close(s);
        assert_true(path_exists("partial/%s", payload_sha256));
        rm_rf_at(AT_FDCWD, root);

        assert_int_equal(store_open(root, 0, &s), 0);
        snprintf(p, sizeof(p), "%s/mine", root);
        assert_int_equal(mkdir(p, 0700), 0);
        store_close(s); /* nor is a store with a name it never makes removed */
        assert_true(path_exists("mine"));
        assert_true(path_exists("tags"));
}

int main(void)
{
        payload = malloc(PAYLOAD_SIZE);
        for (size_t i = 0; i < PAYLOAD_SIZE; i++)
                payload[i] = (unsigned char)(i * 2654435761u >> 13);
        sha256_hex(payload, PAYLOAD_SIZE, payload_sha256);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_blob_atomic_publish, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_wrong_bytes_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tree_atomic_publish, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sigkill_mid_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blob_publish_new, setup, teardown),
                cmocka_unit_test_setup_teardown(test_image_put_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_container_take_list, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_temporary_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_commit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ref_needs_blob, setup, teardown),
                cmocka_unit_test_setup_teardown(test_manifest_put, setup, teardown),
                cmocka_unit_test_setup_teardown(test_escaping_names_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ref_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ref_platforms, setup, teardown),
                cmocka_unit_test(test_ref_parse),
                cmocka_unit_test(test_version_is_release),
                cmocka_unit_test(test_ref_sort_newest),
                cmocka_unit_test_setup_teardown(test_ref_match, setup, teardown),
                cmocka_unit_test(test_ref_json_hostile),
                cmocka_unit_test(test_default_root),
                cmocka_unit_test(test_user_lookup),
                cmocka_unit_test(test_user_lookup_getent),
                cmocka_unit_test(test_user_lookup_getent_hostile),
                cmocka_unit_test_setup_teardown(test_private_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_store_not_left, setup, teardown),
        };
        return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
