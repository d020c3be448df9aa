/* Rootless: the user namespace's id maps, and why the host refuses one.
 *
 * With newuidmap/newgidmap (shadow's setuid helpers, the only privileged
 * code involved, and the host's own) and a range in /etc/subuid and
 * /etc/subgid, root inside is the caller and ids 1..N inside are the
 * caller's subordinate ids, so an image's files owned by other users keep
 * distinct owners. Without them, one id is mapped: the caller is root
 * inside and nobody else exists, which is what most images need anyway. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/user.h"
#include "common/util.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

extern char **environ;

static char map_note[512];

const char *userns_map_note(void)
{
        return map_note[0] ? map_note : NULL;
}

static int write_proc(pid_t pid, const char *file, const char *text, roost_error *e)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        EXPLAIN("write(\"%s\", \"%.*s\") — %s", path, (int)strcspn(text, "\n"), text,
                strcmp(file, "setgroups") == 0 ? "required before an unprivileged gid_map"
                : strcmp(file, "uid_map") == 0 ? "uid_map: uid 0 inside is the caller's uid outside"
                                               : "gid_map: gid 0 inside is the caller's gid outside");
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return roost_error_set(e, -errno, "opening %s", path);
        int r = write_all(fd, text, strlen(text));
        return r < 0 ? roost_error_set(e, r, "writing %s", path) : 0;
}

/* The caller's range in FILE ("name:start:count" or "uid:start:count"). */
static bool sub_range(const char *file, const char *name, unsigned long id, unsigned long *start,
                      unsigned long *count)
{
        _cleanup_fclose_ FILE *f = fopen(file, "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;
        char idbuf[32];
        snprintf(idbuf, sizeof(idbuf), "%lu", id);
        while (f && getline(&line, &n, f) > 0) {
                char who[256];
                unsigned long s, c;
                if (sscanf(line, "%255[^:]:%lu:%lu", who, &s, &c) != 3 || c == 0)
                        continue;
                if ((name && strcmp(who, name) == 0) || strcmp(who, idbuf) == 0) {
                        *start = s;
                        *count = c;
                        return true;
                }
        }
        return false;
}

int userns_free_range(const char *const *files, size_t n, unsigned long count, unsigned long *ret)
{
        /* Candidates go up from 100000 (shadow's own first choice) until
         * one overlaps nothing: each overlap moves past that entry, so
         * this ends after at most as many rounds as there are entries. */
        unsigned long start = 100000;
        for (bool moved = true; moved;) {
                moved = false;
                for (size_t i = 0; i < n && !moved; i++) {
                        _cleanup_fclose_ FILE *f = fopen(files[i], "re");
                        _cleanup_free_ char *line = NULL;
                        size_t len = 0;
                        while (f && getline(&line, &len, f) > 0) {
                                unsigned long s, c;
                                if (sscanf(line, "%*[^:]:%lu:%lu", &s, &c) != 2 || c == 0)
                                        continue;
                                if (s < start + count && start < s + c) {
                                        /* Past this entry, on the next multiple of COUNT. */
                                        unsigned long end = s + c;
                                        if (end > ULONG_MAX - 2 * count)
                                                return -ERANGE;
                                        start = (end + count - 1) / count * count;
                                        moved = true;
                                        break;
                                }
                        }
                }
        }
        if (start > 0xffffffffUL - count)
                return -ERANGE;
        *ret = start;
        return 0;
}

/* Run a map helper; its own messages are not ours to print. */
static int run_helper(const char *tool, pid_t child, unsigned long id, unsigned long start,
                      unsigned long count)
{
        char a[5][32];
        snprintf(a[0], 32, "%d", (int)child);
        snprintf(a[1], 32, "%lu", id);
        snprintf(a[2], 32, "%lu", start);
        snprintf(a[3], 32, "%lu", count);
        char *argv[] = { (char *)tool, a[0], (char *)"0", a[1], (char *)"1", (char *)"1", a[2], a[3], NULL };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        pid_t pid;
        int r;
        if ((r = spawn_attr_clean(&attr)) < 0)
                return r;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        EXPLAIN("%s %s 0 %s 1 1 %s %s — the setuid helper writes /proc/%s/%s: 0 inside is the caller, "
                "1..%s come from /etc/sub%cid",
                tool, a[0], a[1], a[2], a[3], a[0], strcmp(tool, "newuidmap") == 0 ? "uid_map" : "gid_map",
                a[3], tool[3]);
        r = posix_spawnp(&pid, tool, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return -r;
        r = wait_exited_ok(pid);
        return r < 0 ? r : r ? 0 : -EPERM;
}

int userns_map(pid_t child, roost_error *e)
{
        uid_t uid = getuid();
        gid_t gid = getgid();
        _cleanup_free_ char *name = NULL;
        if (user_lookup(uid, &name, NULL) == -ENOMEM)
                return roost_error_set(e, -ENOMEM, "looking up uid %u", (unsigned)uid);
        unsigned long us, uc, gs, gc;
        char map[64];
        int r;

        map_note[0] = '\0';
        bool have_u = sub_range("/etc/subuid", name, uid, &us, &uc);
        bool have_g = sub_range("/etc/subgid", name, uid, &gs, &gc);
        if (have_u && have_g) {
                /* newgidmap first: if it fails, uid_map is still free for the
                 * single-id fallback below. */
                if (run_helper("newgidmap", child, gid, gs, gc) == 0) {
                        if (run_helper("newuidmap", child, uid, us, uc) == 0)
                                return 0;
                        /* gid_map is written; only uid_map can still be. */
                        snprintf(map, sizeof(map), "0 %d 1\n", (int)uid);
                        snprintf(map_note, sizeof(map_note),
                                 "newuidmap failed: mapping only uid %d to root inside", (int)uid);
                        return write_proc(child, "uid_map", map, e);
                }
                snprintf(map_note, sizeof(map_note),
                         "newgidmap failed (is it installed setuid, package uidmap?): mapping only "
                         "uid %d and gid %d to root inside",
                         (int)uid, (int)gid);
        } else {
                static const char *const files[] = { "/etc/subuid", "/etc/subgid" };
                unsigned long free_start;
                char hint[160] = "";
                if (userns_free_range(files, ELEMENTSOF(files), 65536, &free_start) == 0)
                        snprintf(hint, sizeof(hint),
                                 " (add one with: usermod --add-subuids %lu-%lu --add-subgids %lu-%lu %s)",
                                 free_start, free_start + 65535, free_start, free_start + 65535,
                                 name ? name : "USER");
                snprintf(map_note, sizeof(map_note),
                         "no range for %s in /etc/subuid and /etc/subgid: mapping only uid %d and "
                         "gid %d to root inside%s",
                         name ? name : "this user", (int)uid, (int)gid, hint);
        }

        /* Without "deny" an unprivileged writer may not set a gid map: it
         * would let the caller drop a group that denies it access. */
        if ((r = write_proc(child, "setgroups", "deny", e)) < 0)
                return r;
        snprintf(map, sizeof(map), "0 %d 1\n", (int)uid);
        if ((r = write_proc(child, "uid_map", map, e)) < 0)
                return r;
        snprintf(map, sizeof(map), "0 %d 1\n", (int)gid);
        return write_proc(child, "gid_map", map, e);
}

int userns_map_identity(pid_t child, roost_error *e)
{
        static const char map[] = "0 0 4294967295\n";
        static const char *const files[] = { "uid_map", "gid_map" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/%s", (int)child, files[i]);
                EXPLAIN("write(\"%s\", \"0 0 4294967295\") — every %cid is itself inside: the tree's files "
                        "keep "
                        "their owners",
                        path, files[i][0]);
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return roost_error_set(e, -errno, "opening %s", path);
                int r = write_all(fd, map, strlen(map));
                if (r < 0)
                        return roost_error_set(e, r, "writing %s", path);
        }
        return 0;
}

/* A sysctl as an integer, or -1 when the kernel has no such knob. */
static long sysctl_at(int dirfd, const char *name)
{
        char text[64];
        if (sandbox_read_small_at(dirfd, name, text, sizeof(text)) < 0)
                return -1;
        char *end;
        long v = strtol(text, &end, 10);
        return end == text ? -1 : v;
}

int userns_diagnose_at(int dirfd, int r, roost_error *e)
{
        long clone = sysctl_at(dirfd, "kernel/unprivileged_userns_clone");
        long max = sysctl_at(dirfd, "user/max_user_namespaces");
        long aa = sysctl_at(dirfd, "kernel/apparmor_restrict_unprivileged_userns");

        if (clone == 0)
                return roost_error_set(
                        e, r,
                        "creating a user namespace: unprivileged user namespaces are disabled by "
                        "kernel.unprivileged_userns_clone=0 (allow them: sysctl -w "
                        "kernel.unprivileged_userns_clone=1, or run launch as root)");
        if (max == 0)
                return roost_error_set(
                        e, r,
                        "creating a user namespace: user.max_user_namespaces=0 forbids them (allow "
                        "them: sysctl -w user.max_user_namespaces=15000, or run launch as root)");
        if (aa == 1)
                return roost_error_set(
                        e, r,
                        "creating a user namespace: AppArmor restricts unprivileged user namespaces "
                        "(kernel.apparmor_restrict_unprivileged_userns=1; allow them: sysctl -w "
                        "kernel.apparmor_restrict_unprivileged_userns=0, or give launch an AppArmor "
                        "profile with the userns permission, or run launch as root)");
        if (r == -ENOSPC || r == -EUSERS)
                return roost_error_set(
                        e, r,
                        "creating a user namespace: the limit user.max_user_namespaces=%ld is reached "
                        "(raise it: sysctl -w user.max_user_namespaces=15000)",
                        max);
        return roost_error_set(e, r,
                               "creating a user namespace (no sysctl forbids it: launch may itself run in a "
                               "chroot, a container or under a seccomp filter that denies it)");
}

int userns_diagnose(int r, roost_error *e)
{
        _cleanup_close_ int fd = open("/proc/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return userns_diagnose_at(fd, r, e);
}
