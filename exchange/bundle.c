/* roost export --format bundle: an OCI runtime bundle (runtime-spec,
 * "bundle.md"), the directory runc run and crun run start:
 *
 *   config.json     what to run and how: from the image config, on the
 *                   defaults runc spec writes
 *   rootfs/         the image's layers applied bottom first
 *
 * The defaults are runc spec's, byte for byte in meaning: namespaces pid,
 * network, ipc, uts and mount; /proc, /dev, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys and /sys/fs/cgroup mounted; its masked and read-only
 * paths; its capabilities (AUDIT_WRITE, KILL, NET_BIND_SERVICE); no new
 * privileges; a read-only root. On them, from the image config: the
 * process's args (Entrypoint then Cmd), env (PATH docker's default when
 * the image sets none, HOME the user's), cwd (WorkingDir) and user, whose
 * names are resolved, as docker does, against the image's own /etc/passwd
 * and /etc/group, never the host's. terminal is false: a bundle is run
 * from scripts as often as from a terminal, and runc refuses a terminal
 * it is not given. */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <jansson.h>
#include "common/util.h"
#include "exchange/exchange-private.h"

/* runc spec's config.json (runc 1.1), less what the image decides. */
static const char runc_spec[] =
        "{\"ociVersion\":\"1.0.2-dev\","
        "\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[],\"env\":[],\"cwd\":\"/\","
        "\"capabilities\":{"
        "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true},"
        "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
        "\"hostname\":\"roost\","
        "\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
        "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
        "\"linux\":{"
        "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
        "{\"type\":\"mount\"}],"
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\","
        "\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}";

/* An image's passwd is a few kilobytes; one of millions of accounts is not
 * worth reading. */
#define ACCOUNT_FILE_MAX (4 << 20)

/* PATH of the tree below ROOTFD, read whole when it is a regular file no
 * larger than ACCOUNT_FILE_MAX; NULL otherwise (missing, a FIFO, a
 * symlink out of the tree: resolved inside it, never on the host). */
static char *read_account_file(int rootfd, const char *path)
{
        struct open_how how = {
                .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > ACCOUNT_FILE_MAX)
                return NULL;
        char *buf = malloc((size_t)st.st_size + 1);
        size_t n = 0;
        while (buf && n < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        if (buf)
                buf[n] = 0;
        return buf;
}

/* A decimal id below 2^32 - 1 (which setresuid takes for "unchanged"). */
static bool parse_id(const char *s, uint32_t *ret)
{
        uint64_t v = 0;
        if (!*s || strspn(s, "0123456789") != strlen(s))
                return false;
        for (; *s; s++)
                if ((v = v * 10 + (uint64_t)(*s - '0')) >= UINT32_MAX)
                        return false;
        *ret = (uint32_t)v;
        return true;
}

/* Split LINE (modified) at ':' into at most N fields; how many. */
static size_t fields(char *line, char **f, size_t n)
{
        size_t i = 0;
        while (i < n && line) {
                f[i++] = line;
                char *c = strchr(line, ':');
                if (c)
                        *c++ = 0;
                line = c;
        }
        return i;
}

struct ids {
        uint32_t uid, gid;
        char *home;
        json_t *groups; /* additionalGids */
};

/* The passwd entry whose name is NAME (or, NAME NULL, whose uid is UID). */
static bool passwd_find(char *text, const char *name, uint32_t uid, struct ids *ret)
{
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *f[7];
                uint32_t u, g;
                if (fields(line, f, 7) != 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
                        continue;
                if (name ? strcmp(f[0], name) != 0 : u != uid)
                        continue;
                ret->uid = u;
                ret->gid = g;
                ret->home = strdup(f[5]);
                return true;
        }
        return false;
}

/* GROUP's gid (by name), or, GROUP NULL, every group listing USER. */
static bool group_scan(char *text, const char *group, const char *user, struct ids *ret)
{
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *f[4];
                uint32_t g;
                if (fields(line, f, 4) != 4 || !parse_id(f[2], &g))
                        continue;
                if (group) {
                        if (!strcmp(f[0], group)) {
                                ret->gid = g;
                                return true;
                        }
                        continue;
                }
                for (char *m = f[3], *end; user && m && *m; m = end) {
                        end = strchr(m, ',');
                        if (end)
                                *end++ = 0;
                        if (!strcmp(m, user) && g != ret->gid)
                                json_array_append_new(ret->groups, json_integer(g));
                }
        }
        return group == NULL;
}

