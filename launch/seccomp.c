/* The default seccomp filter: what docker's default profile denies, as a
 * deny list on top of "allow" (the calls a container has no business
 * making: kernel modules, kexec, reboot, swap, the clock, the keyrings,
 * bpf, perf, userfaultfd, io_uring, new namespaces and mounts without
 * CAP_SYS_ADMIN, opening file handles, terminal injection, vsock and kernel
 * crypto sockets, personalities outside docker's short list).
 * Denied calls fail with EPERM, as under docker, so that programs take
 * their usual "not permitted" path; clone3 fails with ENOSYS because its
 * flags sit in memory a filter cannot read, and ENOSYS makes the C
 * library fall back to clone, whose flags it can.
 *
 * The filter covers the native x86_64 entry points and the x32 and i386
 * ones: a process could otherwise reach a denied call through int 0x80
 * or the x32 bit. Other architectures are killed outright. On i386,
 * socketcall(2) stays open (see rules_add).
 *
 * libseccomp takes about 0.7 ms to compile this filter for three
 * architectures, more than the whole hardening may cost a launch. The
 * default case (no capability that unlocks a call) is therefore compiled
 * once at build time by launch/seccomp-gen, with this very code, into
 * launch/seccomp-default.c; other cap sets are compiled at launch. A unit
 * test checks the two are the same filter. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include "common/util.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))
#define NEVER      0 /* no capability unlocks it */

/* A call and the capabilities any one of which lets it through, as in
 * docker's profile (a container given CAP_SYS_TIME may set the clock). */
static const struct {
        const char *name;
        uint64_t unless;
} denied[] = {
        /* kernel modules */
        { "init_module", CAP_BIT(CAP_SYS_MODULE) },
        { "finit_module", CAP_BIT(CAP_SYS_MODULE) },
        { "delete_module", CAP_BIT(CAP_SYS_MODULE) },
        { "create_module", NEVER },
        { "query_module", NEVER },
        { "get_kernel_syms", NEVER },
        /* replacing or stopping the kernel */
        { "kexec_load", CAP_BIT(CAP_SYS_BOOT) },
        { "kexec_file_load", CAP_BIT(CAP_SYS_BOOT) },
        { "reboot", CAP_BIT(CAP_SYS_BOOT) },
        /* swap */
        { "swapon", CAP_BIT(CAP_SYS_ADMIN) },
        { "swapoff", CAP_BIT(CAP_SYS_ADMIN) },
        /* the clock is not namespaced */
        { "settimeofday", CAP_BIT(CAP_SYS_TIME) },
        { "stime", CAP_BIT(CAP_SYS_TIME) },
        { "clock_settime", CAP_BIT(CAP_SYS_TIME) },
        { "clock_settime64", CAP_BIT(CAP_SYS_TIME) },
        { "clock_adjtime", CAP_BIT(CAP_SYS_TIME) },
        { "clock_adjtime64", CAP_BIT(CAP_SYS_TIME) },
        /* the keyrings are not namespaced either */
        { "add_key", NEVER },
        { "keyctl", NEVER },
        { "request_key", NEVER },
        /* large kernel attack surface */
        { "bpf", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(39 /* CAP_BPF */) },
        { "perf_event_open", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(38 /* CAP_PERFMON */) },
        { "userfaultfd", NEVER },
        /* io_uring: a ring's operations are no system calls, so no filter
         * sees them, and it has been a steady source of kernel exploits;
         * docker's profile refuses it since 25. */
        { "io_uring_setup", NEVER },
        { "io_uring_enter", NEVER },
        { "io_uring_register", NEVER },
        { "lookup_dcookie", CAP_BIT(CAP_SYS_ADMIN) },
        { "fanotify_init", CAP_BIT(CAP_SYS_ADMIN) },
        { "quotactl", CAP_BIT(CAP_SYS_ADMIN) },
        { "quotactl_fd", CAP_BIT(CAP_SYS_ADMIN) },
        /* mounts and namespaces: escaping the container's view */
        { "mount", CAP_BIT(CAP_SYS_ADMIN) },
        { "umount", CAP_BIT(CAP_SYS_ADMIN) },
        { "umount2", CAP_BIT(CAP_SYS_ADMIN) },
        { "pivot_root", CAP_BIT(CAP_SYS_ADMIN) },
        { "fsopen", CAP_BIT(CAP_SYS_ADMIN) },
        { "fsconfig", CAP_BIT(CAP_SYS_ADMIN) },
        { "fsmount", CAP_BIT(CAP_SYS_ADMIN) },
        { "fspick", CAP_BIT(CAP_SYS_ADMIN) },
        { "move_mount", CAP_BIT(CAP_SYS_ADMIN) },
        { "open_tree", CAP_BIT(CAP_SYS_ADMIN) },
        { "mount_setattr", CAP_BIT(CAP_SYS_ADMIN) },
        { "setns", CAP_BIT(CAP_SYS_ADMIN) },
        { "unshare", CAP_BIT(CAP_SYS_ADMIN) },
        /* File handles bypass the mount namespace (the "shocker" escape):
         * given a volume, opening a handle made up for the root of its file
         * system reaches all of the host's. docker lets CAP_DAC_READ_SEARCH
         * through; here only --privileged or --seccomp=unconfined do. Making
         * a handle does not open anything. */
        { "open_by_handle_at", NEVER },
        { "name_to_handle_at", CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_DAC_READ_SEARCH) },
        /* reading other processes' memory, raw I/O, accounting, NUMA */
        { "process_vm_readv", CAP_BIT(CAP_SYS_PTRACE) },
        { "process_vm_writev", CAP_BIT(CAP_SYS_PTRACE) },
        { "kcmp", CAP_BIT(CAP_SYS_PTRACE) },
        { "iopl", CAP_BIT(CAP_SYS_RAWIO) },
        { "ioperm", CAP_BIT(CAP_SYS_RAWIO) },
        { "acct", CAP_BIT(CAP_SYS_PACCT) },
        { "syslog", CAP_BIT(CAP_SYSLOG) },
        { "mbind", CAP_BIT(CAP_SYS_NICE) },
        { "set_mempolicy", CAP_BIT(CAP_SYS_NICE) },
        { "move_pages", CAP_BIT(CAP_SYS_NICE) },
        { "migrate_pages", CAP_BIT(CAP_SYS_NICE) },
        /* obsolete */
        { "nfsservctl", NEVER },
        { "uselib", NEVER },
        { "ustat", NEVER },
        { "sysfs", NEVER },
        { "_sysctl", NEVER },
        { "vm86", NEVER },
        { "vm86old", NEVER },
};

