/* Drives roost build's readers of a build context's text
 * (commit/dockerfile.c): dockerfile_parse, then dockerfile_expand over each
 * step's arguments with the ARG and ENV values the file set so far (as
 * roost build expands them) and a few of the caller's, and the same bytes
 * read as a .dockerignore by dockerignore_parse and matched against a few
 * paths by dockerignore_excluded (one deep, where many "**" used to
 * take exponential time). */
#include "config.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "commit/commit.h"
#include "fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

enum { VARS_MAX = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        char *text = fuzz_strndup(data, n);
        struct dockerfile df;
        roost_error e;
        if (dockerfile_parse(text, &df, &e) == 0) {
                char *vars[VARS_MAX] = { "BASE=alpine:3.20", "EMPTY=", "WHO=roost", "PATH=/usr/bin:/bin" };
                size_t n_vars = 4, first_own = n_vars;
                for (size_t i = 0; i < df.n; i++) {
                        const struct dockerfile_step *st = &df.steps[i];
                        char *x = NULL;
                        if (dockerfile_expand(st->args, vars, n_vars, &x) < 0)
                                continue;
                        /* ARG NAME=value and ENV NAME=value: what later
                         * steps see (the subset's one-pair form is enough
                         * to reach every branch of the expansion). */
                        if ((st->kind == DF_ARG || st->kind == DF_ENV) && strchr(x, '=') && n_vars < VARS_MAX)
                                vars[n_vars++] = x;
                        else
                                free(x);
                        for (size_t j = 0; st->argv && st->argv[j]; j++)
                                if (dockerfile_expand(st->argv[j], vars, n_vars, &x) == 0)
                                        free(x);
                }
                for (size_t i = first_own; i < n_vars; i++)
                        free(vars[i]);
                dockerfile_done(&df);
        }
        struct dockerignore di;
        if (dockerignore_parse(text, &di) == 0) {
                static const char *const paths[] = { "Dockerfile",
                                                     "src/app.sh",
                                                     "logs/keep.log",
                                                     "a/b/c/d/e/f/g/h",
                                                     ".git/config",
                                                     "secret.key",
                                                     "a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a" };
                for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                        (void)dockerignore_excluded(&di, paths[i]);
                dockerignore_done(&di);
        }
        free(text);
        return 0;
}
