#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/user.h"
#include "common/util.h"

extern char **environ;

static int set_result(const char *name, const char *home, char **ret_name, char **ret_home)
{
        char *n = name && *name ? strdup(name) : NULL, *h = home && *home ? strdup(home) : NULL;
        if ((name && *name && !n) || (home && *home && !h)) {
                free(n);
                free(h);
                return -ENOMEM;
        }
        if (ret_name)
                *ret_name = n;
        else
                free(n);
        if (ret_home)
                *ret_home = h;
        else
                free(h);
        return 0;
}

/* fgetpwent parses the file itself; getpwuid would go through NSS. */
static int from_passwd_file(uid_t uid, char **ret_name, char **ret_home)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;
        if (!f)
                return -ENOENT;
        while ((pw = fgetpwent(f)))
                if (pw->pw_uid == uid)
                        return set_result(pw->pw_name, pw->pw_dir, ret_name, ret_home);
        return -ENOENT;
}

/* A name to print and to compare with /etc/subuid: no separators, no
 * control characters. */
static bool name_ok(const char *name)
{
        if (!*name || strlen(name) > 255)
                return false;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
                if (*c < 0x20 || *c == 0x7f || *c == ':' || *c == '/')
                        return false;
        return true;
}

/* One line "name:passwd:uid:gid:gecos:home:shell" from getent. */
static int from_getent(uid_t uid, char **ret_name, char **ret_home)
{
        static const char *const paths[] = { "/usr/bin/getent", "/bin/getent" };
        char arg[32], buf[4096], a0[] = "getent", a1[] = "passwd";
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        int p[2], r;
        bool ok = false;
        pid_t pid = -1;
        snprintf(arg, sizeof(arg), "%u", (unsigned)uid);
        if ((r = spawn_attr_clean(&attr)) < 0)
                return r;
        if (pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                posix_spawnattr_destroy(&attr);
                return r;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        for (size_t i = 0; i < ELEMENTSOF(paths) && pid < 0; i++) {
                char *argv[] = { a0, a1, arg, NULL };
                /* A path that is missing or not executable fails here. */
                if (posix_spawn(&pid, paths[i], &fa, &attr, argv, environ) != 0)
                        pid = -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(p[1]);
        size_t n = 0;
        if (pid > 0) {
                /* To the end, keeping the first line's worth: a writer
                 * blocked on a full pipe would never exit. */
                char sink[4096];
                for (;;) {
                        ssize_t k = n < sizeof(buf) - 1 ? read(p[0], buf + n, sizeof(buf) - 1 - n)
                                                        : read(p[0], sink, sizeof(sink));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        if (n < sizeof(buf) - 1)
                                n += (size_t)k;
                }
                ok = wait_exited_ok(pid) > 0;
        }
        close(p[0]);
        if (!ok)
                return -ENOENT;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        char *field[7] = { 0 }, *s = buf;
        for (int i = 0; i < 7 && s; i++) {
                field[i] = s;
                s = strchr(s, ':');
                if (s)
                        *s++ = 0;
        }
        if (!field[6] || !name_ok(field[0]) || strcmp(field[2], arg) != 0)
                return -ENOENT;
        return set_result(field[0], field[5], ret_name, ret_home);
}

int user_lookup(uid_t uid, char **ret_name, char **ret_home)
{
        if (ret_name)
                *ret_name = NULL;
        if (ret_home)
                *ret_home = NULL;
        int r = from_passwd_file(uid, ret_name, ret_home);
        if (r != -ENOENT)
                return r;
        return from_getent(uid, ret_name, ret_home);
}
