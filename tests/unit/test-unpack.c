/* Entry names: what the writer accepts, and how it splits them; what a
 * tree gets of an archive's privileged files. */
#include "config.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/error.h"
#include "common/util.h"
#include "unpack/unpack-private.h"

static int split(const char *name, const char **parts, size_t max, char *buf, const char **why)
{
        strcpy(buf, name);
        *why = NULL;
        return unpack_path_split(buf, parts, max, why);
}

static void test_split_ok(void **state)
{
        char buf[PATH_MAX + 8];
        const char *parts[16], *why;
        assert_int_equal(split("./bin/busybox", parts, 16, buf, &why), 2);
        assert_string_equal(parts[0], "bin");
        assert_string_equal(parts[1], "busybox");
        assert_int_equal(split("a//b/./c/", parts, 16, buf, &why), 3);
        assert_string_equal(parts[2], "c");
        assert_int_equal(split("./", parts, 16, buf, &why), 0);
        assert_int_equal(split(".", parts, 16, buf, &why), 0);
        assert_int_equal(split("/", parts, 16, buf, &why), 0); /* umoci names the root so */
        assert_int_equal(split("//", parts, 16, buf, &why), 0);
        assert_int_equal(split("...", parts, 16, buf, &why), 1); /* a legal name */
        assert_string_equal(parts[0], "...");
        assert_int_equal(split("..a/b..", parts, 16, buf, &why), 2);
}

