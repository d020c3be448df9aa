/* Shared by the roost front's own commands (images, rm, gc, verify,
 * export, import). */
#pragma once
#include <stdbool.h>
#include "store/store.h"

struct roost_args {
        const char *store; /* --store, else ROOST_STORE, else the default root */
        const char *arch;  /* --arch, else the host's */
        bool json, quiet, prune;
        bool containers; /* rm --container: the operands are container names */
};

/* Parse the options every store command shares; leaves the operands in
 * argv[optind..]. Returns 0 or EXIT_USAGE after printing the reason. */
int roost_parse(int argc, char **argv, struct roost_args *a, const char *usage);
/* Open the store or print why not; returns 0 or an exit code. */
int roost_open_store(const struct roost_args *a, unsigned flags, store **ret);
/* The stored reference TEXT means for the chosen arch (store_ref_resolve:
 * a bare name is the newest stored image of that name). */
int roost_read_ref(store *s, const struct roost_args *a, const char *text, struct store_ref *ret);

int cmd_images(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
