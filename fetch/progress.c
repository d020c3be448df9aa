#include "config.h"
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "common/cli.h"
#include "fetch/progress.h"

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void fetch_format_bytes(uint64_t n, char *buf, size_t len)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%llu B", (unsigned long long)n);
        else
                snprintf(buf, len, "%.1f %s", v, units[u]);
}

void fetch_progress_init(struct fetch_progress *p, bool quiet)
{
        *p = (struct fetch_progress){ .out = stderr, .quiet = quiet, .tty = cli_is_tty(STDERR_FILENO) };
}

void fetch_progress_end(struct fetch_progress *p)
{
        if (p->drawn) {
                fputc('\n', p->out);
                fflush(p->out);
                p->drawn = false;
        }
}

void fetch_progress_warn(void *userdata, const char *msg)
{
        struct fetch_progress *p = userdata;
        if (p)
                fetch_progress_end(p);
        cli_warn("%s", msg);
}

/* A line longer than the terminal wraps, and "\r" then redraws only its
 * last part: keep the step name short enough for the figures to fit. */
static int name_width(const struct fetch_progress *p, int figures)
{
        struct winsize ws;
        int cols = ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
        int w = cols - 1 - figures;
        return w < 10 ? 10 : w;
}

static void draw(struct fetch_progress *p, uint64_t done, uint64_t total, double t)
{
        char d[32], tot[32], rate[32], eta[32] = "", bar[32] = "";
        double elapsed = t - p->step_start;
        double speed = elapsed > 0.2 && done > p->step_first ? (double)(done - p->step_first) / elapsed : 0;
        fetch_format_bytes(done, d, sizeof(d));
        if (speed > 0) {
                fetch_format_bytes((uint64_t)speed, rate, sizeof(rate));
                strcat(rate, "/s");
        } else
                strcpy(rate, "");
        if (total) {
                fetch_format_bytes(total, tot, sizeof(tot));
                int width = 20, fill = done >= total ? width : (int)((double)done * width / (double)total);
                for (int i = 0; i < width; i++)
                        bar[i] = i < fill ? '#' : '.';
                bar[width] = 0;
                if (speed > 0 && done < total) {
                        unsigned long left = (unsigned long)((double)(total - done) / speed + 0.5);
                        snprintf(eta, sizeof(eta), "%lu:%02lu left", left / 60, left % 60);
                }
                char figures[160];
                int n = snprintf(figures, sizeof(figures), " [%s] %s / %s  %s  %s", bar, d, tot, rate, eta);
                fprintf(p->out, "\r\033[K%.*s%s", name_width(p, n), p->step, figures);
        } else {
                char figures[96];
                int n = snprintf(figures, sizeof(figures), " %s  %s", d, rate);
                fprintf(p->out, "\r\033[K%.*s%s", name_width(p, n), p->step, figures);
        }
        fflush(p->out);
        p->drawn = true;
        p->last_draw = t;
}

void fetch_progress_report(void *userdata, const char *step, uint64_t done, uint64_t total)
{
        struct fetch_progress *p = userdata;
        if (!p || p->quiet)
                return;
        double t = now();
        bool fresh = strcmp(step, p->step) != 0;
        if (fresh) {
                snprintf(p->step, sizeof(p->step), "%s", step);
                p->step_start = t;
                p->step_first = done;
                fetch_progress_end(p);
                if (!p->tty) {
                        fprintf(p->out, "%s\n", step);
                        fflush(p->out);
                        return;
                }
        }
        if (!p->tty)
                return;
        /* Ten frames a second are plenty, and the last one always shows. */
        if (!fresh && t - p->last_draw < 0.1 && !(total && done >= total))
                return;
        if (done == 0 && total == 0) {
                fprintf(p->out, "\r\033[K%.*s", name_width(p, 0), p->step);
                fflush(p->out);
                p->drawn = true;
                p->last_draw = t;
                return;
        }
        draw(p, done, total, t);
}
