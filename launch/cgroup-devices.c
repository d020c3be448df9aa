/* The device allow-list of a container's cgroup: which device nodes it
 * may open, wherever the node comes from (its /dev, a devtmpfs it mounts
 * with CAP_SYS_ADMIN, a node it makes with CAP_MKNOD). nodev on the file
 * systems launch mounts stops the nodes the container makes; only the
 * cgroup stops the ones the kernel makes for it in a devtmpfs, or any file
 * system it may mount itself.
 *
 * The list is docker's default one, less /dev/console and /dev/net/tun,
 * which roost's /dev does not have: mknod of any node (as under docker,
 * the node then opens nothing), then null, zero, full, random, urandom,
 * tty, ptmx and the terminals of the container's devpts; plus the device
 * volumes. Where the unified hierarchy is mounted it is a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup above the
 * container's (written here by hand: fifty-odd instructions need neither
 * libbpf nor a compiler); elsewhere the v1 devices controller's lines
 * (devices.deny "a", then one devices.allow line per entry). */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

#define ANY (-1)
static const struct {
        char type;
        int major, minor;
        const char *access;
} defaults[] = {
        { 'c', ANY, ANY, "m" }, { 'b', ANY, ANY, "m" },   { 'c', 1, 3, "rwm" }, { 'c', 1, 5, "rwm" },
        { 'c', 1, 7, "rwm" },   { 'c', 1, 8, "rwm" },     { 'c', 1, 9, "rwm" }, { 'c', 5, 0, "rwm" },
        { 'c', 5, 2, "rwm" },   { 'c', 136, ANY, "rwm" },
};

static void number(char *buf, size_t n, int v)
{
        if (v == ANY)
                snprintf(buf, n, "*");
        else
                snprintf(buf, n, "%d", v);
}

/* Entry I of the list (the defaults, then D's devices) as the v1
 * controller spells it, "c 1:3 rwm". False past the end. */
static bool entry(const struct cgroup_devices *d, size_t i, char *buf, size_t n)
{
        char maj[16], min[16];
        if (i < ELEMENTSOF(defaults)) {
                number(maj, sizeof(maj), defaults[i].major);
                number(min, sizeof(min), defaults[i].minor);
                snprintf(buf, n, "%c %s:%s %s", defaults[i].type, maj, min, defaults[i].access);
                return true;
        }
        i -= ELEMENTSOF(defaults);
        if (!d || i >= d->n_extra)
                return false;
        snprintf(buf, n, "%c %u:%u rwm", d->extra[i].type, d->extra[i].major, d->extra[i].minor);
        return true;
}

const char *cgroup_devices_list(const struct cgroup_devices *d, char *buf, size_t n)
{
        size_t len = 0;
        char one[64];
        buf[0] = 0;
        for (size_t i = 0; entry(d, i, one, sizeof(one)) && len < n; i++)
                len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", one);
        return buf;
}

int cgroup_devices_v1_write(const char *dir, const struct cgroup_devices *d, roost_error *e)
{
        char path[PATH_MAX], one[64];
        int r;
        if (snprintf(path, sizeof(path), "%s/devices.deny", dir) >= (int)sizeof(path))
                return roost_error_set(e, -ENAMETOOLONG, "cgroup %s", dir);
        EXPLAIN("write(\"%s\", \"a\") — no device at all, then the allow-list one line at a time", path);
        _cleanup_close_ int deny = open(path, O_WRONLY | O_CLOEXEC);
        if (deny < 0 || (r = write_all(deny, "a", 1)) < 0)
                return roost_error_set(e, deny < 0 ? -errno : r, "writing %s", path);
        snprintf(path, sizeof(path), "%s/devices.allow", dir);
        _cleanup_close_ int allow = open(path, O_WRONLY | O_CLOEXEC);
        if (allow < 0)
                return roost_error_set(e, -errno, "opening %s", path);
        /* One entry per write: the controller parses a write as one. */
        for (size_t i = 0; entry(d, i, one, sizeof(one)); i++) {
                EXPLAIN("write(\"%s\", \"%s\")", path, one);
                if ((r = write_all(allow, one, strlen(one))) < 0)
                        return roost_error_set(e, r, "writing \"%s\" to %s", one, path);
        }
        return 0;
}

/* The program: R1 points at struct bpf_cgroup_dev_ctx. R2 is the access
 * asked for (BPF_DEVCG_ACC_*), R3 the node's type (BPF_DEVCG_DEV_*), R4
 * and R5 its major and minor. One block per entry: any test that fails
 * jumps to the next block, the end of a block returns 1 (allowed); past
 * the last block, 0 (EPERM). */
#define INSN(c, d, s, o, i)                                                                                  \
        ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
enum { PROG_MAX = 8 + 5 * 64 };

static int block(struct bpf_insn *p, char type, int major, int minor, const char *access)
{
        int acc = (strchr(access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) |
                  (strchr(access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
                  (strchr(access, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
        int denied = ~acc & (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
        /* its length first, for the jumps' offsets */
        int len = 1 + (major != ANY) + (minor != ANY) + (denied != 0) + 2, n = 0;
        p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 3, 0, len - n - 1,
                    type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        n++;
        if (major != ANY) {
                p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, len - n - 1, major);
                n++;
        }
        if (minor != ANY) {
                p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, len - n - 1, minor);
                n++;
        }
        if (denied) {
                p[n] = INSN(BPF_JMP | BPF_JSET | BPF_K, 2, 0, len - n - 1, denied);
                n++;
        }
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* Into P (PROG_MAX); returns its length, or -E2BIG for too many devices. */
static int program(const struct cgroup_devices *d, struct bpf_insn *p)
{
        int n = 0;
        if (d && d->n_extra > 64 - ELEMENTSOF(defaults))
                return -E2BIG;
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
        p[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 3, 0, 0, 0xffff);
        p[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 2, 0, 0, 16);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
        p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
        for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                n += block(p + n, defaults[i].type, defaults[i].major, defaults[i].minor, defaults[i].access);
        for (size_t i = 0; d && i < d->n_extra; i++)
                n += block(p + n, d->extra[i].type, (int)d->extra[i].major, (int)d->extra[i].minor, "rwm");
        p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

int cgroup_devices_bpf_attach(int cgfd, const char *dir, const struct cgroup_devices *d, roost_error *e)
{
        struct bpf_insn insns[PROG_MAX];
        int n = program(d, insns);
        if (n < 0)
                return roost_error_set(e, n, "%zu device volumes, the program holds %zu", d->n_extra,
                                       64 - ELEMENTSOF(defaults));
        union bpf_attr load = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (uintptr_t)insns,
                .insn_cnt = (unsigned)n,
                /* only GPL-only helpers care, and it calls none */
                .license = (uintptr_t) "GPL",
        };
        EXPLAIN("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, %d instructions) — the allow-list as a "
                "program the kernel runs at each device open and mknod",
                n);
        _cleanup_close_ int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
        if (prog < 0)
                return roost_error_set(e, -errno, "loading the device program");
        /* ALLOW_MULTI: a program attached below ours, by a container that
         * keeps CAP_SYS_ADMIN in its own cgroup, runs as well as ours and
         * can only refuse more; and above ours (systemd's), the same. */
        union bpf_attr attach = {
                .target_fd = (unsigned)cgfd,
                .attach_bpf_fd = (unsigned)prog,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = BPF_F_ALLOW_MULTI,
        };
        EXPLAIN("bpf(BPF_PROG_ATTACH, \"%s\", BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) — it holds for every "
                "cgroup below",
                dir);
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0)
                return roost_error_set(e, -errno, "attaching the device program to %s", dir);
        return 0;
}
