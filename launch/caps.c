/* Capabilities: docker's default set, adjusted by --cap-add/--cap-drop, in
 * the bounding, permitted and effective sets; inheritable and ambient
 * empty, so nothing is handed on to the command's children except through
 * the bounding set. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "common/util.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

static const char *const cap_names[] = {
        [CAP_CHOWN] = "CHOWN",
        [CAP_DAC_OVERRIDE] = "DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "DAC_READ_SEARCH",
        [CAP_FOWNER] = "FOWNER",
        [CAP_FSETID] = "FSETID",
        [CAP_KILL] = "KILL",
        [CAP_SETGID] = "SETGID",
        [CAP_SETUID] = "SETUID",
        [CAP_SETPCAP] = "SETPCAP",
        [CAP_LINUX_IMMUTABLE] = "LINUX_IMMUTABLE",
        [CAP_NET_BIND_SERVICE] = "NET_BIND_SERVICE",
        [CAP_NET_BROADCAST] = "NET_BROADCAST",
        [CAP_NET_ADMIN] = "NET_ADMIN",
        [CAP_NET_RAW] = "NET_RAW",
        [CAP_IPC_LOCK] = "IPC_LOCK",
        [CAP_IPC_OWNER] = "IPC_OWNER",
        [CAP_SYS_MODULE] = "SYS_MODULE",
        [CAP_SYS_RAWIO] = "SYS_RAWIO",
        [CAP_SYS_CHROOT] = "SYS_CHROOT",
        [CAP_SYS_PTRACE] = "SYS_PTRACE",
        [CAP_SYS_PACCT] = "SYS_PACCT",
        [CAP_SYS_ADMIN] = "SYS_ADMIN",
        [CAP_SYS_BOOT] = "SYS_BOOT",
        [CAP_SYS_NICE] = "SYS_NICE",
        [CAP_SYS_RESOURCE] = "SYS_RESOURCE",
        [CAP_SYS_TIME] = "SYS_TIME",
        [CAP_SYS_TTY_CONFIG] = "SYS_TTY_CONFIG",
        [CAP_MKNOD] = "MKNOD",
        [CAP_LEASE] = "LEASE",
        [CAP_AUDIT_WRITE] = "AUDIT_WRITE",
        [CAP_AUDIT_CONTROL] = "AUDIT_CONTROL",
        [CAP_SETFCAP] = "SETFCAP",
        [CAP_MAC_OVERRIDE] = "MAC_OVERRIDE",
        [CAP_MAC_ADMIN] = "MAC_ADMIN",
        [CAP_SYSLOG] = "SYSLOG",
        [CAP_WAKE_ALARM] = "WAKE_ALARM",
        [CAP_BLOCK_SUSPEND] = "BLOCK_SUSPEND",
        [CAP_AUDIT_READ] = "AUDIT_READ",
        [38] = "PERFMON",
        [39] = "BPF",
        [40] = "CHECKPOINT_RESTORE",
};

static const char *const cap_full_names[] = {
#define N(x) [CAP_##x] = "CAP_" #x
        N(CHOWN),
        N(DAC_OVERRIDE),
        N(DAC_READ_SEARCH),
        N(FOWNER),
        N(FSETID),
        N(KILL),
        N(SETGID),
        N(SETUID),
        N(SETPCAP),
        N(LINUX_IMMUTABLE),
        N(NET_BIND_SERVICE),
        N(NET_BROADCAST),
        N(NET_ADMIN),
        N(NET_RAW),
        N(IPC_LOCK),
        N(IPC_OWNER),
        N(SYS_MODULE),
        N(SYS_RAWIO),
        N(SYS_CHROOT),
        N(SYS_PTRACE),
        N(SYS_PACCT),
        N(SYS_ADMIN),
        N(SYS_BOOT),
        N(SYS_NICE),
        N(SYS_RESOURCE),
        N(SYS_TIME),
        N(SYS_TTY_CONFIG),
        N(MKNOD),
        N(LEASE),
        N(AUDIT_WRITE),
        N(AUDIT_CONTROL),
        N(SETFCAP),
        N(MAC_OVERRIDE),
        N(MAC_ADMIN),
        N(SYSLOG),
        N(WAKE_ALARM),
        N(BLOCK_SUSPEND),
        N(AUDIT_READ),
#undef N
        [38] = "CAP_PERFMON",
        [39] = "CAP_BPF",
        [40] = "CAP_CHECKPOINT_RESTORE",
};

#define CAP_BIT(c) (UINT64_C(1) << (c))

int sandbox_parse_cap(const char *name, int *ret)
{
        if (!name || !*name)
                return -EINVAL;
        if (strcasecmp(name, "ALL") == 0) {
                *ret = -1;
                return 0;
        }
        if (strncasecmp(name, "CAP_", 4) == 0)
                name += 4;
        for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
                if (cap_names[i] && strcasecmp(name, cap_names[i]) == 0) {
                        *ret = (int)i;
                        return 0;
                }
        return -EINVAL;
}

const char *sandbox_cap_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ELEMENTSOF(cap_full_names))
                return NULL;
        return cap_full_names[cap];
}

uint64_t sandbox_caps_default(void)
{
        return CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_FOWNER) |
               CAP_BIT(CAP_MKNOD) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_SETUID) |
               CAP_BIT(CAP_SETFCAP) | CAP_BIT(CAP_SETPCAP) | CAP_BIT(CAP_NET_BIND_SERVICE) |
               CAP_BIT(CAP_SYS_CHROOT) | CAP_BIT(CAP_KILL) | CAP_BIT(CAP_AUDIT_WRITE);
}

/* Every capability the running kernel knows: asking for one it does not
 * would make capset fail. */