/* The image's User ("", NAME, UID, with :GROUP or :GID) as numbers, as
 * docker resolves it; an unknown UID runs with that number as its group,
 * as roost launch -u does. */
static int resolve_user(const char *spec, int rootfd, struct ids *ret, roost_error *e)
{
        _cleanup_free_ char *copy = strdup(spec ? spec : ""), *passwd = NULL, *group = NULL;
        if (!copy)
                return -ENOMEM;
        char *grp = strchr(copy, ':');
        if (grp)
                *grp++ = 0;
        passwd = read_account_file(rootfd, "/etc/passwd");
        group = read_account_file(rootfd, "/etc/group");
        uint32_t id;
        const char *user = *copy ? copy : "0";
        if (parse_id(user, &id)) {
                if (!passwd || !passwd_find(passwd, NULL, id, ret)) {
                        ret->uid = ret->gid = id;
                        ret->home = strdup(id == 0 ? "/root" : "/");
                }
        } else if (!passwd || !passwd_find(passwd, user, 0, ret))
                return roost_error_set(e, 0, "the image's user %s is not in its /etc/passwd", user),
                       -ROOST_ENOTFOUND;
        if (!ret->home)
                return -ENOMEM;
        if (grp && *grp) {
                if (parse_id(grp, &id))
                        ret->gid = id;
                else if (!group || !group_scan(group, grp, NULL, ret))
                        return roost_error_set(e, 0, "the image's group %s is not in its /etc/group", grp),
                               -ROOST_ENOTFOUND;
        } else if (group) {
                /* The user's supplementary groups, by its name in the
                 * image's passwd (the name given, or the uid's entry's). */
                _cleanup_free_ char *name = NULL;
                if (!parse_id(user, &id))
                        name = strdup(user);
                else if (passwd) {
                        _cleanup_free_ char *again = read_account_file(rootfd, "/etc/passwd");
                        for (char *line = again, *next; line && *line && !name; line = next) {
                                next = strchr(line, '\n');
                                if (next)
                                        *next++ = 0;
                                char *f[7];
                                uint32_t u;
                                if (fields(line, f, 7) == 7 && parse_id(f[2], &u) && u == id)
                                        name = strdup(f[0]);
                        }
                }
                if (name)
                        group_scan(group, NULL, name, ret);
        }
        return 0;
}

static bool env_has(json_t *env, const char *key)
{
        size_t i, n = strlen(key);
        json_t *v;
        json_array_foreach (env, i, v) {
                const char *t = json_string_value(v);
                if (t && !strncmp(t, key, n) && t[n] == '=')
                        return true;
        }
        return false;
}

int exchange_bundle_config(const struct store_image_config *cfg, int rootfd, char **ret, roost_error *e)
{
        json_t *spec = json_loads(runc_spec, 0, NULL);
        if (!spec)
                return roost_error_set(e, -ENOMEM, "writing config.json");
        json_t *proc = json_object_get(spec, "process");
        json_t *args = json_object_get(proc, "args"), *env = json_object_get(proc, "env");
        for (char **p = cfg->entrypoint; p && *p; p++)
                json_array_append_new(args, json_string(*p));
        for (char **p = cfg->cmd; p && *p; p++)
                json_array_append_new(args, json_string(*p));
        int r = 0;
        if (json_array_size(args) == 0) {
                r = (roost_error_set(e, 0, "the image sets neither Entrypoint nor Cmd: nothing to run"),
                     -ROOST_EFORMAT);
                goto out;
        }
        struct ids ids = { .groups = json_array() };
        if ((r = resolve_user(cfg->user, rootfd, &ids, e)) < 0) {
                json_decref(ids.groups);
                free(ids.home);
                goto out;
        }
        json_t *user = json_pack("{s:I, s:I}", "uid", (json_int_t)ids.uid, "gid", (json_int_t)ids.gid);
        if (json_array_size(ids.groups))
                json_object_set(user, "additionalGids", ids.groups);
        json_decref(ids.groups);
        json_object_set_new(proc, "user", user);
        for (char **p = cfg->env; p && *p; p++)
                json_array_append_new(env, json_string(*p));
        if (!env_has(env, "PATH"))
                json_array_insert_new(env, 0, json_string("PATH=" STORE_DEFAULT_PATH));
        if (!env_has(env, "HOME")) {
                char *home = NULL;
                if (asprintf(&home, "HOME=%s", *ids.home ? ids.home : "/") >= 0)
                        json_array_append_new(env, json_string(home));
                free(home);
        }
        free(ids.home);
        if (cfg->workdir) {
                if (cfg->workdir[0] != '/') {
                        r = (roost_error_set(e, 0, "the image's WorkingDir %s is not absolute", cfg->workdir),
                             -ROOST_EFORMAT);
                        goto out;
                }
                json_object_set_new(proc, "cwd", json_string(cfg->workdir));
        }
        char *text = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text) {
                r = roost_error_set(e, -ENOMEM, "writing config.json");
                goto out;
        }
        *ret = text;
