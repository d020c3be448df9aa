/* launch_command_resolve: docker's precedence between an image's config
 * (Env, Entrypoint, Cmd, WorkingDir, User) and launch's command line. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "common/error.h"
#include "launch/launch.h"
#include "launch/report.h"

/* String literals are const here (-Wwrite-strings); the lists never change. */
#define LIST(...) ((char *const *)(const char *const[]){ __VA_ARGS__, NULL })

/* ARGV joined by spaces, for one comparison. */
static const char *joined(char *const *argv)
{
        static char buf[512];
        size_t n = 0;
        buf[0] = 0;
        for (size_t i = 0; argv[i]; i++)
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", argv[i]);
        return buf;
}

/* KEY's value in ENV, NULL when unset; fails on a KEY set twice. */
static const char *env_get(char *const *env, const char *key)
{
        const char *found = NULL;
        size_t n = strlen(key);
        for (size_t i = 0; env[i]; i++)
                if (strncmp(env[i], key, n) == 0 && env[i][n] == '=') {
                        assert_null(found);
                        found = env[i] + n + 1;
                }
        return found;
}

static void resolve_ok(const struct launch_image_config *img, const struct launch_command_options *o,
                       struct launch_command *c)
{
        roost_error e = { "" };
        int r = launch_command_resolve(img, o, c, &e);
        if (r < 0)
                fail_msg("resolve: %d %s", r, e.msg);
}

static void test_cmd_default(void **state)
{
        /* What launch passes until the store gives an image's config: a
         * bare launch runs /bin/sh, as it always did. */
        const struct launch_image_config img = { .cmd = LIST("/bin/sh") };
        const struct launch_command_options o = { 0 };
        struct launch_command c;
        resolve_ok(&img, &o, &c);
        assert_string_equal(joined(c.argv), "/bin/sh");
        assert_null(c.cwd);
        assert_null(c.user);
        launch_command_done(&c);
}

static void test_args_replace_cmd(void **state)
{
        const struct launch_image_config img = { .cmd = LIST("nginx", "-g", "daemon off;") };
        const struct launch_command_options o = { .args = LIST("ls", "-l") };
        struct launch_command c;
        resolve_ok(&img, &o, &c);
        assert_string_equal(joined(c.argv), "ls -l");
        launch_command_done(&c);
}

static void test_entrypoint_then_cmd_or_args(void **state)
{
        const struct launch_image_config img = { .entrypoint = LIST("/entry", "-x"), .cmd = LIST("serve") };
        struct launch_command c;
        const struct launch_command_options none = { 0 };
        resolve_ok(&img, &none, &c);
        assert_string_equal(joined(c.argv), "/entry -x serve");
        launch_command_done(&c);
        const struct launch_command_options args = { .args = LIST("check", "--all") };
        resolve_ok(&img, &args, &c);
        assert_string_equal(joined(c.argv), "/entry -x check --all");
        launch_command_done(&c);
        /* An empty argument list is no argument. */
        const struct launch_command_options empty = { .args = (char *const[]){ NULL } };
        resolve_ok(&img, &empty, &c);
        assert_string_equal(joined(c.argv), "/entry -x serve");
        launch_command_done(&c);
}

static void test_entrypoint_option(void **state)
{
        const struct launch_image_config img = { .entrypoint = LIST("/entry"), .cmd = LIST("serve") };
        struct launch_command c;
        /* It replaces the image's, as one word, and drops Cmd. */
        const struct launch_command_options o = { .entrypoint = "/bin/echo hi" };
        resolve_ok(&img, &o, &c);
        assert_string_equal(c.argv[0], "/bin/echo hi");
        assert_null(c.argv[1]);
        launch_command_done(&c);
        const struct launch_command_options a = { .entrypoint = "/bin/echo", .args = LIST("a", "b") };
        resolve_ok(&img, &a, &c);
        assert_string_equal(joined(c.argv), "/bin/echo a b");
        launch_command_done(&c);
        /* '' clears it: the arguments alone. */
        const struct launch_command_options clear = { .entrypoint = "", .args = LIST("id", "-u") };
        resolve_ok(&img, &clear, &c);
        assert_string_equal(joined(c.argv), "id -u");
        launch_command_done(&c);
}

static void test_no_command(void **state)
{
        roost_error e = { "" };
        struct launch_command c = { 0 };
        const struct launch_image_config empty = { 0 };
        const struct launch_command_options none = { 0 };
        assert_int_equal(launch_command_resolve(&empty, &none, &c, &e), -ROOST_EUSAGE);
        assert_non_null(strstr(e.msg, "no command"));
        assert_null(c.argv);
        /* A NULL config is an empty one. */
        assert_int_equal(launch_command_resolve(NULL, &none, &c, &e), -ROOST_EUSAGE);
        /* --entrypoint '' clears the image's entrypoint and its Cmd. */
        const struct launch_image_config img = { .entrypoint = LIST("/entry"), .cmd = LIST("serve") };
        const struct launch_command_options clear = { .entrypoint = "" };
        e.msg[0] = 0;
        assert_int_equal(launch_command_resolve(&img, &clear, &c, &e), -ROOST_EUSAGE);
        assert_non_null(strstr(e.msg, "--entrypoint ''"));
        /* An empty command name. */
        const struct launch_command_options blank = { .args = LIST("") };
        assert_int_equal(launch_command_resolve(&empty, &blank, &c, &e), -ROOST_EUSAGE);
        assert_string_equal(e.msg, "the command is empty");
}