static void test_split_refused(void **state)
{
        char buf[PATH_MAX + 8];
        const char *parts[4], *why;
        static const struct {
                const char *name, *why;
        } bad[] = {
                { "", "empty name" },         { "/etc/passwd", "absolute name" },
                { "/.", "absolute name" },    { "..", "'..' component" },
                { "../x", "'..' component" }, { "a/../../x", "'..' component" },
                { "a/..", "'..' component" }, { "./a/b/c/d/e", "nested too deep" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(split(bad[i].name, parts, 4, buf, &why), -ROOST_EUNSAFE);
                assert_string_equal(why, bad[i].why);
        }
        char longname[PATH_MAX + 2];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = 0;
        for (size_t i = 100; i < sizeof(longname) - 1; i += 100)
                longname[i] = '/';
        assert_int_equal(split(longname, parts, 4, buf, &why), -ROOST_EUNSAFE);
        assert_string_equal(why, "name longer than PATH_MAX");
        char comp[NAME_MAX + 3];
        memset(comp, 'b', NAME_MAX + 1);
        comp[NAME_MAX + 1] = 0;
        assert_int_equal(split(comp, parts, 4, buf, &why), -ROOST_EUNSAFE);
        assert_string_equal(why, "component longer than NAME_MAX");
}

/* One record per directory, however often an archive names it, the last
 * entry's metadata winning; then deepest first. */
static void test_deferred_dirs(void **state)
{
        struct deferred_dirs d = { 0 };
        const char *ab[] = { "a", "b" }, *a[] = { "a" }, *c[] = { "c" };
        struct timespec t[2] = { { 1, 0 }, { 1, 0 } };
        for (int i = 0; i < 100000; i++) {
                t[1].tv_sec = i;
                assert_int_equal(deferred_put(&d, a, 1, (mode_t)(i & 0777), t), 0);
        }
        assert_int_equal(deferred_put(&d, ab, 2, 0700, t), 0);
        assert_int_equal(deferred_put(&d, NULL, 0, 0755, t), 0); /* the root */
        for (int i = 0; i < 1000; i++) {
                char name[16];
                snprintf(name, sizeof(name), "d%d", i);
                const char *p[] = { name };
                assert_int_equal(deferred_put(&d, p, 1, 0755, t), 0);
        }
        assert_int_equal(deferred_put(&d, c, 1, 0500, t), 0);
        assert_int_equal(d.n, 1004);
        deferred_order(&d);
        assert_string_equal(d.v[0].path, "a/b");
        assert_string_equal(d.v[d.n - 1].path, "");
        for (size_t i = 0; i < d.n; i++)
                if (strcmp(d.v[i].path, "a") == 0) {
                        assert_int_equal(d.v[i].mode, 99999 & 0777);
                        assert_int_equal(d.v[i].times[1].tv_sec, 99999);
                }
        deferred_free(&d);
        assert_int_equal(d.n, 0);
}

/* A pax archive in memory: a setuid-root file carrying overlay attributes,
 * and /dev/null's node. */
static int privileged_archive(void)
{
        int fd = memfd_create("archive", MFD_CLOEXEC);
        assert_true(fd >= 0);
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        struct archive_entry *ent = archive_entry_new();
        archive_entry_set_pathname(ent, "suid");
        archive_entry_set_filetype(ent, AE_IFREG);
        archive_entry_set_perm(ent, 04755);
        archive_entry_set_size(ent, 1);
        archive_entry_xattr_add_entry(ent, "trusted.overlay.opaque", "y", 1);
        archive_entry_xattr_add_entry(ent, "user.overlay.opaque", "y", 1);
        assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
        assert_int_equal(archive_write_data(a, "x", 1), 1);
        archive_entry_clear(ent);
        archive_entry_set_pathname(ent, "null");
        archive_entry_set_filetype(ent, AE_IFCHR);
        archive_entry_set_perm(ent, 0666);
        archive_entry_set_rdevmajor(ent, 1);
        archive_entry_set_rdevminor(ent, 3);
        assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
        archive_entry_free(ent);
        assert_int_equal(archive_write_free(a), ARCHIVE_OK);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* The library's own default (no options, as a caller of unpack_into
 * that knows nothing of them) keeps no privileged file; the store's
 * UNPACK_KEEP_ALL keeps them; overlay attributes come through neither. */
static void test_privileged_files(void **state)
{
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/test-unpack.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        roost_error e = { "" };
        struct stat st;
        char value[8];
        for (int keep = 0; keep <= 1; keep++) {
                const char *name = keep ? "all" : "none";
                assert_int_equal(mkdirat(dfd, name, 0700), 0);
                int rootfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int fd = privileged_archive();
                const char *label = "memory";
                int r = keep ? unpack_tree(&fd, &label, 1, rootfd, NULL, UNPACK_KEEP_ALL, (mode_t)-1, &e)
                             : unpack_into(fd, "memory", rootfd, NULL, &e);
                assert_int_equal(r, 0);
                assert_int_equal(fstatat(rootfd, "suid", &st, 0), 0);
                assert_int_equal(st.st_mode & 07777, keep ? 04755 : 0755);
                if (!keep)
                        assert_int_equal(fstatat(rootfd, "null", &st, 0) < 0 ? errno : 0, ENOENT);
                else if (geteuid() == 0)
                        assert_true(fstatat(rootfd, "null", &st, 0) == 0 && S_ISCHR(st.st_mode));
                int ffd = openat(rootfd, "suid", O_RDONLY | O_CLOEXEC);
                assert_true(ffd >= 0);
                assert_true(fgetxattr(ffd, "user.overlay.opaque", value, sizeof(value)) < 0);
                assert_true(fgetxattr(ffd, "trusted.overlay.opaque", value, sizeof(value)) < 0);
                close(ffd);
                close(fd);
                close(rootfd);
        }
        close(dfd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

/* A tar in memory of NAMES: "d/" a directory, anything else an empty
 * file. */
static int layer_archive(const char *const *names)
{
        int fd = memfd_create("layer", MFD_CLOEXEC);
        assert_true(fd >= 0);
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
        struct archive_entry *ent = archive_entry_new();
        for (; *names; names++) {
                archive_entry_clear(ent);
                archive_entry_set_pathname(ent, *names);
                bool dir = (*names)[strlen(*names) - 1] == '/';
                archive_entry_set_filetype(ent, dir ? AE_IFDIR : AE_IFREG);
                archive_entry_set_perm(ent, dir ? 0755 : 0644);
                archive_entry_set_size(ent, 0);
                assert_int_equal(archive_write_header(a, ent), ARCHIVE_OK);
        }
        archive_entry_free(ent);
        assert_int_equal(archive_write_free(a), ARCHIVE_OK);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* A whiteout never removes a mount point, nor anything on it: whether it
 * names the mount, a directory holding one, or the opaque root over one;
 * whether the mount is another file system or a bind mount of the same. */
static void test_whiteout_mount_point(void **state)
{
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                skip();
                return;
        }
        const char *tmp = getenv("TMPDIR");
        char dir[PATH_MAX], path[PATH_MAX + 64];
        snprintf(dir, sizeof(dir), "%s/test-unpack.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        int rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(rootfd >= 0);
        assert_int_equal(mkdirat(rootfd, "m", 0755), 0);
        assert_int_equal(mkdirat(rootfd, "d", 0755), 0);
        assert_int_equal(mkdirat(rootfd, "d/b", 0755), 0);
        snprintf(path, sizeof(path), "%s/m", dir);
        assert_int_equal(mount("test-unpack", path, "tmpfs", 0, "size=1m"), 0);
        snprintf(path, sizeof(path), "%s/m/precious", dir);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        /* The bind mount's source is outside the tree: what is on it must
         * stay whatever the tree's own directories become. */
        char src[PATH_MAX + 32];
        snprintf(src, sizeof(src), "%s.src", dir);
        assert_int_equal(mkdir(src, 0755), 0);
        snprintf(path, sizeof(path), "%s/d/b", dir);
        assert_int_equal(mount(src, path, NULL, MS_BIND, NULL), 0);
        snprintf(path, sizeof(path), "%s/kept", src);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        static const char *const wh_mount[] = { ".wh.m", NULL }, *const wh_parent[] = { ".wh.d", NULL },
                                 *const wh_bind[] = { "d/.wh.b", NULL }, *const opq_root[] = { ".wh..wh..opq", NULL };
        const char *const *cases[] = { wh_mount, wh_parent, wh_bind, opq_root };
        struct unpack_options o = { .whiteouts = UNPACK_WHITEOUT_APPLY };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                roost_error e = { "" };
                int fd = layer_archive(cases[i]);
                assert_int_equal(unpack_into(fd, "layer", rootfd, &o, &e), -ROOST_EUNSAFE);
                assert_non_null(strstr(e.msg, "a whiteout would remove a mount point"));
                close(fd);
                struct stat st;
                assert_int_equal(fstatat(rootfd, "m/precious", &st, 0), 0);
                assert_int_equal(fstatat(rootfd, "d/b/kept", &st, 0), 0);
        }
        snprintf(path, sizeof(path), "%s/m", dir);
        assert_int_equal(umount(path), 0);
        snprintf(path, sizeof(path), "%s/d/b", dir);
        assert_int_equal(umount(path), 0);
        /* Unmounted, the same whiteouts apply. */
        roost_error e = { "" };
        int fd = layer_archive(opq_root);
        assert_int_equal(unpack_into(fd, "layer", rootfd, &o, &e), 0);
        close(fd);
        struct stat st;
        assert_int_equal(fstatat(rootfd, "m", &st, 0) < 0 ? errno : 0, ENOENT);
        close(rootfd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, src), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_ok),
                cmocka_unit_test(test_split_refused),
                cmocka_unit_test(test_deferred_dirs),
                cmocka_unit_test(test_privileged_files),
                cmocka_unit_test(test_whiteout_mount_point),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
