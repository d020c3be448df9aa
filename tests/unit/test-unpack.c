/* Entry names: what the writer accepts, and how it splits them. */
#include "config.h"
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "common/error.h"
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
                { "/", "absolute name" },     { "..", "'..' component" },
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_ok),
                cmocka_unit_test(test_split_refused),
                cmocka_unit_test(test_deferred_dirs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