/* clone flags that make new namespaces (docker's 0x7E020000). */
static const uint64_t clone_ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

#define TIOCSTI_NR   0x5412 /* push a byte into a terminal's input */
#define TIOCLINUX_NR 0x541C /* console tricks, among them selection paste */
#define AF_VSOCK_NR  40
#define AF_ALG_NR    38
/* The type bits socket(2) accepts: SOCK_TYPE_MASK, SOCK_NONBLOCK and
 * SOCK_CLOEXEC (x86's values); any other fails with EINVAL before the
 * family is looked at. */
#define SOCK_TYPE_VALID 0x8080f

/* personality(2) values docker's profile allows: PER_LINUX (0), the bits
 * below in any combination, and 0xffffffff, which only asks. The rest
 * (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, other execution domains) is
 * refused. */
#define PER_FREE_BITS (0x0008 /* PER_LINUX32 */ | 0x20000 /* UNAME26 */)

static void ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static bool filter_wanted(const struct sandbox_config *c)
{
        return !c->privileged && !c->seccomp_unconfined;
}

/* Add one rule; a call this kernel's headers or libseccomp do not know
 * on any of the architectures is simply absent and needs no rule. */
static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
               const struct scmp_arg_cmp *args)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0;
        int r = seccomp_rule_add_array(ctx, action, nr, n, args);
        /* -EDOM/-EINVAL: the call exists on none of the filter's
         * architectures in a form a rule can name; nothing to deny. */
        if (r == -EDOM)
                return 0;
        return r;
}

/* A context for ARCH alone (0: the native one), with the attributes
 * every part of the filter shares (seccomp_merge requires them equal). */