static uint64_t caps_known(void)
{
        int last = cap_max_bits() - 1;
        if (last < 0 || last > 63)
                last = CAP_LAST_CAP;
        return last >= 63 ? UINT64_MAX : CAP_BIT(last + 1) - 1;
}

uint64_t sandbox_caps(const struct sandbox_config *c)
{
        if (c->privileged)
                return caps_known();
        uint64_t s = c->cap_drop_all ? 0 : sandbox_caps_default();
        s &= ~c->cap_drop;
        s |= c->cap_add;
        return s & caps_known();
}

/* The set this process's bounding set was last cut to. PID 1 cuts it
 * before it starts the command, whose process (a CLONE_VM child, or a
 * fork) inherits the set and this note with it: one pass, not two (each
 * drop commits new credentials, and reading each back with
 * PR_CAPBSET_READ would cost more than the drops). The note holds only as
 * long as no new user namespace gives a process a whole bounding set
 * again: nothing between the cut and the command's execve makes one. */
static uint64_t bound_done = UINT64_MAX;

/* Cut the bounding set down to KEEP. EINVAL marks the end of what this
 * kernel knows. */
static int bound_cut(uint64_t keep, roost_error *e)
{
        if (bound_done == keep)
                return 0;
        for (int cap = 0; cap < 64; cap++) {
                if (keep & CAP_BIT(cap))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
                        if (errno == EINVAL)
                                break;
                        return roost_error_set(e, -errno, "dropping %s from the bounding set",
                                               sandbox_cap_name(cap) ?: "a capability");
                }
        }
        bound_done = keep;
        return 0;
}

int sandbox_caps_bound(const struct sandbox_config *c, roost_error *e)
{
        if (c->privileged)
                return 0;
        return bound_cut(sandbox_caps(c), e);
}

/* Raw capget/capset/prctl rather than libcap's cap_t here: this runs in
 * the container's process on every launch, and libcap's allocations and
 * first-use set-up cost more than the calls themselves. */
static int caps_get(uint64_t *ret_effective, uint64_t *ret_permitted, uint64_t *ret_inheritable, roost_error *e)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) < 0)
                return roost_error_set(e, -errno, "reading capabilities");
        *ret_effective = d[0].effective | (uint64_t)d[1].effective << 32;
        *ret_permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
        *ret_inheritable = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
        return 0;
}

/* Effective and permitted WANT, inheritable INH. An empty inheritable set
 * empties the ambient set too, which would otherwise survive execve into
 * an unprivileged command: the kernel keeps only the ambient capabilities
 * that stay both permitted and inheritable (one credential commit fewer
 * than PR_CAP_AMBIENT_CLEAR_ALL). */
static int caps_set(uint64_t want, uint64_t inh, roost_error *e)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {
                { .effective = (uint32_t)want, .permitted = (uint32_t)want, .inheritable = (uint32_t)inh },
                { .effective = (uint32_t)(want >> 32),
                  .permitted = (uint32_t)(want >> 32),
                  .inheritable = (uint32_t)(inh >> 32) },
        };
        if (syscall(SYS_capset, &h, d) < 0)
                return roost_error_set(e, -errno, "setting capabilities");
        return 0;
}

int sandbox_caps_limit(uint64_t keep, roost_error *e)
{
        uint64_t effective, permitted, inheritable;
        int r = caps_get(&effective, &permitted, &inheritable, e);
        return r < 0 ? r : caps_set(keep & permitted, keep & inheritable, e);
}

int sandbox_caps_inherit(uint64_t inh, roost_error *e)
{
        uint64_t effective, permitted, inheritable;
        int r = caps_get(&effective, &permitted, &inheritable, e);
        return r < 0 ? r : caps_set(permitted, inh & permitted, e);
}

int sandbox_caps_apply(const struct sandbox_config *c, roost_error *e)
{
        uint64_t keep = sandbox_caps(c), effective, permitted, inheritable;
        int r = caps_get(&effective, &permitted, &inheritable, e);
        if (r < 0)
                return r;
        /* The bounding set first: cutting it needs CAP_SETPCAP, which the
         * new set may not keep. */
        if ((effective & CAP_BIT(CAP_SETPCAP)) && (r = bound_cut(keep, e)) < 0)
                return r;
        return caps_set(keep & permitted, 0, e);
}