static void test_env_precedence(void **state)
{
        const struct launch_image_config img = {
                .env = LIST("PATH=/opt/bin", "A=image", "B=image", "HOSTNAME=img", "container=img"),
                .cmd = LIST("sh"),
        };
        const struct launch_command_options o = {
                .env = LIST("B=file", "B=option", "C=option"),
                .hostname = "box",
                .term = "xterm",
        };
        struct launch_command c;
        resolve_ok(&img, &o, &c);
        /* The image's PATH is kept: launch's only fills a missing one. */
        assert_string_equal(env_get(c.env, "PATH"), "/opt/bin");
        assert_string_equal(env_get(c.env, "A"), "image");
        assert_string_equal(env_get(c.env, "B"), "option");
        assert_string_equal(env_get(c.env, "C"), "option");
        /* launch's defaults go over the image's Env. */
        assert_string_equal(env_get(c.env, "HOSTNAME"), "box");
        assert_string_equal(env_get(c.env, "container"), "roost");
        assert_string_equal(env_get(c.env, "TERM"), "xterm");
        assert_int_equal(c.n_env, 7);
        assert_null(c.env[c.n_env]);
        launch_command_done(&c);
}

static void test_env_defaults(void **state)
{
        const struct launch_image_config img = { .cmd = LIST("sh") };
        /* -e goes over launch's defaults too, as in docker. */
        const struct launch_command_options o = { .env = LIST("HOSTNAME=mine"), .hostname = "box" };
        struct launch_command c;
        resolve_ok(&img, &o, &c);
        assert_string_equal(env_get(c.env, "PATH"), LAUNCH_DEFAULT_PATH);
        assert_string_equal(env_get(c.env, "HOSTNAME"), "mine");
        assert_null(env_get(c.env, "TERM")); /* no -t */
        launch_command_done(&c);
        const struct launch_image_config bad = { .env = LIST("NOVALUE"), .cmd = LIST("sh") };
        roost_error e = { "" };
        assert_int_equal(launch_command_resolve(&bad, &o, &c, &e), -ROOST_EUSAGE);
        assert_non_null(strstr(e.msg, "NOVALUE"));
}

static void test_workdir_and_user(void **state)
{
        const struct launch_image_config img = { .cmd = LIST("sh"), .workdir = "/srv", .user = "nginx:www" };
        struct launch_command c;
        const struct launch_command_options none = { 0 };
        resolve_ok(&img, &none, &c);
        assert_string_equal(c.cwd, "/srv");
        assert_string_equal(c.user, "nginx:www");
        launch_command_done(&c);
        const struct launch_command_options o = { .workdir = "/tmp", .user = "0" };
        resolve_ok(&img, &o, &c);
        assert_string_equal(c.cwd, "/tmp");
        assert_string_equal(c.user, "0");
        launch_command_done(&c);
        /* "" in the image is no value. */
        const struct launch_image_config blank = { .cmd = LIST("sh"), .workdir = "", .user = "" };
        resolve_ok(&blank, &none, &c);
        assert_null(c.cwd);
        assert_null(c.user);
        launch_command_done(&c);
        const struct launch_image_config rel = { .cmd = LIST("sh"), .workdir = "srv" };
        roost_error e = { "" };
        assert_int_equal(launch_command_resolve(&rel, &none, &c, &e), -ROOST_EUSAGE);
        assert_non_null(strstr(e.msg, "not absolute"));
        /* -w wins over a relative WorkingDir, which then does not matter. */
        resolve_ok(&rel, &o, &c);
        assert_string_equal(c.cwd, "/tmp");
        launch_command_done(&c);
}

static void test_env_set(void **state)
{
        char **env = NULL;
        size_t n = 0;
        assert_int_equal(launch_env_set(&env, &n, "A=1"), 0);
        assert_int_equal(launch_env_set(&env, &n, "AB=2"), 0);
        assert_int_equal(launch_env_set(&env, &n, "A=3"), 0);
        assert_int_equal(n, 2);
        assert_string_equal(env[0], "A=3");
        assert_string_equal(env[1], "AB=2");
        assert_null(env[2]);
        for (size_t i = 0; i < n; i++)
                free(env[i]);
        free(env);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cmd_default),
                cmocka_unit_test(test_args_replace_cmd),
                cmocka_unit_test(test_entrypoint_then_cmd_or_args),
                cmocka_unit_test(test_entrypoint_option),
                cmocka_unit_test(test_no_command),
                cmocka_unit_test(test_env_precedence),
                cmocka_unit_test(test_env_defaults),
                cmocka_unit_test(test_workdir_and_user),
                cmocka_unit_test(test_env_set),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