static int ctx_new(uint32_t arch, scmp_filter_ctx *ret)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;
        if (!ctx)
                return -ENOMEM;
        /* The filter is only complete if every way into the kernel this CPU
         * offers goes through it; anything else is killed. */
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0)
                return r;
        /* A binary tree of syscall numbers rather than a list: the kernel
         * runs the filter for every call, and at load time once per
         * syscall number and architecture to find the calls it may allow
         * without running it, so the filter's depth is paid on every
         * launch. */
        if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
                return r;
        if (arch) {
                if ((r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE)) < 0 ||
                    (r = seccomp_arch_add(ctx, arch)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int rules_add(scmp_filter_ctx ctx, uint64_t caps, bool i386, roost_error *e)
{
        uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
        int r;

        for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
                if (caps & denied[i].unless)
                        continue;
                if ((r = add(ctx, eperm, denied[i].name, 0, NULL)) < 0)
                        return roost_error_set(e, r, "seccomp rule for %s", denied[i].name);
        }

        if (!(caps & CAP_BIT(CAP_SYS_ADMIN))) {
                /* One rule per flag: a filter compares, it cannot test
                 * "any of these bits". The flags are the first argument on
                 * x86 (s390 differs, and is not covered here). */
                for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++) {
                        struct scmp_arg_cmp a =
                                SCMP_A0(SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]);
                        if ((r = add(ctx, eperm, "clone", 1, &a)) < 0)
                                return roost_error_set(e, r, "seccomp rule for clone");
                }
                if ((r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL)) < 0)
                        return roost_error_set(e, r, "seccomp rule for clone3");
        }

        /* The kernel reads only the low 32 bits of an ioctl request and of a
         * socket family; comparing the whole register would let 0x1_00005412
         * through, so the comparison is masked. */
        static const uint32_t ioctls[] = { TIOCSTI_NR, TIOCLINUX_NR };
        for (size_t i = 0; i < ELEMENTSOF(ioctls); i++) {
                struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i]);
                if ((r = add(ctx, eperm, "ioctl", 1, &a)) < 0)
                        return roost_error_set(e, r, "seccomp rule for ioctl");
        }
        /* On i386, libseccomp copies a socket rule onto socketcall(2)
         * (SYS_SOCKET), whose arguments sit in memory, keeping all but the
         * first comparison: a rule on the family alone would refuse every
         * socketcall socket, and 32-bit musl (Alpine's x86 images) makes
         * all its sockets that way. So the i386 rule also asks for a type
         * the kernel accepts, as every socket(2) that makes a socket has.
         * In the copy that comparison falls on socketcall's pointer to its
         * arguments, which would have to lie in the first 0x80810 bytes of
         * memory to match, where no C library puts them (and a match only
         * refuses more). socketcall stays open, as in docker's profile;
         * the direct socket(2) of i386 (Linux 4.3) is checked. */
        static const uint32_t families[] = { AF_VSOCK_NR, AF_ALG_NR };
        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                struct scmp_arg_cmp a[] = {
                        SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, families[i]),
                        SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu & ~SOCK_TYPE_VALID, 0),
                };
                if ((r = add(ctx, eperm, "socket", i386 ? 2 : 1, a)) < 0)
                        return roost_error_set(e, r, "seccomp rule for socket");
        }

        /* personality: "none of the allowed values" in rules that may
         * compare an argument once each. For each bit c: c is 0 and the
         * next bit outside PER_FREE_BITS, going round the word, is 1. Each
         * rule asks for a bit outside them set, which no allowed
         * combination has, and for a 0, which 0xffffffff has not; any
         * other value has a 0 followed so by a 1. Only the low 32 bits
         * count, as the kernel reads no more. About 100 instructions,
         * shared by the three architectures, which only personality's
         * number reaches. */
        for (unsigned c = 0; c < 32; c++) {
                unsigned b = c;
                do
                        b = (b + 1) % 32;
                while (PER_FREE_BITS & (UINT32_C(1) << b));
                struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, (UINT32_C(1) << c) | (UINT32_C(1) << b),
                                                UINT32_C(1) << b);
                if ((r = add(ctx, eperm, "personality", 1, &a)) < 0)
                        return roost_error_set(e, r, "seccomp rule for personality");
        }
        return 0;
}

