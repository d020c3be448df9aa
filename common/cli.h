/* What every tool's main shares: the one-line error format, --version and
 * terminal checks. Only mains include this; libraries never print. */
#pragma once
#include <stdbool.h>

/* "TOOL: MESSAGE" on stderr, printf-style, newline added. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_version(void);
/* Progress output is for terminals only, and never on a terminal whose
 * TERM is "dumb" (an editor's shell buffer, a CI log). */
bool cli_is_tty(int fd);
