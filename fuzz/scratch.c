/* The fuzz targets' scratch file system (fuzz/scratch.h). A tmpfs mounted
 * over /dev/shm in a mount namespace of the fuzzer's own: the host sees
 * none of it, it goes when the process does (a crash included, which
 * libFuzzer ends with _Exit, running no cleanup), and the files the
 * targets write cost no disk. Mounting over /dev/shm rather than a
 * directory of /tmp leaves nothing behind either: libFuzzer's own
 * temporaries (-merge's control file) stay in /tmp, shared with its
 * children. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/util.h"
#include "fuzz/scratch.h"

#define SCRATCH "/dev/shm"

static int scratch_fd = -1;
static char scratch_path[64] = SCRATCH;

static void die(const char *what)
{
        fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
        abort();
}

static void write_proc(const char *file, const char *text)
{
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                die(file);
        close(fd);
}

int fuzz_scratch(void)
{
        if (scratch_fd >= 0)
                return scratch_fd;
        /* Root (CI, this machine) needs only the mount namespace; anyone
         * else becomes root of a user namespace first. */
        if (unshare(CLONE_NEWNS) < 0) {
                uid_t uid = geteuid();
                gid_t gid = getegid();
                char map[64];
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                        die("unshare (a private mount namespace for the scratch tmpfs)");
                write_proc("/proc/self/setgroups", "deny");
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
                write_proc("/proc/self/uid_map", map);
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
                write_proc("/proc/self/gid_map", map);
        }
        /* Nothing mounted here may propagate back to the host's namespace. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                die("making / private");
        /* nodev: the device nodes unpack makes can be made, never opened;
         * the size caps what a decompression bomb can take. */
        if (mount("roost-fuzz", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=512m") < 0)
                die("mounting the scratch tmpfs on " SCRATCH);
        scratch_fd = open(SCRATCH, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (scratch_fd < 0)
                die("opening " SCRATCH);
        return scratch_fd;
}

const char *fuzz_scratch_path(void)
{
        fuzz_scratch();
        return scratch_path;
}

/* A file of its own each time (a dup would share the offset where the
 * last readdir stopped). */
void fuzz_scratch_empty(void)
{
        int fd = openat(fuzz_scratch(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        struct dirent *de;
        if (!d)
                die("reading the scratch directory");
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && rm_rf_at(scratch_fd, de->d_name) < 0)
                        die("emptying the scratch directory");
        closedir(d);
}

void fuzz_write(const char *name, const void *data, size_t n)
{
        int fd = openat(fuzz_scratch(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write_all(fd, data, n) < 0)
                die(name);
        close(fd);
}

int fuzz_memfd(const void *data, size_t n)
{
        int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
        if (fd < 0 || write_all(fd, data, n) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                die("memfd");
        return fd;
}

char *fuzz_strndup(const uint8_t *data, size_t n)
{
        char *s = malloc(n + 1);
        if (!s)
                abort();
        memcpy(s, data, n);
        s[n] = 0;
        return s;
}
