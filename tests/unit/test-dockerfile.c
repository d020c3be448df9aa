/* The Dockerfile subset and .dockerignore (commit/dockerfile.c): pure
 * functions of their text, also run under the sanitizers. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "commit/commit.h"

static void test_every_instruction(void **state)
{
        (void)state;
        static const char text[] = "# syntax=docker/dockerfile:1\n"
                                   "ARG BASE=alpine:3.20\n"
                                   "\n"
                                   "from $BASE\n"
                                   "RUN apk add \\\n"
                                   "    make \\\n"
                                   "# a comment amid a continuation\n"
                                   "    gcc\n"
                                   "RUN [\"/bin/echo\", \"a b\"]\n"
                                   "COPY --chown=app:app src /src/\r\n"
                                   "COPY [\"a file\", \"/dst\"]\n"
                                   "ENV A=1 B=\"two words\"\n"
                                   "ARG V\n"
                                   "WORKDIR /src\n"
                                   "USER app\n"
                                   "CMD make\n"
                                   "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
                                   "LABEL k=v\n"
                                   "   # indented comment\n"
                                   "RUN echo last \\";
        struct dockerfile df;
        roost_error e = { "" };
        assert_int_equal(dockerfile_parse(text, &df, &e), 0);
        assert_int_equal(df.n, 14);
        assert_int_equal(df.steps[0].kind, DF_ARG);
        assert_int_equal(df.steps[0].line, 2);
        assert_int_equal(df.steps[1].kind, DF_FROM);
        assert_string_equal(df.steps[1].text, "FROM $BASE");
        assert_int_equal(df.steps[2].kind, DF_RUN);
        assert_int_equal(df.steps[2].line, 5);
        assert_string_equal(df.steps[2].args, "apk add     make     gcc");
        assert_null(df.steps[2].argv);
        assert_non_null(df.steps[3].argv);
        assert_string_equal(df.steps[3].argv[1], "a b");
        assert_null(df.steps[3].argv[2]);
        assert_int_equal(df.steps[4].kind, DF_COPY);
        assert_int_equal(df.steps[4].line, 10);
        assert_string_equal(df.steps[4].chown, "app:app");
        assert_string_equal(df.steps[4].argv[0], "src");
        assert_string_equal(df.steps[4].argv[1], "/src/");
        assert_string_equal(df.steps[4].text, "COPY --chown=app:app src /src/");
        assert_string_equal(df.steps[5].argv[0], "a file");
        assert_int_equal(df.steps[7].kind, DF_ARG);
        assert_int_equal(df.steps[12].kind, DF_LABEL);
        assert_int_equal(df.steps[13].line, 20);
        assert_string_equal(df.steps[13].args, "echo last");
        dockerfile_done(&df);
}

static void refused(const char *text, const char *want)
{
        struct dockerfile df;
        roost_error e = { "" };
        assert_int_equal(dockerfile_parse(text, &df, &e), -ROOST_EUSAGE);
        if (!strstr(e.msg, want))
                fail_msg("'%s' does not say '%s'", e.msg, want);
}

static void test_refused(void **state)
{
        (void)state;
        refused("FROM a\nRUN true\nADD x /x\n", "line 3: ADD is not supported");
        refused("FROM a\n\n  EXPOSE 80\n", "line 3: EXPOSE");
        refused("FROM a\nFROB x\n", "line 2: unknown instruction FROB");
        refused("FROM a\nRUN \\\n  true\nHEALTHCHECK NONE\n", "line 4: HEALTHCHECK");
        refused("FROM a\nCOPY --from=b /x /y\n", "line 2: COPY --from=b is not supported");
        refused("FROM a\nRUN --mount=type=cache true\n", "line 2: RUN --mount");
        refused("FROM a\nFROM b\n", "line 2: a second FROM");
        refused("FROM a AS b\n", "line 1: FROM IMAGE AS NAME");
        refused("RUN true\n", "line 1: RUN before FROM");
        refused("# nothing\n", "no FROM");
        refused("FROM a\nCOPY onlyone\n", "line 2: COPY needs a source and a destination");
        refused("FROM a\nRUN\n", "line 2: RUN needs an argument");
        refused("FROM a\nVOLUME /data\n", "line 2: VOLUME");
}

static void expand(const char *in, const char *want)
{
        char a1[] = "A=1", b[] = "B=two words", a3[] = "A=3", empty[] = "EMPTY=";
        char *vars[] = { a1, b, a3, empty };
        char *out = NULL;
        assert_int_equal(dockerfile_expand(in, vars, 4, &out), 0);
        assert_string_equal(out, want);
        free(out);
}

static void test_expand(void **state)
{
        (void)state;
        expand("$A", "3");
        expand("x${A}y", "x3y");
        expand("$B/$NONE.", "two words/.");
        expand("${NONE:-def}", "def");
        expand("${EMPTY:-def}", "def");
        expand("${A:-def}", "3");
        expand("${A:+set}${NONE:+set}", "set");
        expand("'$A' \"$A\"", "'$A' \"3\"");
        expand("\\$A $", "$A $");
        expand("a\\ b", "a\\ b");
        char *out = NULL;
        assert_int_equal(dockerfile_expand("${A", NULL, 0, &out), -EINVAL);
        assert_int_equal(dockerfile_expand("${}", NULL, 0, &out), -EINVAL);
        assert_int_equal(dockerfile_expand("${A?x}", NULL, 0, &out), -EINVAL);
}

static void test_dockerignore(void **state)
{
        (void)state;
        struct dockerignore di;
        assert_int_equal(dockerignore_parse("# comment\n\n*.log\n/build/\n./tmp\n**/secret*\n!keep.log\n"
                                            "docs/**/*.md\n",
                                            &di),
                         0);
        assert_int_equal(di.n, 6);
        assert_true(di.any_keep);
        assert_true(dockerignore_excluded(&di, "x.log"));
        assert_false(dockerignore_excluded(&di, "keep.log"));
        assert_false(dockerignore_excluded(&di, "sub/x.log")); /* '*' stays in its directory */
        assert_true(dockerignore_excluded(&di, "build"));
        assert_true(dockerignore_excluded(&di, "build/a/b.o")); /* what an excluded directory holds */
        assert_true(dockerignore_excluded(&di, "tmp"));
        assert_true(dockerignore_excluded(&di, "secret.txt"));
        assert_true(dockerignore_excluded(&di, "a/b/secrets"));
        assert_true(dockerignore_excluded(&di, "docs/README.md"));
        assert_true(dockerignore_excluded(&di, "docs/a/b/c.md"));
        assert_false(dockerignore_excluded(&di, "docs/a/b/c.txt"));
        assert_false(dockerignore_excluded(&di, "src/main.c"));
        dockerignore_done(&di);
        assert_int_equal(dockerignore_parse("", &di), 0);
        assert_false(dockerignore_excluded(&di, "anything"));
        dockerignore_done(&di);
}

