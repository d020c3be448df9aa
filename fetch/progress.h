/* A terminal progress printer for pull's main: a bar
 * with bytes, rate and time left on a terminal, one line per step
 * otherwise, nothing when quiet. It prints, so the library never uses it;
 * a main passes fetch_progress_report as fetch_options.progress. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct fetch_progress {
        FILE *out;
        bool tty, quiet;
        char step[256];
        double step_start, last_draw;
        uint64_t step_first; /* bytes already there when the step began (a resume) */
        bool drawn;          /* a bar is on the current line */
};

/* Report on stderr; a bar only when it is a terminal. */
void fetch_progress_init(struct fetch_progress *p, bool quiet);
void fetch_progress_report(void *userdata, const char *step, uint64_t done, uint64_t total);
/* End the bar's line, so that what follows starts on a fresh one. */
void fetch_progress_end(struct fetch_progress *p);
/* For fetch_options.warn: the line on stderr, after the bar's, even when
 * quiet (a retry is news, not progress). */
void fetch_progress_warn(void *userdata, const char *msg);

/* "3.3 MiB" */
void fetch_format_bytes(uint64_t n, char *buf, size_t len);
