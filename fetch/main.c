/* pull: placeholder main until the fetch stage lands. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "common/cli.h"
#include "common/error.h"

int main(int argc, char **argv)
{
        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                cli_version();
                return 0;
        }
        if (argc > 1 && strcmp(argv[1], "--help") == 0) {
                printf("Usage: pull ...\n(not implemented yet)\n");
                return 0;
        }
        cli_error("not implemented yet");
        return EXIT_FAIL;
}