out:
        json_decref(spec);
        return r;
}

static int dir_empty_or_missing(const char *dir, roost_error *e)
{
        DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOTDIR)
                        return roost_error_set(e, 0, "%s is not a directory", dir), -EEXIST;
                return roost_error_set(e, -errno, "opening %s", dir);
        }
        struct dirent *de;
        bool empty = true;
        while (empty && (de = readdir(d)))
                empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
        closedir(d);
        if (!empty)
                return roost_error_set(e, 0, "%s is not empty: a bundle goes into a new or empty directory", dir),
                       -EEXIST;
        return 0;
}

int exchange_export_bundle(store *s, const struct store_ref *ref, const char *dir,
                           const struct exchange_export_options *o, roost_error *e)
{
        /* Refused before any work; rename checks it again at the end. */
        int r = dir_empty_or_missing(dir, e);
        if (r < 0)
                return r;
        struct store_image_config cfg = { 0 };
        r = store_image_config_read(s, ref->config, &cfg);
        if (r < 0)
                return roost_error_set(e, r, "reading the image config %.12s", ref->config);
        /* Built beside DIR and renamed into place: nobody finds half a
         * bundle under its name, and a failure leaves no trace there. The
         * temporary is private (mkdtemp's 0700) while the tree, with the
         * image's set-id files and device nodes, is made. */
        _cleanup_free_ char *tmp = NULL, *text = NULL;
        _cleanup_close_ int tmpfd = -1, rootfd = -1;
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (asprintf(&tmp, "%.*s.roost-XXXXXX", (int)n, dir) < 0) {
                store_image_config_done(&cfg);
                return -ENOMEM;
        }
        if (!mkdtemp(tmp)) {
                r = roost_error_set(e, -errno, "making a temporary directory beside %s", dir);
                free(tmp);
                tmp = NULL;
                goto out;
        }
        if ((tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            mkdirat(tmpfd, "rootfs", 0755) < 0 ||
            (rootfd = openat(tmpfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
                r = roost_error_set(e, -errno, "making %s", tmp);
                goto out;
        }
        if ((r = exchange_flatten(s, ref, rootfd, o, e)) < 0 ||
            (r = exchange_bundle_config(&cfg, rootfd, &text, e)) < 0)
                goto out;
        if ((r = write_file_atomic_at(tmpfd, "config.json", text, strlen(text), 0644)) < 0) {
                roost_error_set(e, r, "writing %s/config.json", dir);
                goto out;
        }
        /* The bundle is readable as runc spec's are; DIR itself replaces an
         * empty directory there (rename(2) does that, and refuses one that
         * is not empty: ENOTEMPTY, checked again here at the last moment). */
        if (fchmod(tmpfd, 0755) < 0 || syncfs(tmpfd) < 0 || rename(tmp, dir) < 0) {
                r = -errno;
                if (r == -ENOTEMPTY || r == -EEXIST)
                        r = (roost_error_set(e, 0, "%s is not empty: a bundle goes into a new or empty directory",
                                             dir),
                             -EEXIST);
                else
                        roost_error_set(e, r, "renaming the bundle to %s", dir);
                goto out;
        }
        free(tmp);
        tmp = NULL;
out:
        if (tmp)
                (void)rm_rf_at(AT_FDCWD, tmp);
        store_image_config_done(&cfg);
        return r;
}
