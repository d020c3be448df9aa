/* A tree of another architecture, run through qemu-user (docs/launch.md,
 * "Other architectures"). The host's kernel cannot load its programs;
 * binfmt_misc hands each one to Debian's qemu-ARCH-static, which runs it
 * and makes the host's system calls on its behalf.
 *
 * Where the kernel keeps a binfmt_misc for each user namespace (Linux 6.7
 * and later), the interpreter is registered in the container's own, which
 * a root launch gets for this: nothing of the host changes, and the
 * registration goes with the container. Elsewhere root registers it with
 * the host's binfmt_misc, once, saying so; without root a launch can only
 * use a registration the host has. Either way the F flag has the kernel
 * open the interpreter when it is registered, from the host's /usr/bin,
 * before pivot_root: qemu is never copied into the tree. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/mount-util.h"

#ifndef BINFMTFS_MAGIC
#define BINFMTFS_MAGIC 0x42494e4d
#endif

/* binfmt_misc's magic and mask for each, as Debian's qemu-user-static
 * (7.2) registers them (/usr/share/binfmts/qemu-NAME, and
 * /usr/lib/binfmt.d/qemu-NAME.conf for systemd). Debian ships none for
 * i386 and x86_64 on amd64, the host's own family: those two are qemu's
 * (its scripts/qemu-binfmt-conf.sh). They match the first 20 bytes of an
 * ELF header: class, byte order, version, the OS ABI masked off, the type
 * (EXEC or DYN: the mask's 0xfe) and the machine. */
enum { MAGIC_LEN = 20 };
struct binfmt_arch {
        const char *alpine; /* Alpine's name */
        const char *qemu;   /* its interpreter is qemu-QEMU-static */
        unsigned char magic[MAGIC_LEN], mask[MAGIC_LEN];
};

#define ELF(class, data) 0x7f, 'E', 'L', 'F', class, data, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define FF8              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define MASK_COMMON      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, FF8, 0xfe, 0xff, 0xff, 0xff
#define MASK_X86         0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xfe, 0x00, FF8, 0xfe, 0xff, 0xff, 0xff

static const struct binfmt_arch arches[] = {
        { "aarch64", "aarch64", { ELF(2, 1), 0x02, 0x00, 0xb7, 0x00 }, { MASK_COMMON } },
        /* armhf (ARMv6) and armv7: one ELF machine, one qemu. */
        { "armv7", "arm", { ELF(1, 1), 0x02, 0x00, 0x28, 0x00 }, { MASK_COMMON } },
        { "armhf", "arm", { ELF(1, 1), 0x02, 0x00, 0x28, 0x00 }, { MASK_COMMON } },
        { "x86_64", "x86_64", { ELF(2, 1), 0x02, 0x00, 0x3e, 0x00 }, { MASK_X86 } },
        { "x86", "i386", { ELF(1, 1), 0x02, 0x00, 0x03, 0x00 }, { MASK_X86 } },
        { "riscv64", "riscv64", { ELF(2, 1), 0x02, 0x00, 0xf3, 0x00 }, { MASK_COMMON } },
        { "ppc64le",
          "ppc64le",
          { ELF(2, 1), 0x02, 0x00, 0x15, 0x00 },
          { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, FF8, 0xfe, 0xff, 0xff, 0x00 } },
        { "s390x",
          "s390x",
          { ELF(2, 2), 0x00, 0x02, 0x00, 0x16 },
          { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, FF8, 0xff, 0xfe, 0xff, 0xff } },
        { "loongarch64",
          "loongarch64",
          { ELF(2, 1), 0x02, 0x00, 0x02, 0x01 },
          { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc, 0x00, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff } },
};

/* What binfmt_misc will ask of each program: its first bytes, where the
 * mask has bits, those of the magic. */
static bool matches(const struct binfmt_arch *a, const unsigned char *h)
{
        for (size_t i = 0; i < MAGIC_LEN; i++)
                if ((h[i] ^ a->magic[i]) & a->mask[i])
                        return false;
        return true;
}

static const char host_dir[] = "/proc/sys/fs/binfmt_misc";

static const struct binfmt_arch *by_name(const char *alpine)
{
        for (size_t i = 0; alpine && i < ELEMENTSOF(arches); i++)
                if (!strcmp(arches[i].alpine, alpine))
                        return &arches[i];
        return NULL;
}

