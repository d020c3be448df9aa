/* Shared by the roost front's own commands (images, rm, gc, verify,
 * export, import). */
#pragma once
#include <stdbool.h>
#include "common/opts.h"
#include "store/store.h"

struct roost_args {
        const char *store; /* --store, else ROOST_STORE, else the default root */
        const char *arch;  /* --arch, else the host's */
        bool arch_given;   /* --arch was given */
        bool json, quiet, prune;
        bool containers; /* rm --container: the operands are container names */
        const char *format; /* export --format */
        const char **trust; /* verify --trust KEY.asc, repeatable */
        size_t n_trust;
        char **operands;
        int n_operands;
};

/* The options every command takes, before it (roost --store DIR images)
 * or after it (roost images --store DIR), and their ids in every table. */
enum {
        ROOST_OPT_QUIET = 'q',
        ROOST_OPT_HELP = 'h',
        ROOST_OPT_STORE = 256,
        ROOST_OPT_ARCH,
        ROOST_OPT_JSON,
        ROOST_OPT_PRUNE,
        ROOST_OPT_CONTAINER,
        ROOST_OPT_VERSION,
        ROOST_OPT_FORMAT,
        ROOST_OPT_TRUST,
};
extern const struct opt roost_global_opts[];
/* The options of a command that has none of its own: --help. */
extern const struct opt roost_help_only[];
#define ROOST_OPT_HELP_ENTRY                                                                                 \
        {                                                                                                    \
                ROOST_OPT_HELP, 'h', "help", NULL, "this text"                                               \
        }
#define ROOST_STORE_FOOTER                                                                                   \
        "Exit status: 0 done, 1 other failure, 2 usage, 3 no such image, 5 damaged or\n"                     \
        "tampered data, 6 the store cannot be opened or written. See roost(1)."

/* One option of roost_global_opts read into A; 0 or EXIT_USAGE. */
int roost_global_opt(struct roost_args *a, int id, const char *arg);
/* Read the whole command line of a command (its globals may be set in A
 * already), leaving the operands in A. Returns 0, or the exit code after
 * printing why; --help prints SPEC's text and exits 0. */
int roost_parse(int argc, char **argv, struct roost_args *a, const struct opts_spec *spec);
/* Open the store or print why not; returns 0 or an exit code. */
int roost_open_store(const struct roost_args *a, unsigned flags, store **ret);
/* The stored reference TEXT means for the chosen arch (store_ref_resolve:
 * a bare name is the newest stored image of that name). */
int roost_read_ref(store *s, const struct roost_args *a, const char *text, struct store_ref *ret);

/* A: the global options given before the command. */
int cmd_images(struct roost_args *a, int argc, char **argv);
int cmd_rm(struct roost_args *a, int argc, char **argv);
int cmd_gc(struct roost_args *a, int argc, char **argv);
int cmd_verify(struct roost_args *a, int argc, char **argv);
int cmd_export(struct roost_args *a, int argc, char **argv);
int cmd_import(struct roost_args *a, int argc, char **argv);
/* front/roost-commit.c */
int cmd_commit(struct roost_args *a, int argc, char **argv);
int cmd_containers(struct roost_args *a, int argc, char **argv);
int cmd_tag(struct roost_args *a, int argc, char **argv);
int cmd_inspect(struct roost_args *a, int argc, char **argv);
/* front/roost-build.c */
int cmd_build(struct roost_args *a, int argc, char **argv);
/* front/roost-login.c */
int cmd_login(struct roost_args *a, int argc, char **argv);
int cmd_logout(struct roost_args *a, int argc, char **argv);
