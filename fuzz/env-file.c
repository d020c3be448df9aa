/* Drives launch's --env-file reader (launch/env-file.c) on the input
 * written as a file into the scratch tmpfs: the environment it builds, then
 * -e's over it, as launch's main adds them. */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "common/util.h"
#include "fuzz/scratch.h"
#include "launch/launch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char file[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        snprintf(file, sizeof(file), "%s/env", fuzz_scratch_path());
        /* What "KEY" alone passes on. */
        setenv("FUZZ_SET", "from the caller", 1);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
        char **env = NULL;
        size_t n_env = 0;
        roost_error e;
        fuzz_write("env", data, n);
        if (launch_env_file_read(file, &env, &n_env, &e) == 0) {
                (void)launch_env_add(&env, &n_env, "A=over");
                (void)launch_env_add(&env, &n_env, "FUZZ_SET");
                for (size_t i = 0; i < n_env; i++)
                        if (!env[i])
                                abort();
                if (env && env[n_env])
                        abort();
        }
        strv_free(env);
        fuzz_scratch_empty();
        return 0;
}