/* What the tree's /bin/sh is built for; NULL when it cannot tell (no
 * such file, a script, an ELF machine Alpine builds for none). It is
 * opened O_PATH, resolved inside one lower, the first (top first) where it
 * resolves at all, and only read once it is seen to be a regular file: a
 * device node or a FIFO there must not be opened by launch on the host.
 * A /bin/sh whose link leads into another lower is not followed there. */
static const struct binfmt_arch *tree_arch(const char *const *lowers, size_t n_lowers)
{
        unsigned char h[MAGIC_LEN];
        char self[64];
        struct stat sb;
        _cleanup_close_ int sh = -1;
        for (size_t i = 0; i < n_lowers && sh < 0; i++) {
                _cleanup_close_ int tree = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (tree >= 0)
                        sh = openat2_in_root(tree, "bin/sh", O_PATH);
        }
        if (sh < 0 || fstat(sh, &sb) < 0 || !S_ISREG(sb.st_mode))
                return NULL;
        snprintf(self, sizeof(self), "/proc/self/fd/%d", sh);
        _cleanup_close_ int fd = open(self, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, h, sizeof(h)) != (ssize_t)sizeof(h))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (matches(&arches[i], h))
                        return &arches[i];
        return NULL;
}

#if defined(__x86_64__)
/* Whether this kernel runs i386 programs: some are built without IA32
 * emulation or booted with ia32_emulation=false, and some hypervisors'
 * guests answer int 0x80 with SIGSEGV. Tried in a child the signal may
 * kill, only for an x86 tree. */
static bool ia32_works(void)
{
        pid_t pid = fork();
        if (pid == 0) {
                long ret;
                __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L /* i386 getpid */) : "memory");
                _exit(ret > 0 ? 0 : 1);
        }
        int ws;
        if (pid < 0)
                return true; /* say nothing: the exec will tell */
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR)
                        return true;
        return WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}
#endif

/* The host runs A's programs itself: its own machine, or the 32-bit half
 * of a 64-bit host whose kernel has it (x86 on x86_64, armv7 and armhf on
 * aarch64). binfmt_misc is asked before the ELF loader, so registering
 * qemu for those would emulate what the kernel runs natively. */
static bool host_runs(const struct binfmt_arch *host, const struct binfmt_arch *a)
{
        if (host && matches(a, host->magic))
                return true;
#if defined(__x86_64__)
        if (!strcmp(a->qemu, "i386"))
                return ia32_works();
#elif defined(__aarch64__)
        /* arm64 refuses PER_LINUX32 where the CPUs have no AArch32. */
        if (!strcmp(a->qemu, "arm")) {
                int old = personality(0xffffffff);
                if (personality(PER_LINUX32) < 0)
                        return false;
                personality((unsigned long)old);
                return true;
        }
#endif
        return false;
}

/* binfmt_misc of a user namespace's own: Linux 6.7. ROOST_LAUNCH_NO_BINFMT_NS
 * makes launch behave as on an older kernel, for the tests. */
static bool binfmt_per_userns(void)
{
        struct utsname u;
        unsigned major, minor;
        if (getenv("ROOST_LAUNCH_NO_BINFMT_NS"))
                return false;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
                return false;
        return major > 6 || (major == 6 && minor >= 7);
}

/* ":qemu-aarch64:M::MAGIC:MASK:INTERPRETER:OPF", Debian's flags: F opens
 * the interpreter now, P passes argv[0] as it is (qemu learns of it from
 * AT_FLAGS: Debian's 7.2 does, under any name), O hands qemu the program's fd, so that a program
 * that may be run but not read runs too. Not C: no setuid program of the
 * image would run setuid (no_new_privs), and qemu is no program to run
 * with a setuid program's rights. */
static int registration(const struct binfmt *b, char *buf, size_t n)
{
        char magic[4 * MAGIC_LEN + 1], mask[4 * MAGIC_LEN + 1];
        for (size_t i = 0; i < MAGIC_LEN; i++) {
                snprintf(magic + 4 * i, 5, "\\x%02x", b->arch->magic[i]);
                snprintf(mask + 4 * i, 5, "\\x%02x", b->arch->mask[i]);
        }
        int k = snprintf(buf, n, ":qemu-%s:M::%s:%s:%s:OPF", b->arch->qemu, magic, mask, b->interpreter);
        /* binfmt_misc's own limit on what register takes */
        return k < 0 || (size_t)k >= n || k > 1920 ? -ENAMETOOLONG : 0;
}

