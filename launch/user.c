/* -u NAME[:GROUP], as docker reads it: through the image's own /etc/passwd
 * and /etc/group, never the host's. The names mean what the image says they
 * mean, so they are looked up in the container, by PID 1 once the root is
 * pivoted: the files are the ones the command will see (the tree, a named
 * layer over it, a volume bound on them), and no symlink in them can lead
 * back to the host's (openat2 with RESOLVE_IN_ROOT as well).
 *
 * The files are the image's, so untrusted: only regular files are read
 * (a FIFO would block, a device could do anything when opened), at most
 * USER_FILE_MAX bytes of them, and a line that is not a well-formed entry
 * (too few fields, an id that is not a number below 2^32 - 1, too long) is
 * stepped over. An id of 2^32 - 1 is refused: to setresuid it means "leave
 * unchanged", which would leave the command root.
 *
 * As docker: a user's group is its passwd entry's unless one is given, its
 * supplementary groups are the ones /etc/group lists it in (none when a
 * group is given), and HOME is its entry's home unless the environment has
 * one. Unlike docker, a UID the image does not know runs with that number
 * as its group too, not root's group 0. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/launch-private.h"

enum {
        /* An image's passwd is a few kilobytes; one made of millions of
         * accounts is not worth reading. */
        USER_FILE_MAX = 4 << 20,
        USER_LINE_MAX = 4096,
};

static bool name_char(char c, bool first)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
            c == '.')
                return true;
        /* Samba's machine accounts end in '$', directories' users hold '@'. */
        return !first && (c == '-' || c == '$' || c == '@');
}

/* A decimal id below 2^32 - 1: no sign, no space, no empty string. */
static bool parse_id(const char *s, size_t n, uint32_t *ret)
{
        uint64_t v = 0;
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
                if (v >= UINT32_MAX)
                        return false;
        }
        *ret = (uint32_t)v;
        return true;
}

/* One half of the spec: a number into *ID, or a name into NAME. */
static bool parse_half(const char *s, size_t n, char *name, uint32_t *id)
{
        if (n == 0 || n > LAUNCH_USER_NAME_MAX)
                return false;
        if (strspn(s, "0123456789") >= n)
                return parse_id(s, n, id);
        for (size_t i = 0; i < n; i++)
                if (!name_char(s[i], i == 0))
                        return false;
        memcpy(name, s, n);
        name[n] = 0;
        return true;
}

int launch_user_parse(const char *spec, struct launch_user *u, roost_error *e)
{
        *u = (struct launch_user){ 0 };
        const char *colon = strchr(spec, ':');
        size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
        uint32_t uid = 0, gid = 0;
        if (!parse_half(spec, n, u->name, &uid) ||
            (colon && !parse_half(colon + 1, strlen(colon + 1), u->group, &gid))) {
                roost_error_set(e, 0,
                                "-u '%s': expected NAME[:GROUP] or UID[:GID] (letters, digits, '.', '_', "
                                "'-'; at most %d each)",
                                spec, LAUNCH_USER_NAME_MAX);
                return -ROOST_EUSAGE;
        }
        u->uid = uid;
        u->gid = gid;
        u->has_group = colon != NULL;
        return 0;
}

/* PATH below ROOTFD opened for reading, if it is a regular file. Opening a
 * device is already doing something (a serial port raises its lines, a
 * tape rewinds on close), and a FIFO would block. On the root's own mount
 * no device opens (it is nodev) and O_NONBLOCK keeps a FIFO from blocking,
 * so one openat2 kept on that mount will do. Past it (a volume, /dev),
 * the file is looked at through O_PATH first and opened through its
 * descriptor in /proc, the container's own, only when it is regular. */
