#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "common/cli.h"
#include "common/opts.h"

/* --help's option column: a longer label puts its text on the next line. */
#define HELP_COLUMN 24

void opts_init(opts_parser *p, const struct opts_spec *spec, int argc, char **argv)
{
        *p = (opts_parser){ .spec = spec, .argc = argc, .argv = argv, .next = 1, .operands = argv + 1 };
}

static int fail(opts_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(opts_parser *p, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        /* "roost: rm: ...": the program names itself, a subcommand is added. */
        const char *sub = strchr(p->spec->prog, ' ');
        cli_error("%s%s%s; try '%s --help'", sub ? sub + 1 : "", sub ? ": " : "", msg, p->spec->prog);
        p->cluster = NULL;
        return -1;
}

static const struct opt *find_short(const struct opts_spec *s, char c)
{
        const struct opt *tables[] = { s->opts, s->globals };
        for (size_t t = 0; t < 2; t++)
                for (const struct opt *o = tables[t]; o && o->name; o++)
                        if (o->short_name == c)
                                return o;
        return NULL;
}

/* An exact name, or a prefix of one name only, as getopt_long allows. */
static const struct opt *find_long(const struct opts_spec *s, const char *name, size_t len, int *n_prefix)
{
        const struct opt *tables[] = { s->opts, s->globals }, *prefix = NULL;
        *n_prefix = 0;
        for (size_t t = 0; t < 2; t++)
                for (const struct opt *o = tables[t]; o && o->name; o++) {
                        if (strncmp(o->name, name, len))
                                continue;
                        if (!o->name[len])
                                return o;
                        prefix = o;
                        ++*n_prefix;
                }
        return *n_prefix == 1 ? prefix : NULL;
}

/* The argument of an option that takes one: the rest of its element
 * ("-eKEY=1", "--store=DIR"), else the next element whatever it holds. */
static int take_arg(opts_parser *p, const struct opt *o, const char *inline_arg, const char *shown)
{
        if (inline_arg)
                p->arg = inline_arg;
        else if (p->next < p->argc)
                p->arg = p->argv[p->next++];
        else
                return fail(p, "option '%s' needs an argument (%s)", shown, o->arg);
        return o->id;
}

static int short_opt(opts_parser *p)
{
        char c = *p->cluster++, shown[3] = { '-', c, 0 };
        const struct opt *o = find_short(p->spec, c);
        if (!o)
                return fail(p, "unknown option '%s'", shown);
        if (!*p->cluster)
                p->cluster = NULL;
        if (!o->arg)
                return o->id;
        const char *rest = p->cluster;
        p->cluster = NULL;
        return take_arg(p, o, rest, shown);
}

static int long_opt(opts_parser *p, const char *s)
{
        const char *eq = strchr(s, '=');
        int len = eq ? (int)(eq - s) : (int)strlen(s), n_prefix = 0;
        const struct opt *o = len ? find_long(p->spec, s, (size_t)len, &n_prefix) : NULL;
        if (!o && n_prefix) {
                char names[256] = "";
                const struct opt *tables[] = { p->spec->opts, p->spec->globals };
                for (size_t t = 0; t < 2; t++)
                        for (const struct opt *c = tables[t]; c && c->name; c++)
                                if (!strncmp(c->name, s, (size_t)len))
                                        snprintf(names + strlen(names), sizeof(names) - strlen(names),
                                                 "%s--%s", names[0] ? ", " : "", c->name);
                return fail(p, "option '--%.*s' is ambiguous (%s)", len, s, names);
        }
        if (!o)
                return fail(p, "unknown option '--%s'", s);
        char shown[64];
        snprintf(shown, sizeof(shown), "--%s", o->name);
        if (!o->arg && eq)
                return fail(p, "option '%s' takes no argument", shown);
        return o->arg ? take_arg(p, o, eq ? eq + 1 : NULL, shown) : o->id;
}

int opts_next(opts_parser *p)
{
        p->arg = NULL;
        if (p->cluster)
                return short_opt(p);
        while (p->next < p->argc) {
                char *a = p->argv[p->next++];
                if (!p->rest && !strcmp(a, "--")) {
                        p->rest = true;
                        continue;
                }
                /* An operand ("-" is one: standard input). The operands are
                 * moved down over what was read, never past it. */
                if (p->rest || a[0] != '-' || !a[1]) {
                        p->rest = p->rest || p->spec->in_order;
                        p->operands[p->n_operands++] = a;
                        continue;
                }
                if (a[1] == '-')
                        return long_opt(p, a + 2);
                p->cluster = a + 1;
                return short_opt(p);
        }
        p->operands[p->n_operands] = NULL;
        return 0;
}

static void print_lines(const char *text, const char *first, const char *indent)
{
        const char *prefix = first;
        while (*text) {
                size_t n = strcspn(text, "\n");
                printf("%s%.*s\n", prefix, (int)n, text);
                text += n + (text[n] == '\n');
                prefix = indent;
        }
}

static void print_table(const struct opt *o)
{
        for (; o && o->name; o++) {
                char label[128];
                int n = snprintf(label, sizeof(label), "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                                 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
                                 o->arg ? " " : "", o->arg ? o->arg : "");
                char indent[HELP_COLUMN + 1];
                memset(indent, ' ', HELP_COLUMN);
                indent[HELP_COLUMN] = 0;
                if (n >= HELP_COLUMN - 1)
                        printf("%s\n%s", label, indent);
                else
                        printf("%-*s", HELP_COLUMN, label);
                print_lines(o->help, "", indent);
        }
}

void opts_help(const struct opts_spec *s)
{
        char first[128], indent[128];
        snprintf(first, sizeof(first), "Usage: %s ", s->prog);
        snprintf(indent, sizeof(indent), "       %s ", s->prog);
        print_lines(s->usage, first, indent);
        print_lines(s->about, "", "");
        printf("\nOptions:\n");
        print_table(s->opts);
        if (s->globals) {
                printf("\nGlobal options (before the command or after it):\n");
                print_table(s->globals);
        }
        if (s->footer) {
                printf("\n");
                print_lines(s->footer, "", "");
        }
}
