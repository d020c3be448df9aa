/* commit_config_derive: --change read as a Dockerfile's instructions,
 * applied to the parent's config, the new layer and history added. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "commit/commit.h"

#define DIFF "1111111111111111111111111111111111111111111111111111111111111111"
static const char parent[] =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\","
        "\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"/bin/sh\"],\"Labels\":{\"keep\":\"me\"}},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
        "2222222222222222222222222222222222222222222222222222222222222222\"]},"
        "\"history\":[{\"created_by\":\"pull\"}]}";

static json_t *derive(char **changes, size_t n, const char *comment, int want)
{
        char *out = NULL;
        roost_error e = { "" };
        int r = commit_config_derive(parent, changes, n, comment, DIFF, 86400, &out, &e);
        assert_int_equal(r, want);
        if (r < 0) {
                assert_true(e.msg[0] != 0);
                return NULL;
        }
        json_t *o = json_loads(out, 0, NULL);
        assert_non_null(o);
        /* Sorted keys, no whitespace: the same commit is the same bytes. */
        char *again = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(again, out);
        free(again);
        free(out);
        return o;
}

static const char *at(json_t *o, const char *path)
{
        json_t *v = o;
        char buf[128], *save, *k;
        snprintf(buf, sizeof(buf), "%s", path);
        for (k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
                v = json_is_array(v) ? json_array_get(v, (size_t)atoi(k)) : json_object_get(v, k);
        return json_string_value(v);
}

static void test_no_changes(void **state)
{
        json_t *o = derive(NULL, 0, "why", 0);
        assert_string_equal(at(o, "rootfs.diff_ids.1"), "sha256:" DIFF);
        assert_string_equal(at(o, "rootfs.diff_ids.0"), "sha256:2222222222222222222222222222222222222222222222222222222222222222");
        assert_string_equal(at(o, "history.0.created_by"), "pull");
        assert_string_equal(at(o, "history.1.created_by"), "roost commit");
        assert_string_equal(at(o, "history.1.comment"), "why");
        assert_string_equal(at(o, "history.1.created"), "1970-01-02T00:00:00Z");
        assert_string_equal(at(o, "created"), "1970-01-02T00:00:00Z");
        assert_string_equal(at(o, "config.Cmd.0"), "/bin/sh");
        assert_string_equal(at(o, "config.Labels.keep"), "me");
        assert_string_equal(at(o, "architecture"), "amd64");
        json_decref(o);
}

static void test_changes(void **state)
{
        char *c[] = { (char *)"CMD [\"/bin/echo\", \"hi\"]", (char *)"env B=\"two words\" A=3",
                      (char *)"ENV C the rest of it", (char *)"WORKDIR /srv", (char *)"WORKDIR app",
                      (char *)"USER 1000:1000", (char *)"LABEL x=y 'z=w v'", (char *)"ENTRYPOINT run.sh --now" };
        json_t *o = derive(c, 8, NULL, 0);
        /* CMD came first, so ENTRYPOINT keeps it (docker's rule). */
        assert_string_equal(at(o, "config.Cmd.1"), "hi");
        assert_string_equal(at(o, "config.Entrypoint.0"), "/bin/sh");
        assert_string_equal(at(o, "config.Entrypoint.2"), "run.sh --now");
        assert_string_equal(at(o, "config.Env.0"), "PATH=/bin");
        assert_string_equal(at(o, "config.Env.1"), "A=3");
        assert_string_equal(at(o, "config.Env.2"), "B=two words");
        assert_string_equal(at(o, "config.Env.3"), "C=the rest of it");
        assert_string_equal(at(o, "config.WorkingDir"), "/srv/app");
        assert_string_equal(at(o, "config.User"), "1000:1000");
        assert_string_equal(at(o, "config.Labels.x"), "y");
        assert_string_equal(at(o, "config.Labels.z"), "w v");
        assert_string_equal(at(o, "config.Labels.keep"), "me");
        assert_null(json_object_get(o, "comment"));
        json_decref(o);
}

static void test_entrypoint_resets_cmd(void **state)
{
        char *c[] = { (char *)"ENTRYPOINT [\"/bin/cat\"]" };
        json_t *o = derive(c, 1, NULL, 0);
        assert_string_equal(at(o, "config.Entrypoint.0"), "/bin/cat");
        assert_null(json_object_get(json_object_get(o, "config"), "Cmd"));
        json_decref(o);
}

static void test_bad_changes(void **state)
{
        char *bad[][1] = { { (char *)"RUN apk add x" }, { (char *)"CMD" }, { (char *)"ENV =x" },
                           { (char *)"LABEL novalue" }, { (char *)"ENV A=\"unclosed" }, { (char *)"USER a b" },
                           { (char *)"" } };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                derive(bad[i], 1, NULL, -ROOST_EUSAGE);
        char *out = NULL;
        roost_error e = { "" };
        assert_int_equal(commit_config_derive("[1]", NULL, 0, NULL, DIFF, 1, &out, &e), -ROOST_EFORMAT);
        assert_int_equal(commit_config_derive(parent, NULL, 0, NULL, "nope", 1, &out, &e), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_changes),
                cmocka_unit_test(test_changes),
                cmocka_unit_test(test_entrypoint_resets_cmd),
                cmocka_unit_test(test_bad_changes),
        };
        return cmocka_run_group_tests_name("commit", tests, NULL, NULL);
}