static int open_regular(int rootfd, const char *path)
{
        struct open_how how = {
                .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        struct stat sb;
        int fd;
        do
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        if (fd < 0 && errno == EXDEV) {
                _cleanup_close_ int pfd = openat2_in_root(rootfd, path, O_PATH);
                char self[64];
                if (pfd < 0 || fstat(pfd, &sb) < 0 || !S_ISREG(sb.st_mode))
                        return -EINVAL;
                snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
                fd = open(self, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        return fd;
}

/* Calls FN on each line of the image's PATH below ROOTFD until it returns
 * true. A file that cannot be opened, or is not a regular file, has no
 * lines: whatever it was, the image has no entry there. */
static void each_line(int rootfd, const char *path, bool (*fn)(char *line, void *userdata), void *userdata)
{
        _cleanup_close_ int fd = open_regular(rootfd, path);
        if (fd < 0)
                return;

        _cleanup_free_ char *buf = malloc(USER_LINE_MAX + 1);
        size_t have = 0, total = 0;
        bool skipping = false; /* in a line longer than USER_LINE_MAX */
        if (!buf)
                return;
        while (total < USER_FILE_MAX) {
                size_t want = USER_LINE_MAX - have;
                if (want > USER_FILE_MAX - total)
                        want = USER_FILE_MAX - total;
                ssize_t k = read(fd, buf + have, want);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        /* The last line may lack its newline. A read error
                         * ends the file as well: nothing past it is known. */
                        if (k == 0 && have && !skipping) {
                                buf[have] = 0;
                                fn(buf, userdata);
                        }
                        return;
                }
                total += (size_t)k;
                have += (size_t)k;
                char *p = buf, *end = buf + have, *nl;
                while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
                        *nl = 0;
                        if (!skipping && fn(p, userdata))
                                return;
                        skipping = false;
                        p = nl + 1;
                }
                have = (size_t)(end - p);
                memmove(buf, p, have);
                if (have == USER_LINE_MAX) {
                        skipping = true;
                        have = 0;
                }
        }
        /* At the bound the line in the buffer is cut short ("4242" read as
         * "42"): it is dropped, never parsed. */
}

/* Up to N ':'-separated fields of LINE, split in place; returns how many.
 * The last one keeps whatever colons follow. */
static size_t split_fields(char *line, char **f, size_t n)
{
        size_t k = 0;
        while (k < n) {
                f[k++] = line;
                char *c = strchr(line, ':');
                if (!c)
                        break;
                *c = 0;
                line = c + 1;
        }
        return k;
}

struct passwd_query {
        const struct launch_user *u;
        bool found;
        uid_t uid;
        gid_t gid;
        char name[LAUNCH_USER_NAME_MAX + 1];
        char *home;
};

/* name:password:uid:gid:gecos:home:shell */
static bool passwd_line(char *line, void *userdata)
{
        struct passwd_query *q = userdata;
        char *f[7];
        uint32_t uid, gid;
        size_t n = split_fields(line, f, ELEMENTSOF(f));
        if (n < 4 || !parse_id(f[2], strlen(f[2]), &uid) || !parse_id(f[3], strlen(f[3]), &gid))
                return false;
        if (q->u->name[0] ? strcmp(f[0], q->u->name) != 0 : uid != q->u->uid)
                return false;
        /* The first entry that matches, as getpwnam and runc take it. */
        q->found = true;
        q->uid = uid;
        q->gid = gid;
        if (strlen(f[0]) <= LAUNCH_USER_NAME_MAX)
                strcpy(q->name, f[0]);
        if (n >= 6 && f[5][0])
                q->home = strdup(f[5]);
        return true;
}

struct group_query {
        const char *group; /* a group given by name, or NULL */
        const char *user;  /* else the user whose groups are listed, or NULL */
        bool found;
        gid_t gid;
        gid_t *groups;
        size_t n_groups;
        bool full;
};

static void add_group(struct group_query *q, gid_t g)
{
        for (size_t i = 0; i < q->n_groups; i++)
                if (q->groups[i] == g)
                        return;
        if (q->n_groups >= NGROUPS_MAX) {
                q->full = true;
                return;
        }
        gid_t *ng = realloc(q->groups, (q->n_groups + 1) * sizeof(*ng));
        if (!ng) {
                q->full = true;
                return;
        }
        q->groups = ng;
        q->groups[q->n_groups++] = g;
}

/* name:password:gid:member,member,... */
static bool group_line(char *line, void *userdata)
{
        struct group_query *q = userdata;
        char *f[4];
        uint32_t gid;
        size_t n = split_fields(line, f, ELEMENTSOF(f));
        if (n < 3 || !parse_id(f[2], strlen(f[2]), &gid))
                return false;
        if (q->group) {
                if (strcmp(f[0], q->group) != 0)
                        return false;
                q->found = true;
                q->gid = gid;
                return true;
        }
        if (n < 4)
                return false;
        for (char *m = f[3], *next; m; m = next) {
                next = strchr(m, ',');
                if (next)
                        *next++ = 0;
                if (strcmp(m, q->user) == 0) {
                        add_group(q, gid);
                        break;
                }
        }
        return q->full;
}

int user_resolve(const struct launch_user *u, int rootfd, struct user_ids *ret, roost_error *e)
{
        struct passwd_query pq = { .u = u };
        each_line(rootfd, "etc/passwd", passwd_line, &pq);
        if (!pq.found && u->name[0]) {
                roost_error_set(e, 0, "user %s: no such user in the image's /etc/passwd", u->name);
                return -ROOST_ENOTFOUND;
        }
        *ret = (struct user_ids){
                .uid = pq.found ? pq.uid : u->uid,
                .gid = u->has_group ? u->gid
                       : pq.found   ? pq.gid
                                    : u->uid,
                .home = pq.home                             ? pq.home
                        : (pq.found ? pq.uid : u->uid) == 0 ? strdup("/root")
                                                            : strdup("/"),
        };
        if (!ret->home)
                return roost_error_set(e, -ENOMEM, "the command's home");

        struct group_query gq = { .group = u->group[0] ? u->group : NULL };
        if (!gq.group && !u->has_group && pq.found && pq.name[0])
                gq.user = pq.name;
        /* The group itself first, as docker lists it (a named one's
         * place is taken below). */
        add_group(&gq, ret->gid);
        if (!gq.groups) {
                free(ret->home);
                return roost_error_set(e, -ENOMEM, "the command's groups");
        }
        if (gq.group || gq.user)
                each_line(rootfd, "etc/group", group_line, &gq);
        if (gq.group && !gq.found) {
                free(gq.groups);
                free(ret->home);
                roost_error_set(e, 0, "group %s: no such group in the image's /etc/group", gq.group);
                return -ROOST_ENOTFOUND;
        }
        if (gq.group)
                ret->gid = gq.groups[0] = gq.gid;
        ret->groups = gq.groups;
        ret->n_groups = gq.n_groups;
        return 0;
}

char *const *user_env(char *const *env, const char *home)
{
        size_t n = 0;
        for (; env && env[n]; n++)
                if (strncmp(env[n], "HOME=", 5) == 0)
                        return env;
        char **ne = calloc(n + 2, sizeof(char *));
        if (!ne)
                return NULL;
        if (n)
                memcpy(ne, env, n * sizeof(char *));
        if (asprintf(&ne[n], "HOME=%s", home) < 0) {
                free(ne);
                return NULL;
        }
        return ne;
}
