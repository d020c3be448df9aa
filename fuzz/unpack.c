/* Drives unpack's writer (unpack/read.c, writer.c, path.c, layer.c, dirs.c)
 * with an archive in memory, written for real into the scratch tmpfs:
 * symlinks and hardlinks are where an extraction escapes, and only a real
 * file system models them. Each input is unpacked three ways: as a plain
 * tarball keeping device nodes and set-id files (the store's trees), as a
 * layer for overlayfs (whiteouts as 0/0 nodes, opaque directories), and
 * twice over itself as two layers applied (whiteouts remove what the layer
 * below made).
 *
 * Beyond the sanitizers, the oracle is containment: beside each target
 * sits a directory holding a canary file, and after every extraction that
 * directory must hold only that file, unchanged and with one link, and
 * the scratch tmpfs nothing else new. */
#include "config.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz/scratch.h"
#include "unpack/unpack-private.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

#define CANARY "canary\n"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_scratch();
        return 0;
}

static void escaped(const char *what, const char *name)
{
        fprintf(stderr, "fuzz: unpack wrote outside its target: %s %s\n", what, name);
        abort();
}

/* The scratch directory holds "canary" (with its file "keep", untouched)
 * and "root", and nothing else. The name is tests/unpack-hostile.py's:
 * its archives aim at a sibling "canary", and at /dev/shm/canary, the
 * absolute path it was given when the corpus was written. */
static void check_contained(void)
{
        int fd = openat(fuzz_scratch(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        if (!d)
                abort();
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "canary") &&
                    strcmp(de->d_name, "root"))
                        escaped("new entry", de->d_name);
        closedir(d);
        if (!(d = fdopendir(openat(fuzz_scratch(), "canary", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))))
                escaped("replaced", "canary");
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "keep"))
                        escaped("new entry in canary/:", de->d_name);
        closedir(d);
        struct stat st;
        char buf[sizeof(CANARY)] = "";
        fd = openat(fuzz_scratch(), "canary/keep", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                escaped("replaced", "canary/keep");
        if (st.st_nlink != 1 || (st.st_mode & 07777) != 0644 || st.st_uid != geteuid() ||
            read(fd, buf, sizeof(buf)) != sizeof(CANARY) - 1 || memcmp(buf, CANARY, sizeof(CANARY) - 1))
                escaped("changed (links, mode, owner or content)", "canary/keep");
        close(fd);
}

static int fresh_root(void)
{
        rm_rf_at(fuzz_scratch(), "root");
        if (mkdirat(fuzz_scratch(), "root", 0700) < 0)
                abort();
        int fd = openat(fuzz_scratch(), "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        return fd;
}

/* A second open file of the memfd FD, with an offset of its own. */
static int reopen(int fd)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int r = open(path, O_RDONLY | O_CLOEXEC);
        if (r < 0)
                abort();
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        /* Limits that stop a bomb long before the tmpfs's 512 MiB. */
        struct unpack_options o = { .max_bytes = 64 << 20, .max_entries = 20000, .keep_devices = true,
                                    .keep_setid = true };
        roost_error e;
        fuzz_scratch_empty();
        if (mkdirat(fuzz_scratch(), "canary", 0755) < 0) {
                perror("fuzz: making canary/");
                abort();
        }
        fuzz_write("canary/keep", CANARY, sizeof(CANARY) - 1);
        if (fchmodat(fuzz_scratch(), "canary/keep", 0644, 0) < 0)
                abort();

        int in = fuzz_memfd(data, n), root = fresh_root();
        (void)unpack_into(in, "input", root, &o, &e);
        close(root);
        check_contained();

        o.whiteouts = UNPACK_WHITEOUT_OVERLAY;
        root = fresh_root();
        lseek(in, 0, SEEK_SET);
        (void)unpack_into(in, "layer", root, &o, &e);
        close(root);
        check_contained();

        int fds[2] = { in, reopen(in) };
        const char *names[2] = { "layer 1", "layer 2" };
        lseek(in, 0, SEEK_SET);
        root = fresh_root();
        (void)unpack_layers_into(fds, names, 2, root, &o, &e);
        close(root);
        check_contained();

        close(fds[1]);
        close(in);
        return 0;
}
