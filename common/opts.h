/* The one option parser of pull, unpack, launch and roost. Each tool
 * describes its options in a table (names, argument, one line of help);
 * the same table reads the command line and writes --help, so the two
 * cannot drift apart. Options may come before or after the operands, as
 * GNU tools take them, whatever POSIXLY_CORRECT says; "--" ends them. A
 * tool that runs a command (launch IMAGE CMD...) stops at its first
 * operand instead: what follows is the command's, verbatim.
 *
 * Nothing is acted on while parsing: a tool reads every option, then acts,
 * so "roost rm alpine --bogus" refuses before anything is removed. */
#pragma once
#include <stdbool.h>

struct opt {
        int id;           /* what opts_next returns for it: > 0, often the short name */
        char short_name;  /* -q; 0: none */
        const char *name; /* --quiet, without the dashes; NULL ends the table */
        const char *arg;  /* the argument's name in --help ("DIR"); NULL: takes none */
        const char *help; /* one line; a "\n" continues it, indented */
};

struct opts_spec {
        const char *prog;  /* "pull", "roost rm": in the usage, --help and errors */
        const char *usage; /* what follows prog on the usage line; "\n" separates forms */
        const char *about; /* what it does: one line, then more if need be */
        const struct opt *opts;
        const struct opt *globals; /* roost's, accepted before its command too; may be NULL */
        const char *footer;        /* the exit codes, or where they are documented */
        bool in_order;             /* the first operand ends the options */
};

typedef struct {
        const struct opts_spec *spec;
        int argc;
        char **argv;
        int next;            /* the next argv element to read */
        const char *cluster; /* what is left of "-it" */
        bool rest;           /* every element from here is an operand */
        const char *arg;     /* the argument of the option just returned */
        char **operands;     /* in order, NULL-terminated once opts_next returned 0 */
        int n_operands;
} opts_parser;

/* ARGV[0] is the program; operands are gathered in ARGV itself. */
void opts_init(opts_parser *p, const struct opts_spec *spec, int argc, char **argv);
/* The next option's id, its argument in p->arg; 0 once every element is
 * read; -1 after one line "TOOL: unknown option ..." on stderr: a usage
 * error, which the tool turns into its exit code (2; launch: 125). */
int opts_next(opts_parser *p);
/* --help: usage, what it does, every option with its text, the footer. */
void opts_help(const struct opts_spec *spec);