/* Many "**" against a deep path: matched in time proportional to their
 * product, not exponential in the number of "**" (a line of ten took
 * seconds per file, forty would never end). */
static void test_dockerignore_globstars(void **state)
{
        (void)state;
        char pat[512] = "", path[512] = "", deep[600];
        for (int i = 0; i < 40; i++)
                strcat(pat, "**/a/");
        strcat(pat, "b\n**/**/c/**\n");
        for (int i = 0; i < 100; i++)
                strcat(path, i ? "/a" : "a");
        struct dockerignore di;
        assert_int_equal(dockerignore_parse(pat, &di), 0);
        time_t start = time(NULL);
        assert_false(dockerignore_excluded(&di, path));
        snprintf(deep, sizeof(deep), "%s/b", path);
        assert_true(dockerignore_excluded(&di, deep));
        assert_true(time(NULL) - start < 5);
        /* A trailing "**" takes one component at least; consecutive ones
         * are one. */
        assert_false(dockerignore_excluded(&di, "c"));
        assert_true(dockerignore_excluded(&di, "c/x"));
        assert_true(dockerignore_excluded(&di, "x/y/c/z"));
        dockerignore_done(&di);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_instruction),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_expand),
                cmocka_unit_test(test_dockerignore),
                cmocka_unit_test(test_dockerignore_globstars),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
