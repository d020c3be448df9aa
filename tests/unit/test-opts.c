/* common/opts: the option parser every tool uses. Each test feeds one
 * command line and checks the options seen, their arguments and the
 * operands left, in order. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "common/opts.h"

enum { O_STORE = 256, O_NAME, O_NET, O_JSON };

static const struct opt table[] = {
        { 'q', 'q', "quiet", NULL, "quiet" },    { 'i', 'i', "interactive", NULL, "stdin" },
        { 't', 't', "tty", NULL, "a terminal" }, { 'e', 'e', "env", "KEY=VALUE", "a variable" },
        { O_NAME, 0, "name", "NAME", "a name" }, { O_NET, 0, "net", "MODE", "a network" },
        { O_JSON, 0, "json", NULL, "JSON" },     {},
};
static const struct opt globals[] = {
        { O_STORE, 0, "store", "DIR", "the store" },
        {},
};

/* Parse ARGS (NULL-terminated) into "id=arg id ... | operands...", or
 * "error" at the first usage error. */
static void parse(bool in_order, char *out, size_t size, ...)
{
        static char *argv[32];
        int argc = 0;
        va_list ap;
        va_start(ap, size);
        argv[argc++] = (char *)"tool";
        for (char *a; (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        struct opts_spec spec = { .prog = "tool",
                                  .usage = "",
                                  .about = "",
                                  .opts = table,
                                  .globals = globals,
                                  .in_order = in_order };
        opts_parser p;
        int id;
        size_t n = 0;
        opts_init(&p, &spec, argc, argv);
        out[0] = 0;
        while ((id = opts_next(&p)) != 0) {
                if (id < 0) {
                        snprintf(out, size, "error");
                        return;
                }
                n += (size_t)snprintf(out + n, size - n, p.arg ? "%d=%s " : "%d ", id, p.arg);
        }
        n += (size_t)snprintf(out + n, size - n, "|");
        for (int i = 0; i < p.n_operands; i++)
                n += (size_t)snprintf(out + n, size - n, " %s", p.operands[i]);
        assert_null(p.operands[p.n_operands]);
}

#define CHECK(in_order, want, ...)                                                                           \
        do {                                                                                                 \
                char got[512];                                                                               \
                parse(in_order, got, sizeof(got), __VA_ARGS__, (char *)NULL);                                \
                assert_string_equal(got, want);                                                              \
        } while (0)

static void test_before_and_after_operands(void **state)
{
        (void)state;
        CHECK(false, "256=A 113 | rm x", "rm", "--store", "A", "x", "-q");
        CHECK(false, "256=B | rm", "rm", "--store=B");
        /* "-" is an operand (standard input), "--" ends the options. */
        CHECK(false, "113 | - --store x", "-", "-q", "--", "--store", "x");
}

static void test_in_order(void **state)
{
        (void)state;
        /* launch IMAGE CMD...: the command's options are its own. */
        CHECK(true, "113 | alpine ls -l --net", "-q", "alpine", "ls", "-l", "--net");
        CHECK(true, "| alpine -- ls", "alpine", "--", "ls");
        CHECK(true, "| alpine", "--", "alpine");
        CHECK(true, "258=host | alpine", "--net", "host", "alpine");
}

static void test_short_clusters(void **state)
{
        (void)state;
        CHECK(false, "105 116 |", "-it");
        CHECK(false, "105 101=A=1 |", "-ieA=1");
        CHECK(false, "101=A=1 |", "-e", "A=1");
        /* An argument is taken whatever it looks like, as getopt does. */
        CHECK(false, "101=-q |", "-e", "-q");
        CHECK(false, "error", "-iz");
        CHECK(false, "error", "-e");
}

static void test_long_forms(void **state)
{
        (void)state;
        CHECK(false, "257=web |", "--name=web");
        CHECK(false, "257= |", "--name=");
        CHECK(false, "259 |", "--js");
        CHECK(false, "105 |", "--inter");
        /* --n: --name or --net. */
        CHECK(false, "error", "--n", "x");
        CHECK(false, "error", "--json=yes");
        CHECK(false, "error", "--name");
        CHECK(false, "error", "--bogus");
        CHECK(false, "error", "--=x");
        /* An unknown option after an operand is still refused. */
        CHECK(false, "error", "x", "--bogus");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_before_and_after_operands),
                cmocka_unit_test(test_in_order),
                cmocka_unit_test(test_short_clusters),
                cmocka_unit_test(test_long_forms),
        };
        return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
