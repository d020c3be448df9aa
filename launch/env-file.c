/* The user's part of the command's environment: -e and docker's
 * --env-file. A library function, not launch's main's own, so that the
 * file's reader is fuzzed (fuzz/env-file.c) as the tool runs it. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "launch/launch.h"

enum {
        /* The kernel's own bound on one "KEY=VALUE" string (MAX_ARG_STRLEN):
         * a longer line could never reach the command. */
        ENV_LINE_MAX = 128 << 10,
        /* A file is read whole before launch does anything: --env-file
         * /dev/zero, or a pipe that never ends, must stop somewhere. */
        ENV_FILE_MAX = 4 << 20,
};

static bool env_key_valid(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '=' || s[i] == 0)
                        return false;
        return true;
}

int launch_env_add(char ***env, size_t *n, const char *s)
{
        const char *eq = strchr(s, '=');
        if (!env_key_valid(s, eq ? (size_t)(eq - s) : strlen(s)))
                return -EINVAL;
        if (eq)
                return launch_env_set(env, n, s);
        /* KEY alone: docker passes our value on, or nothing when unset. */
        const char *v = getenv(s);
        if (!v)
                return 0;
        _cleanup_free_ char *kv = NULL;
        if (asprintf(&kv, "%s=%s", s, v) < 0)
                return -ENOMEM;
        return launch_env_set(env, n, kv);
}

/* One line of F into BUF (ENV_LINE_MAX + 1 bytes), without its newline;
 * its length, or -1 at the end, -2 when it is longer than ENV_LINE_MAX.
 * getc rather than getline: a NUL byte is counted, and the length bounded. */
static ssize_t read_line(FILE *f, char *buf, size_t *total)
{
        size_t len = 0;
        int c;
        while ((c = getc(f)) != EOF && c != '\n') {
                if (++*total > ENV_FILE_MAX)
                        return -3;
                if (len == ENV_LINE_MAX)
                        return -2;
                buf[len++] = (char)c;
        }
        if (c == EOF && len == 0)
                return -1;
        ++*total;
        buf[len] = 0;
        return (ssize_t)len;
}

int launch_env_file_read(const char *path, char ***env, size_t *n, roost_error *e)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = malloc(ENV_LINE_MAX + 1);
        size_t total = 0;
        ssize_t len;
        unsigned no = 1;
        int r;
        if (!f)
                return roost_error_set(e, -errno, "--env-file %s", path);
        if (!line)
                return roost_error_set(e, -ENOMEM, "--env-file %s", path);
        for (; (len = read_line(f, line, &total)) >= 0; no++) {
                while (len > 0 && line[len - 1] == '\r')
                        line[--len] = 0;
                char *kv = line + strspn(line, " \t");
                if (!*kv || *kv == '#')
                        continue;
                size_t klen = strcspn(kv, "=");
                /* A NUL byte would cut the value short without a word. */
                if (strcspn(kv, " \t") < klen || !env_key_valid(kv, klen) || strlen(line) != (size_t)len)
                        return roost_error_set(e, 0,
                                               "--env-file %s:%u: expected KEY=VALUE or KEY, no blank in KEY",
                                               path, no),
                               -ROOST_EUSAGE;
                if ((r = launch_env_add(env, n, kv)) < 0)
                        return roost_error_set(e, r, "--env-file %s", path);
        }
        if (len == -2)
                return roost_error_set(
                               e, 0,
                               "--env-file %s:%u: longer than %d KiB (the kernel's bound on one variable)",
                               path, no, ENV_LINE_MAX >> 10),
                       -ROOST_EUSAGE;
        if (len == -3)
                return roost_error_set(e, 0, "--env-file %s: longer than %d MiB", path, ENV_FILE_MAX >> 20),
                       -ROOST_EUSAGE;
        if (ferror(f))
                return roost_error_set(e, -EIO, "--env-file %s", path);
        return 0;
}