/* The host's entry NAME: -ENOENT when it has none (or binfmt_misc is not
 * mounted there); else whether it is enabled and opened its interpreter
 * when registered (F), which a container needs: its tree has no qemu. */
static int host_entry(const char *name, bool *ret_usable)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", host_dir, name);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        bool enabled = false, fixed = false;
        if (!f)
                return -errno;
        for (unsigned i = 0; getline(&line, &size, f) > 0; i++) {
                if (i == 0)
                        enabled = strncmp(line, "enabled", 7) == 0;
                else if (strncmp(line, "flags: ", 7) == 0)
                        fixed = strchr(line + 7, 'F') != NULL;
        }
        *ret_usable = enabled && fixed;
        return 0;
}

/* Before Linux 6.7, as root: the host's binfmt_misc, mounted where
 * systemd mounts it if it is not, the interpreter registered when the
 * host has no entry of that name. It stays: it is the host's now. */
static int register_on_host(const struct run_state *st, roost_error *e)
{
        const struct binfmt *b = &st->binfmt;
        char name[64], line[2048], path[128];
        struct statfs sf;
        bool usable, mounted = false;
        int r;

        snprintf(name, sizeof(name), "qemu-%s", b->arch->qemu);
        if (statfs(host_dir, &sf) < 0 || sf.f_type != BINFMTFS_MAGIC) {
                EXPLAIN("mount(\"binfmt_misc\", \"%s\", \"binfmt_misc\", MS_NOSUID|MS_NODEV|MS_NOEXEC) — the "
                        "host's binfmt_misc, where systemd mounts it",
                        host_dir);
                if (mount("binfmt_misc", host_dir, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        return roost_error_set(e, -errno, "mounting binfmt_misc on %s", host_dir);
                mounted = true;
        }
        r = host_entry(name, &usable);
        if (r == 0 && usable) {
                EXPLAIN("%s/%s: registered already, enabled, with F — used as it is", host_dir, name);
                return 0;
        }
        if (r == 0) {
                roost_error_set(
                        e, 0,
                        "%s/%s is registered disabled or without the F flag, which would look for its "
                        "interpreter in the container's tree: enable it, or remove it (echo -1 > %s/%s) "
                        "for launch to register its own",
                        host_dir, name, host_dir, name);
                return -EINVAL;
        }
        if ((r = registration(b, line, sizeof(line))) < 0)
                return roost_error_set(e, r, "the interpreter %s", b->interpreter);
        snprintf(path, sizeof(path), "%s/register", host_dir);
        EXPLAIN("write(\"%s\", \"%s\") — this kernel keeps no binfmt_misc per user namespace (before 6.7): "
                "the host's, for every process; F opens the interpreter now",
                path, line);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || (r = write_all(fd, line, strlen(line))) < 0)
                return roost_error_set(e, fd < 0 ? -errno : r, "registering %s in %s", name, path);
        if (st->c->notice) {
                char msg[512];
                snprintf(msg, sizeof(msg),
                         "%sregistered %s with the host's binfmt_misc (this kernel has none per user "
                         "namespace): it stays, for the whole host; echo -1 > %s/%s removes it",
                         mounted ? "mounted binfmt_misc on /proc/sys/fs/binfmt_misc and " : "", name,
                         host_dir, name);
                st->c->notice(msg);
        }
        return 0;
}

int binfmt_prepare(struct run_state *st, roost_error *e)
{
        const struct launch_config *c = st->c;
        struct binfmt *b = &st->binfmt;
        bool looked = false;

        st->userns = st->rootless;
        if (c->arch) {
                if (!(b->arch = by_name(c->arch)))
                        return roost_error_set(e, 0, "architecture %s: launch knows no qemu-user for it",
                                               c->arch),
                               -ROOST_EUSAGE;
        } else {
                /* --rootfs without --arch: what the tree is built for. */
                b->arch = tree_arch(c->lowers, c->n_lowers);
                looked = true;
        }
        if (!b->arch)
                return 0;
        const char *host_name = host_alpine_arch();
        if (host_runs(by_name(host_name), b->arch)) {
                b->arch = NULL;
                return 0;
        }

        const char *dir = getenv("ROOST_QEMU_DIR");
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/qemu-%s-static", dir ? dir : "/usr/bin", b->arch->qemu);
        if (!realpath(path, b->interpreter) || access(b->interpreter, X_OK) < 0) {
                int r = -errno;
                roost_error_set(
                        e, 0,
                        "running %s programs on %s takes qemu-user's qemu-%s-static, not found in %s%s%s: "
                        "install the package qemu-user-static",
                        b->arch->alpine, host_name ? host_name : "this host", b->arch->qemu,
                        dir ? dir : "/usr/bin", r == -ENOENT ? "" : ": ", r == -ENOENT ? "" : strerror(-r));
                return r;
        }
        if (looked && c->notice) {
                char msg[256];
                snprintf(msg, sizeof(msg), "the tree is %s (its /bin/sh): running it through qemu-%s-static",
                         b->arch->alpine, b->arch->qemu);
                c->notice(msg);
        }
        EXPLAIN("the tree is %s (%s), the host %s: its programs run through %s, registered with binfmt_misc",
                b->arch->alpine, looked ? "its /bin/sh" : "--arch, or the image's reference",
                host_name ? host_name : "another", b->interpreter);

        if (binfmt_per_userns()) {
                b->in_userns = true;
                if (!st->userns && explaining())
                        explain_line(
                                "a user namespace for root too, for a binfmt_misc of the container's own: "
                                "uid_map and gid_map \"0 0 4294967295\" map every id to itself, so files "
                                "keep "
                                "their owners. Root inside holds its capabilities over the container's "
                                "namespaces only: mknod is refused (/dev gets the host's nodes, bound), "
                                "overlayfs keeps its bookkeeping in user.* xattrs, the network namespace is "
                                "the child's own (sysfs is mounted by its owner), and --privileged reaches "
                                "no "
                                "further");
                st->userns = true;
                return 0;
        }
        if (!st->rootless)
                return register_on_host(st, e);
        /* Without root, only what the host registered already: the
         * container's user namespace has no binfmt_misc of its own here,
         * and the kernel looks in its parent's. */
        char name[64];
        bool usable = false;
        snprintf(name, sizeof(name), "qemu-%s", b->arch->qemu);
        if (host_entry(name, &usable) == 0 && usable) {
                EXPLAIN("%s/%s: the host's registration, enabled, with F — the container's user namespace "
                        "has no binfmt_misc of its own on this kernel, and sees it",
                        host_dir, name);
                return 0;
        }
        roost_error_set(e, 0,
                        "running %s programs needs %s registered with binfmt_misc, and without root only the "
                        "host can do that on this kernel (before 6.7, no binfmt_misc per user namespace): as "
                        "root, launch --arch %s once, or register it with the F flag (update-binfmts, "
                        "systemd-binfmt)",
                        b->arch->alpine, name, b->arch->alpine);
        return -EPERM;
}

int binfmt_register(const struct run_state *st, int rootfd, roost_error *e)
{
        const struct binfmt *b = &st->binfmt;
        const unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        _cleanup_close_ int mfd = -1, reg = -1;
        char line[2048];
        int r;

        if (!b->arch || !b->in_userns)
                return 0;
        if ((r = registration(b, line, sizeof(line))) < 0)
                return roost_error_set(e, r, "the interpreter %s", b->interpreter);
        if (explaining())
                explain_fs("binfmt_misc", NULL, attrs, "/proc/sys/fs/binfmt_misc",
                           "the container's user namespace's own instance (Linux 6.7): what is registered "
                           "there is seen by its processes alone, and goes with the last of them; filled "
                           "while detached");
        if ((r = fs_mount("binfmt_misc", NULL, 0, attrs, &mfd, e)) < 0)
                return r;
        if ((reg = openat(mfd, "register", O_WRONLY | O_CLOEXEC)) < 0)
                return roost_error_set(e, -errno, "opening the container's binfmt_misc register");
        EXPLAIN("write(\"register\", \"%s\") — F: the kernel opens %s now, from the host's tree, still this "
                "mount namespace's root before pivot_root: qemu is never copied into the tree; P: argv[0] "
                "passes as it is; O: qemu is handed the program's fd",
                line, b->interpreter);
        if ((r = write_all(reg, line, strlen(line))) < 0)
                return roost_error_set(e, r, "registering %s with the container's binfmt_misc",
                                       b->interpreter);
        /* Attached, or the instance and its entry would go with the fd. */
        return attach_at(mfd, rootfd, "proc/sys/fs/binfmt_misc", true, e);
}