static int filter_build(const struct sandbox_config *c, scmp_filter_ctx *ret, roost_error *e)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL, ctx32 = NULL;
        uint64_t caps = sandbox_caps(c);
        int r;

        if ((r = ctx_new(0, &ctx)) < 0)
                return roost_error_set(e, r, "building the seccomp filter");
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                if ((r = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && r != -EEXIST)
                        return roost_error_set(e, r, "adding x32 to the seccomp filter");
        }
        if ((r = rules_add(ctx, caps, false, e)) < 0)
                return r;
        if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
                *ret = TAKE_PTR(ctx);
                return 0;
        }

        /* i386 in a context of its own: its socket rules differ (see
         * rules_add). */
        if ((r = ctx_new(SCMP_ARCH_X86, &ctx32)) < 0)
                return roost_error_set(e, r, "adding i386 to the seccomp filter");
        if ((r = rules_add(ctx32, caps, true, e)) < 0)
                return r;
        if ((r = seccomp_merge(ctx, ctx32)) < 0)
                return roost_error_set(e, r, "adding i386 to the seccomp filter");
        ctx32 = NULL; /* merge released it */
        *ret = TAKE_PTR(ctx);
        return 0;
}

#ifndef ROOST_SECCOMP_GEN
/* Every capability that changes the filter. */
static uint64_t unlocking_caps(void)
{
        uint64_t m = CAP_BIT(CAP_SYS_ADMIN);
        for (size_t i = 0; i < ELEMENTSOF(denied); i++)
                m |= denied[i].unless;
        return m;
}

static bool use_precompiled(const struct sandbox_config *c)
{
        return sandbox_seccomp_default_len > 0 && !(sandbox_caps(c) & unlocking_caps());
}
#endif

int sandbox_seccomp_export_built(const struct sandbox_config *c, int fd, roost_error *e)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        int r;
        if (!filter_wanted(c))
                return 0;
        if ((r = filter_build(c, &ctx, e)) < 0)
                return r;
        if ((r = seccomp_export_bpf(ctx, fd)) < 0)
                return roost_error_set(e, r, "exporting the seccomp filter");
        return 0;
}

int sandbox_seccomp_load(const struct sandbox_config *c, roost_error *e)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        int r;
        if (!filter_wanted(c))
                return 0;
        /* Loading a filter without CAP_SYS_ADMIN needs no_new_privs, and
         * the filter is only worth having with it. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return roost_error_set(e, -errno, "setting no_new_privs");
#ifndef ROOST_SECCOMP_GEN
        if (use_precompiled(c)) {
                struct sock_fprog prog = {
                        .len = (unsigned short)sandbox_seccomp_default_len,
                        .filter = (struct sock_filter *)sandbox_seccomp_default,
                };
                if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                        return roost_error_set(e, -errno, "loading the seccomp filter");
                return 0;
        }
#endif
        if ((r = filter_build(c, &ctx, e)) < 0)
                return r;
        if ((r = seccomp_load(ctx)) < 0)
                return roost_error_set(e, r, "loading the seccomp filter");
        return 0;
}

int sandbox_seccomp_export(const struct sandbox_config *c, int fd, roost_error *e)
{
#ifndef ROOST_SECCOMP_GEN
        if (filter_wanted(c) && use_precompiled(c)) {
                int r = write_all(fd, sandbox_seccomp_default,
                                  sandbox_seccomp_default_len * sizeof(struct sock_filter));
                return r < 0 ? roost_error_set(e, r, "exporting the seccomp filter") : 0;
        }
#endif
        return sandbox_seccomp_export_built(c, fd, e);
}

int sandbox_seccomp_instructions(const struct sandbox_config *c, size_t *ret, roost_error *e)
{
        _cleanup_close_ int fd = memfd_create("roost-seccomp", MFD_CLOEXEC);
        struct stat st;
        int r;
        if (fd < 0)
                return roost_error_set(e, -errno, "memfd for the seccomp filter");
        if ((r = sandbox_seccomp_export(c, fd, e)) < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return roost_error_set(e, -errno, "sizing the seccomp filter");
        *ret = (size_t)st.st_size / sizeof(struct sock_filter);
        return 0;
}
