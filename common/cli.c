#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"

static void vreport(const char *fmt, va_list ap)
{
        char buf[2048];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        /* One line, always: a message must not smuggle a second one in. */
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        fprintf(stderr, "%s: %s\n", program_invocation_short_name, buf);
}

void cli_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vreport(fmt, ap);
        va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vreport(fmt, ap);
        va_end(ap);
}

void cli_version(void)
{
        printf("%s (%s) %s\n", program_invocation_short_name, PACKAGE_NAME, PACKAGE_VERSION);
}

bool cli_is_tty(int fd)
{
        const char *term = getenv("TERM");
        return isatty(fd) && !(term && strcmp(term, "dumb") == 0);
}
