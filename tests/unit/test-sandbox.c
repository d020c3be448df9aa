/* The sandbox's pieces, each checked where it takes effect: capability
 * names and sets, the seccomp filter loaded in a forked child that then
 * makes the denied calls (and run over made-up calls by a small BPF
 * evaluator), the capability sets and flags the kernel reports
 * in /proc/self/status, the masked paths in a private mount namespace, and
 * the user namespace diagnosis against fake sysctls. Whatever needs root
 * is skipped, saying so, without it. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "tests/probe/int80.h"
#include "common/util.h"
#include "launch/explain.h"
#include "launch/sandbox-private.h"
#include "launch/sandbox.h"

#define BIT(c) (UINT64_C(1) << (c))

/* ---- a forked child reports its first failed check through a pipe ---- */

static char child_msg[2048];
#define CHECK(cond, ...)                                                                                     \
        do {                                                                                                 \
                if (!(cond)) {                                                                               \
                        snprintf(child_msg, sizeof(child_msg), __VA_ARGS__);                                 \
                        return -1;                                                                           \
                }                                                                                            \
        } while (0)

static void run_child(int (*fn)(void *), void *arg)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                child_msg[0] = '\0';
                int r = fn(arg);
                if (r < 0)
                        write_all(p[1], child_msg, strlen(child_msg));
                _exit(r < 0 ? 1 : 0);
        }
        close(p[1]);
        char buf[512] = "";
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        close(p[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (n > 0)
                fail_msg("child: %s", buf);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static bool is_root(void)
{
        return geteuid() == 0;
}

/* A field of /proc/self/status as text ("0000003fffffffff", "1"). */
static int status_field(const char *name, char *out, size_t n)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        size_t l = strlen(name);
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, name, l) == 0 && line[l] == ':') {
                        char *v = line + l + 1;
                        v += strspn(v, " \t");
                        v[strcspn(v, "\n")] = '\0';
                        snprintf(out, n, "%s", v);
                        return 0;
                }
        return -1;
}

static uint64_t status_caps(const char *name)
{
        char v[64] = "";
        status_field(name, v, sizeof(v));
        return strtoull(v, NULL, 16);
}

/* ---- capability names and sets ---- */

static void test_parse_cap(void **state)
{
        int c;
        assert_int_equal(sandbox_parse_cap("NET_ADMIN", &c), 0);
        assert_int_equal(c, CAP_NET_ADMIN);
        assert_int_equal(sandbox_parse_cap("cap_net_admin", &c), 0);
        assert_int_equal(c, CAP_NET_ADMIN);
        assert_int_equal(sandbox_parse_cap("Sys_Admin", &c), 0);
        assert_int_equal(c, CAP_SYS_ADMIN);
        assert_int_equal(sandbox_parse_cap("CAP_CHOWN", &c), 0);
        assert_int_equal(c, CAP_CHOWN);
        assert_int_equal(sandbox_parse_cap("ALL", &c), 0);
        assert_int_equal(c, -1);
        assert_int_equal(sandbox_parse_cap("all", &c), 0);
        assert_int_equal(c, -1);
        assert_int_equal(sandbox_parse_cap("bpf", &c), 0);
        assert_int_equal(c, 39);
        assert_int_equal(sandbox_parse_cap("NET_ADMINX", &c), -EINVAL);
        assert_int_equal(sandbox_parse_cap("CAP_", &c), -EINVAL);
        assert_int_equal(sandbox_parse_cap("", &c), -EINVAL);
        assert_int_equal(sandbox_parse_cap("CAP_ALL", &c), -EINVAL);
        assert_int_equal(sandbox_parse_cap("12", &c), -EINVAL);
        assert_string_equal(sandbox_cap_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
        assert_null(sandbox_cap_name(64));
        assert_null(sandbox_cap_name(-1));
}

static void test_cap_sets(void **state)
{
        struct sandbox_config c = { 0 };
        uint64_t def = sandbox_caps_default();
        assert_int_equal(__builtin_popcountll(def), 14);
        assert_true(def & BIT(CAP_NET_BIND_SERVICE));
        assert_false(def & BIT(CAP_SYS_ADMIN));
        assert_false(def & BIT(CAP_NET_ADMIN));
        assert_true(sandbox_caps(&c) == def);

        c.cap_drop = BIT(CAP_CHOWN) | BIT(CAP_NET_RAW);
        c.cap_add = BIT(CAP_NET_ADMIN);
        assert_true(sandbox_caps(&c) == ((def & ~(BIT(CAP_CHOWN) | BIT(CAP_NET_RAW))) | BIT(CAP_NET_ADMIN)));

        struct sandbox_config only = { .cap_drop_all = true, .cap_add = BIT(CAP_KILL) };
        assert_true(sandbox_caps(&only) == BIT(CAP_KILL));

        /* --cap-add ALL: no more than the kernel knows. */
        struct sandbox_config all = { .cap_add = UINT64_MAX };
        int last = cap_max_bits() - 1;
        assert_true(sandbox_caps(&all) == (BIT(last + 1) - 1));
        struct sandbox_config priv = { .privileged = true, .cap_drop_all = true };
        assert_true(sandbox_caps(&priv) == (BIT(last + 1) - 1));
}

/* ---- the seccomp filter ---- */

static void test_filter_size(void **state)
{
        struct sandbox_config def = { 0 }, admin = { .cap_add = BIT(CAP_SYS_ADMIN) };
        struct sandbox_config unconf = { .seccomp_unconfined = true }, priv = { .privileged = true };
        size_t n_def = 0, n_admin = 0, n = 99;
        assert_int_equal(sandbox_seccomp_instructions(&def, &n_def, NULL), 0);
        assert_int_equal(sandbox_seccomp_instructions(&admin, &n_admin, NULL), 0);
        /* Three architectures, about sixty calls: a real filter, and the
         * mount/namespace rules go away with CAP_SYS_ADMIN. */
        assert_true(n_def > 100);
        assert_true(n_def < 4096); /* BPF_MAXINSNS */
        assert_true(n_admin < n_def);
        assert_int_equal(sandbox_seccomp_instructions(&unconf, &n, NULL), 0);
        assert_int_equal(n, 0);
        n = 99;
        assert_int_equal(sandbox_seccomp_instructions(&priv, &n, NULL), 0);
        assert_int_equal(n, 0);
}

/* The filter compiled at build time is the one libseccomp compiles now
 * from launch/seccomp.c: a stale launch/seccomp-default.c fails here. */
static void test_precompiled_matches(void **state)
{
        struct sandbox_config c = { 0 };
        _cleanup_close_ int a = memfd_create("a", MFD_CLOEXEC), b = memfd_create("b", MFD_CLOEXEC);
        struct stat sa, sb;
        assert_int_equal(sandbox_seccomp_export(&c, a, NULL), 0);
        assert_int_equal(sandbox_seccomp_export_built(&c, b, NULL), 0);
        assert_int_equal(fstat(a, &sa), 0);
        assert_int_equal(fstat(b, &sb), 0);
        assert_int_equal(sa.st_size, sb.st_size);
        assert_int_equal((size_t)sa.st_size, sandbox_seccomp_default_len * sizeof(struct sock_filter));
        _cleanup_free_ char *x = malloc((size_t)sa.st_size), *y = malloc((size_t)sb.st_size);
        assert_int_equal(pread(a, x, (size_t)sa.st_size, 0), sa.st_size);
        assert_int_equal(pread(b, y, (size_t)sb.st_size, 0), sb.st_size);
        assert_memory_equal(x, y, (size_t)sa.st_size);
        /* --cap-drop of a default capability keeps the precompiled filter
         * valid; --cap-add SYS_TIME changes it, and is compiled at once. */
        struct sandbox_config t = { .cap_add = BIT(CAP_SYS_TIME) };
        size_t n_def = 0, n_time = 0;
        assert_int_equal(sandbox_seccomp_instructions(&c, &n_def, NULL), 0);
        assert_int_equal(sandbox_seccomp_instructions(&t, &n_time, NULL), 0);
        assert_int_not_equal(n_def, n_time);
}

#define DENIED(call, err)                                                                                    \
        CHECK((call) < 0 && errno == (err), "%s: want %s, got %s", #call, #err,                              \
              errno ? strerror(errno) : "success")

/* The calls the default filter must stop, with arguments harmless should
 * it let them through. */
static int denied_calls(void)
{
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        char c = 'x';
        CHECK(null >= 0, "opening /dev/null");
        errno = 0;
        CHECK(syscall(SYS_getpid) == getpid(), "getpid");
        DENIED(unshare(CLONE_NEWNS), EPERM);
        DENIED(unshare(CLONE_NEWUSER), EPERM);
        DENIED(syscall(SYS_kexec_load, 0, 0, NULL, 0x100), EPERM);
        DENIED(syscall(SYS_keyctl, 0, -3, 0), EPERM);
        DENIED(syscall(SYS_bpf, -1, NULL, 0), EPERM);
        DENIED(syscall(SYS_userfaultfd, O_CLOEXEC), EPERM);
        DENIED(syscall(SYS_mount, "none", "/nonexistent-roost", "tmpfs", 0, NULL), EPERM);
        DENIED(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
        DENIED(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, NULL, NULL, 0), EPERM);
        DENIED(syscall(SYS_clone3, NULL, 0), ENOSYS);
        DENIED(ioctl(null, TIOCSTI, &c), EPERM);
        DENIED(syscall(SYS_ioctl, null, 0x100000000UL | TIOCSTI, &c), EPERM);
        DENIED(ioctl(null, TIOCLINUX, &c), EPERM);
        DENIED(socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0), EPERM);
        DENIED(socket(40 /* AF_VSOCK */, SOCK_STREAM, 0), EPERM);
        DENIED(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
        DENIED(syscall(SYS_personality, READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE), EPERM);
        CHECK(syscall(SYS_personality, PER_LINUX32) == PER_LINUX &&
                      syscall(SYS_personality, PER_LINUX) == PER_LINUX32,
              "personality(PER_LINUX32) and back: %s", strerror(errno));
        /* The other ways in: int 0x80 (i386) and the x32 bit. */
        /* A kernel without int 0x80 (int80_works) has no i386 way in. */
        if (int80_works()) {
                DENIED(int80(310 /* i386 unshare */, CLONE_NEWNS, 0, 0), EPERM);
                DENIED(int80(359 /* i386 socket */, 40 /* AF_VSOCK */, SOCK_STREAM, 0), EPERM);
        } else
                fprintf(stderr, "# i386 checks skipped: this kernel has no int 0x80 entry point\n");
        DENIED(syscall(0x40000000 | 272 /* x32 unshare */, CLONE_NEWNS), EPERM);
        /* Still allowed: a plain fork (clone without namespace flags). */
        pid_t p = fork();
        if (p == 0)
                _exit(0);
        CHECK(p > 0, "fork: %s", strerror(errno));
        waitpid(p, NULL, 0);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(s >= 0, "socket(AF_UNIX): %s", strerror(errno));
        close(s);
        if (!int80_works())
                return 0;
        /* 32-bit musl makes its sockets through socketcall(2): that must
         * still work (its arguments are in memory, no family is checked). */
        unsigned *args =
                mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        CHECK(args != MAP_FAILED, "mmap");
        args[0] = AF_UNIX;
        args[1] = SOCK_STREAM;
        args[2] = 0;
        long fd = int80(102 /* i386 socketcall */, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0);
        CHECK(fd >= 0 || (errno != EPERM), "i386 socketcall(SYS_SOCKET, AF_UNIX) denied");
        if (fd >= 0)
                close((int)fd);
        munmap(args, 4096);
        return 0;
}

/* Root with CAP_NET_ADMIN ambient, as a careless caller could hand one on:
 * it must not reach the command. */
static int raise_ambient(void)
{
        cap_t caps = cap_get_proc();
        cap_value_t v = CAP_NET_ADMIN;
        int r = caps && cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET) == 0 && cap_set_proc(caps) == 0 &&
                                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) == 0
                        ? 0
                        : -1;
        cap_free(caps);
        return r;
}

/* launch's order: PID 1 loads the filter, the command's process then
 * cuts its capabilities under it. */
static int apply_as_launch(const struct sandbox_config *c, roost_error *e)
{
        int r = sandbox_seccomp_load(c, e);
        return r < 0 ? r : sandbox_apply(c, e);
}

static int child_default(void *arg)
{
        struct sandbox_config c = { 0 };
        roost_error e = { "" };
        char v[64];
        if (is_root()) {
                CHECK(raise_ambient() == 0, "raising an ambient capability: %s", strerror(errno));
                CHECK(status_caps("CapAmb") == BIT(CAP_NET_ADMIN), "CapAmb before");
        }
        CHECK(apply_as_launch(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_field("NoNewPrivs", v, sizeof(v)) == 0 && strcmp(v, "1") == 0, "NoNewPrivs %s", v);
        CHECK(status_field("Seccomp", v, sizeof(v)) == 0 && strcmp(v, "2") == 0, "Seccomp %s", v);
        CHECK(status_caps("CapInh") == 0, "CapInh not empty");
        CHECK(status_caps("CapAmb") == 0, "CapAmb not empty");
        if (is_root()) {
                uint64_t def = sandbox_caps_default();
                CHECK(status_caps("CapBnd") == def, "CapBnd %llx", (unsigned long long)status_caps("CapBnd"));
                CHECK(status_caps("CapPrm") == def, "CapPrm %llx", (unsigned long long)status_caps("CapPrm"));
                CHECK(status_caps("CapEff") == def, "CapEff %llx", (unsigned long long)status_caps("CapEff"));
        }
        return denied_calls();
}

static void test_apply_default(void **state)
{
        run_child(child_default, NULL);
}

static int child_admin(void *arg)
{
        struct sandbox_config c = { .cap_add = BIT(CAP_SYS_ADMIN) };
        roost_error e = { "" };
        CHECK(apply_as_launch(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_caps("CapEff") == (sandbox_caps_default() | BIT(CAP_SYS_ADMIN)), "CapEff");
        /* CAP_SYS_ADMIN unlocks what docker's profile unlocks with it. */
        CHECK(unshare(CLONE_NEWNS) == 0, "unshare with CAP_SYS_ADMIN: %s", strerror(errno));
        errno = 0;
        CHECK(syscall(SYS_clone3, NULL, 0) < 0 && errno != ENOSYS, "clone3 with CAP_SYS_ADMIN");
        DENIED(syscall(SYS_kexec_load, 0, 0, NULL, 0x100), EPERM);
        return 0;
}

/* docker lets CAP_DAC_READ_SEARCH open file handles, and with a volume
 * that opens the host's whole file system: not here. */
static int child_dac_read_search(void *arg)
{
        struct sandbox_config c = { .cap_add = BIT(CAP_DAC_READ_SEARCH) };
        roost_error e = { "" };
        CHECK(apply_as_launch(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_caps("CapEff") & BIT(CAP_DAC_READ_SEARCH), "CapEff lacks DAC_READ_SEARCH");
        DENIED(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
        return 0;
}

static void test_apply_cap_add(void **state)
{
        if (!is_root())
                skip();
        run_child(child_admin, NULL);
        run_child(child_dac_read_search, NULL);
}

/* launch -u: bounding set cut while root, then the uid switch, then the
 * rest. */
static int child_user(void *arg)
{
        struct sandbox_config c = { 0 };
        roost_error e = { "" };
        char v[64];
        CHECK(raise_ambient() == 0, "raising an ambient capability: %s", strerror(errno));
        CHECK(sandbox_seccomp_load(&c, &e) == 0, "sandbox_seccomp_load: %s", e.msg);
        CHECK(sandbox_caps_bound(&c, &e) == 0, "sandbox_caps_bound: %s", e.msg);
        CHECK(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0, "switching user");
        CHECK(sandbox_apply(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_caps("CapBnd") == sandbox_caps_default(), "CapBnd %llx",
              (unsigned long long)status_caps("CapBnd"));
        CHECK(status_caps("CapEff") == 0 && status_caps("CapPrm") == 0, "a user kept capabilities");
        CHECK(status_caps("CapAmb") == 0, "a user kept an ambient capability");
        CHECK(status_field("Seccomp", v, sizeof(v)) == 0 && strcmp(v, "2") == 0, "Seccomp %s", v);
        return denied_calls();
}

static void test_apply_user(void **state)
{
        if (!is_root())
                skip();
        run_child(child_user, NULL);
}

static int child_unconfined(void *arg)
{
        struct sandbox_config c = { .seccomp_unconfined = true, .cap_drop = BIT(CAP_CHOWN) };
        roost_error e = { "" };
        char v[64];
        CHECK(apply_as_launch(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_field("Seccomp", v, sizeof(v)) == 0 && strcmp(v, "0") == 0, "Seccomp %s", v);
        CHECK(status_field("NoNewPrivs", v, sizeof(v)) == 0 && strcmp(v, "1") == 0, "NoNewPrivs %s", v);
        if (is_root())
                CHECK(status_caps("CapBnd") == (sandbox_caps_default() & ~BIT(CAP_CHOWN)), "CapBnd");
        return 0;
}

static void test_apply_unconfined(void **state)
{
        run_child(child_unconfined, NULL);
}

static int child_privileged(void *arg)
{
        struct sandbox_config c = { .privileged = true };
        roost_error e = { "" };
        char v[64];
        uint64_t bnd = status_caps("CapBnd");
        CHECK(apply_as_launch(&c, &e) == 0, "sandbox_apply: %s", e.msg);
        CHECK(status_field("Seccomp", v, sizeof(v)) == 0 && strcmp(v, "0") == 0, "Seccomp %s", v);
        CHECK(status_field("NoNewPrivs", v, sizeof(v)) == 0 && strcmp(v, "0") == 0, "NoNewPrivs %s", v);
        CHECK(status_caps("CapBnd") == bnd, "CapBnd changed");
        return 0;
}

static void test_apply_privileged(void **state)
{
        run_child(child_privileged, NULL);
}

/* PID 1 before it starts the command: the command's bounding set,
 * no_new_privs even without a filter, undumpable, the command's
 * capabilities (and those switching user takes); once it runs: CAP_KILL
 * alone, still under the filter. --privileged leaves it as it was. */
static int child_init_drop(void *arg)
{
        intptr_t mode = (intptr_t)arg; /* 0 default, 1 privileged, 2 unconfined */
        struct sandbox_config c = { .privileged = mode == 1,
                                    .seccomp_unconfined = mode == 2,
                                    .cap_drop = BIT(CAP_SETUID) };
        roost_error e = { "" };
        char v[64];
        uint64_t eff = status_caps("CapEff");
        CHECK(sandbox_seccomp_load(&c, &e) == 0 && sandbox_init_narrow(&c, &e) == 0, "init narrow: %s",
              e.msg);
        if (c.privileged) {
                CHECK(sandbox_init_drop(&c, &e) == 0, "init drop: %s", e.msg);
                CHECK(status_caps("CapEff") == eff && prctl(PR_GET_DUMPABLE) == 1, "privileged init changed");
                return 0;
        }
        uint64_t want = sandbox_caps(&c) | BIT(CAP_SETUID);
        CHECK(status_caps("CapBnd") == sandbox_caps(&c), "CapBnd %llx",
              (unsigned long long)status_caps("CapBnd"));
        CHECK(status_caps("CapEff") == want, "narrowed CapEff %llx",
              (unsigned long long)status_caps("CapEff"));
        CHECK(status_field("NoNewPrivs", v, sizeof(v)) == 0 && strcmp(v, "1") == 0, "NoNewPrivs %s", v);
        CHECK(prctl(PR_GET_DUMPABLE) == 0, "init is still dumpable");
        CHECK(sandbox_init_drop(&c, &e) == 0, "init drop: %s", e.msg);
        CHECK(status_caps("CapEff") == BIT(CAP_KILL) && status_caps("CapPrm") == BIT(CAP_KILL), "CapEff %llx",
              (unsigned long long)status_caps("CapEff"));
        return mode == 0 ? denied_calls() : 0;
}

static void test_init_drop(void **state)
{
        if (!is_root())
                skip();
        run_child(child_init_drop, (void *)0);
        run_child(child_init_drop, (void *)1);
        run_child(child_init_drop, (void *)2);
}

/* The exported BPF is what gets loaded: load it raw, as a test of the
 * export and of the filter without libseccomp in between. */
static int child_exported(void *arg)
{
        struct sandbox_config c = { 0 };
        roost_error e = { "" };
        _cleanup_close_ int fd = memfd_create("bpf", MFD_CLOEXEC);
        struct stat st;
        CHECK(fd >= 0, "memfd");
        CHECK(sandbox_seccomp_export(&c, fd, &e) == 0, "export: %s", e.msg);
        CHECK(fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size % sizeof(struct sock_filter) == 0,
              "exported size %lld", (long long)st.st_size);
        _cleanup_free_ struct sock_filter *insns = malloc((size_t)st.st_size);
        CHECK(insns && pread(fd, insns, (size_t)st.st_size, 0) == st.st_size, "reading the filter");
        struct sock_fprog prog = { .len = (unsigned short)(st.st_size / sizeof(*insns)), .filter = insns };
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
        CHECK(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0, "loading: %s", strerror(errno));
        DENIED(unshare(CLONE_NEWNS), EPERM);
        DENIED(syscall(SYS_clone3, NULL, 0), ENOSYS);
        DENIED(socket(38, SOCK_SEQPACKET, 0), EPERM);
        return 0;
}

static void test_export_loads(void **state)
{
        run_child(child_exported, NULL);
}

/* ---- the filter run over made-up calls ---- */

/* Calls from an architecture this machine may not offer (i386 without
 * int 0x80) or with arguments no C library passes are checked on the
 * filter itself: launch's BPF, run here over a struct seccomp_data as the
 * kernel would run it. Only the instructions libseccomp emits are known;
 * any other fails the test. */
static uint32_t bpf_run(const struct sock_filter *prog, size_t n, const struct seccomp_data *d)
{
        uint32_t a = 0;
        for (size_t pc = 0; pc < n; pc++) {
                const struct sock_filter *f = &prog[pc];
                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                        assert_true(f->k % 4 == 0 && f->k < sizeof(*d));
                        memcpy(&a, (const char *)d + f->k, sizeof(a));
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= f->k;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += f->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JSET | BPF_K:
                        pc += (a & f->k) ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return f->k;
                default:
                        fail_msg("instruction %zu: opcode 0x%x unknown to this test", pc, f->code);
                }
        }
        fail_msg("the filter ran off its end");
        return 0;
}

struct bpf {
        struct sock_filter *insns;
        size_t n;
};

/* The filter launch loads for C (the precompiled one for the default). */
static struct bpf bpf_of(const struct sandbox_config *c)
{
        _cleanup_close_ int fd = memfd_create("bpf", MFD_CLOEXEC);
        struct stat st;
        struct bpf b;
        assert_true(fd >= 0);
        assert_int_equal(sandbox_seccomp_export(c, fd, NULL), 0);
        assert_int_equal(fstat(fd, &st), 0);
        b.n = (size_t)st.st_size / sizeof(struct sock_filter);
        b.insns = malloc((size_t)st.st_size + 1);
        assert_non_null(b.insns);
        assert_int_equal(pread(fd, b.insns, (size_t)st.st_size, 0), st.st_size);
        return b;
}

#define X32       0x40000000
#define RET_EPERM (SECCOMP_RET_ERRNO | EPERM)

static uint32_t call(const struct bpf *b, uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
        struct seccomp_data d = { .nr = nr, .arch = arch, .args = { a0, a1 } };
        return bpf_run(b->insns, b->n, &d);
}

/* Each architecture's number for a call: x86_64, x32, i386. */
struct nrs {
        const char *name;
        int nr[3];
};
static const uint32_t arches[3] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 };

/* The evaluator agrees with what the kernel showed in the tests above. */
static void test_bpf_sane(void **state)
{
        struct sandbox_config c = { 0 };
        struct bpf b = bpf_of(&c);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, SYS_getpid, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, SYS_unshare, CLONE_NEWNS, 0), RET_EPERM);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, X32 | 272 /* unshare */, CLONE_NEWNS, 0), RET_EPERM);
        assert_int_equal(call(&b, AUDIT_ARCH_I386, 310 /* unshare */, CLONE_NEWNS, 0), RET_EPERM);
        assert_int_equal(call(&b, AUDIT_ARCH_I386, 20 /* getpid */, 0, 0), SECCOMP_RET_ALLOW);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, SYS_clone3, 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, SYS_socket, 40, SOCK_STREAM), RET_EPERM);
        assert_int_equal(call(&b, AUDIT_ARCH_X86_64, SYS_socket, AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW);
        assert_int_equal(call(&b, AUDIT_ARCH_AARCH64, 97 /* unshare */, 0, 0), SECCOMP_RET_KILL_PROCESS);
        free(b.insns);
}

/* i386's direct socket(2) (359) gets the families' rules; socketcall(2),
 * through which 32-bit musl makes every socket, stays open. */
static void test_bpf_i386_socket(void **state)
{
        struct sandbox_config def = { 0 }, admin = { .cap_add = BIT(CAP_SYS_ADMIN) };
        const struct sandbox_config *cs[] = { &def, &admin };
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                struct bpf b = bpf_of(cs[i]);
                uint32_t i386 = AUDIT_ARCH_I386;
                assert_int_equal(call(&b, i386, 359, 40 /* AF_VSOCK */, SOCK_STREAM), RET_EPERM);
                assert_int_equal(call(&b, i386, 359, 40, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK),
                                 RET_EPERM);
                assert_int_equal(call(&b, i386, 359, 38 /* AF_ALG */, SOCK_SEQPACKET), RET_EPERM);
                assert_int_equal(call(&b, i386, 359, AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW);
                assert_int_equal(call(&b, i386, 359, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC), SECCOMP_RET_ALLOW);
                /* socketcall(SYS_SOCKET, args): args on a stack, or in a
                 * static binary's data. */
                assert_int_equal(call(&b, i386, 102, 1, 0xffd3c000), SECCOMP_RET_ALLOW);
                assert_int_equal(call(&b, i386, 102, 1, 0x0804c000), SECCOMP_RET_ALLOW);
                free(b.insns);
        }
}

static void test_bpf_io_uring(void **state)
{
        static const struct nrs calls[] = {
                { "io_uring_setup", { 425, X32 | 425, 425 } },
                { "io_uring_enter", { 426, X32 | 426, 426 } },
                { "io_uring_register", { 427, X32 | 427, 427 } },
        };
        struct sandbox_config def = { 0 }, all = { .cap_add = UINT64_MAX };
        const struct sandbox_config *cs[] = { &def, &all };
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                struct bpf b = bpf_of(cs[i]);
                for (size_t k = 0; k < ELEMENTSOF(calls); k++)
                        for (size_t a = 0; a < 3; a++)
                                if (call(&b, arches[a], calls[k].nr[a], 1, 0) != RET_EPERM)
                                        fail_msg("%s (arch %zu, config %zu) not refused", calls[k].name, a,
                                                 i);
                free(b.insns);
        }
}

/* docker's list, on the low 32 bits the kernel reads. */
static bool personality_allowed(uint32_t p)
{
        return p == 0xffffffff || (p & ~(uint32_t)(PER_LINUX32 | UNAME26)) == 0;
}

static const int personality_nr[3] = { 135, X32 | 135, 136 };

static void personality_check(const struct bpf *b, size_t arch, uint64_t p)
{
        uint32_t want = personality_allowed((uint32_t)p) ? SECCOMP_RET_ALLOW : RET_EPERM;
        if (arches[arch] == AUDIT_ARCH_I386)
                p = (uint32_t)p; /* a 32-bit register */
        uint32_t got = call(b, arches[arch], personality_nr[arch], p, 0);
        if (got != want)
                fail_msg("personality(0x%llx) on arch %zu: 0x%x, want 0x%x", (unsigned long long)p, arch, got,
                         want);
}

static void test_bpf_personality(void **state)
{
        struct sandbox_config def = { 0 }, admin = { .cap_add = BIT(CAP_SYS_ADMIN) };
        const struct sandbox_config *cs[] = { &def, &admin };
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                struct bpf b = bpf_of(cs[i]);
                for (size_t a = 0; a < 3; a++) {
                        assert_int_equal(call(&b, arches[a], personality_nr[a],
                                              READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE, 0),
                                         RET_EPERM);
                        static const uint32_t ok[] = { 0, PER_LINUX32, UNAME26, PER_LINUX32 | UNAME26,
                                                       0xffffffff };
                        for (size_t k = 0; k < ELEMENTSOF(ok); k++) {
                                personality_check(&b, a, ok[k]);
                                /* High bits the kernel never reads. */
                                personality_check(&b, a, ok[k] | UINT64_C(0xffffffff00000000));
                        }
                        /* Every value with one or two bits set, or cleared. */
                        for (unsigned x = 0; x < 32; x++)
                                for (unsigned y = x; y < 32; y++) {
                                        uint32_t v = (UINT32_C(1) << x) | (UINT32_C(1) << y);
                                        personality_check(&b, a, v);
                                        personality_check(&b, a, ~v);
                                        personality_check(&b, a, v | PER_LINUX32);
                                        personality_check(&b, a, v | UNAME26);
                                }
                        /* And a fixed pseudo-random sample. */
                        uint64_t r = 0x9e3779b97f4a7c15;
                        for (int k = 0; k < 20000; k++) {
                                r = r * 6364136223846793005 + 1442695040888963407;
                                personality_check(&b, a, r >> (k % 40));
                        }
                }
                free(b.insns);
        }
}

/* Only --privileged and --seccomp=unconfined open file handles (shocker),
 * whatever capabilities are added. */
static void test_bpf_open_by_handle(void **state)
{
        struct sandbox_config dac = { .cap_add = BIT(CAP_DAC_READ_SEARCH) },
                              dac_admin = { .cap_add = BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_SYS_ADMIN) },
                              all = { .cap_add = UINT64_MAX };
        const struct sandbox_config *cs[] = { &dac, &dac_admin, &all };
        static const int open_nr[3] = { 304, X32 | 304, 342 }, name_nr[3] = { 303, X32 | 303, 341 };
        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                struct bpf b = bpf_of(cs[i]);
                for (size_t a = 0; a < 3; a++) {
                        if (call(&b, arches[a], open_nr[a], 3, 0) != RET_EPERM)
                                fail_msg("open_by_handle_at (arch %zu, config %zu) not refused", a, i);
                        /* Making a handle opens nothing: docker's rule. */
                        assert_int_equal(call(&b, arches[a], name_nr[a], 3, 0), SECCOMP_RET_ALLOW);
                }
                free(b.insns);
        }
        struct sandbox_config priv = { .privileged = true, .cap_add = BIT(CAP_DAC_READ_SEARCH) },
                              unconf = { .seccomp_unconfined = true, .cap_add = BIT(CAP_DAC_READ_SEARCH) };
        struct bpf p = bpf_of(&priv), u = bpf_of(&unconf);
        assert_int_equal(p.n, 0);
        assert_int_equal(u.n, 0);
        free(p.insns);
        free(u.insns);
}

/* ---- masked paths, in a private mount namespace ---- */

struct mask_case {
        const char *proc_kind; /* "procfs", "symlink", "dir" */
        const char *sys_kind;  /* "sysfs", "symlink", "none" */
        bool privileged;
        bool legacy;         /* mount(2) rather than open_tree/move_mount */
        const char *covered; /* a proc entry something is already mounted over */
        bool no_attr;        /* open_tree + mount_setattr rather than open_tree_attr */
        bool empty_tree;     /* directories hidden by a copy of an empty directory, not a tmpfs */
        bool attr_eperm;     /* open_tree_attr refused with EPERM, as by a policy older than it */
        const char *root;    /* made and removed by the parent */
};

static int fs_type(const char *path, long magic)
{
        struct statfs sf;
        return statfs(path, &sf) == 0 && sf.f_type == magic;
}

static int child_masks(void *arg)
{
        const struct mask_case *mc = arg;
        const char *root = mc->root;
        struct stat st;
        roost_error e = { "" };

        CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
        CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private /");
        /* The temporary root is a tmpfs of its own, so nothing outlives the
         * namespace. */
        CHECK(mount("tmpfs", root, "tmpfs", 0, "mode=0755") == 0, "tmpfs");
        CHECK(chdir(root) == 0, "chdir");
        if (strcmp(mc->proc_kind, "procfs") == 0) {
                CHECK(mkdir("proc", 0755) == 0 && mount("proc", "proc", "proc", 0, NULL) == 0,
                      "mount proc: %s", strerror(errno));
        } else if (strcmp(mc->proc_kind, "symlink") == 0) {
                CHECK(symlink("/proc", "proc") == 0, "symlink");
        } else {
                CHECK(mkdir("proc", 0755) == 0 && mkdir("proc/sys", 0755) == 0 &&
                              mkdir("proc/acpi", 0755) == 0,
                      "fake proc");
        }
        if (strcmp(mc->sys_kind, "sysfs") == 0) {
                CHECK(mkdir("sys", 0755) == 0 && mount("/sys", "sys", NULL, MS_BIND | MS_REC, NULL) == 0,
                      "bind /sys: %s", strerror(errno));
        } else if (strcmp(mc->sys_kind, "symlink") == 0) {
                CHECK(symlink("/sys", "sys") == 0, "symlink");
        }

        char covered[64] = "";
        if (mc->covered) {
                snprintf(covered, sizeof(covered), "proc/%s", mc->covered);
                if (stat(covered, &st) < 0)
                        return 0; /* this kernel has no such entry */
                if (S_ISDIR(st.st_mode))
                        CHECK(mount("tmpfs", covered, "tmpfs", 0, NULL) == 0, "covering %s", covered);
                else
                        CHECK(mount("/dev/zero", covered, NULL, MS_BIND, NULL) == 0, "covering %s", covered);
        }

        struct sandbox_config c = { .privileged = mc->privileged };
        sandbox_legacy_mounts = mc->legacy;
        sandbox_no_open_tree_attr = mc->no_attr;
        if (mc->attr_eperm) {
                scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
                CHECK(f && seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), 467 /* open_tree_attr */, 0) == 0 &&
                              seccomp_load(f) == 0,
                      "a filter refusing open_tree_attr");
                seccomp_release(f);
        }
        int tree = -1;
        if (mc->empty_tree) {
                /* Kept outside the tree the masks look at, as launch's
                 * scratch is. */
                CHECK(mkdir("/tmp/roost-empty-src", 0555) == 0 || errno == EEXIST, "mkdir");
                CHECK(mount("tmpfs", "/tmp/roost-empty-src", "tmpfs", 0, NULL) == 0, "tmpfs");
                CHECK(mkdir("/tmp/roost-empty-src/empty", 0555) == 0, "mkdir empty");
                tree = sandbox_readonly_copy(AT_FDCWD, "/tmp/roost-empty-src/empty");
                CHECK(tree >= 0, "sandbox_readonly_copy: %s", strerror(-tree));
        }
        /* What --explain says must be what was done. */
        int ep[2];
        char said[4096] = "";
        CHECK(pipe(ep) == 0, "pipe");
        explain_fd = ep[1];
        int r = sandbox_mask_paths(&c, tree, &e);
        explain_fd = -1;
        close(ep[1]);
        ssize_t k = read(ep[0], said, sizeof(said) - 1);
        said[k > 0 ? k : 0] = 0;
        close(ep[0]);
        if (tree >= 0) {
                struct stat src, st2;
                CHECK(fcntl(tree, F_GETFD) >= 0, "the caller's tree was closed");
                close(tree);
                /* Both directories show the given one (read-only checked below). */
                CHECK(stat("/tmp/roost-empty-src/empty", &src) == 0, "stat source");
                if (stat("proc/acpi", &st2) == 0)
                        CHECK(st2.st_dev == src.st_dev && st2.st_ino == src.st_ino,
                              "proc/acpi is not the tree");
                if (stat("sys/firmware", &st2) == 0)
                        CHECK(st2.st_dev == src.st_dev && st2.st_ino == src.st_ino,
                              "sys/firmware is not the tree");
                CHECK(umount2("/tmp/roost-empty-src", MNT_DETACH) == 0, "umount");
                rmdir("/tmp/roost-empty-src");
        }

        if (mc->covered) {
                /* Not the procfs's own entry: refused, neither masked nor
                 * made read-only. */
                CHECK(r == -ROOST_EUNSAFE, "a covered %s was accepted (%d: %s)", covered, r, e.msg);
                CHECK(strstr(e.msg, mc->covered), "message names %s: %s", covered, e.msg);
                return 0;
        }

        if (strcmp(mc->proc_kind, "procfs") != 0) {
                /* Refused, and nothing mounted on the host's /proc. */
                CHECK(r < 0, "a fake /proc was accepted");
                CHECK(strstr(e.msg, "/proc"), "message names /proc: %s", e.msg);
                CHECK(stat("/proc/keys", &st) == 0 && S_ISREG(st.st_mode), "host /proc/keys masked");
                CHECK(!fs_type("/proc/sys", TMPFS_MAGIC), "host /proc/sys touched");
                return 0;
        }
        CHECK(r == 0, "sandbox_mask_paths: %s", e.msg);
        if (!mc->privileged)
                CHECK(strstr(said, mc->legacy ? "with mount(2)" : "attached with move_mount") &&
                              !strstr(said, mc->legacy ? "move_mount" : "mount(2)"),
                      "--explain does not say how: %.300s", said);
        if (mc->privileged) {
                CHECK(stat("proc/keys", &st) == 0 && S_ISREG(st.st_mode), "privileged: keys masked");
                return 0;
        }
        /* Files become /dev/null, directories an empty read-only tmpfs. */
        /* (kcore, latency_stats, sched_debug: absent from some kernels.) */
        CHECK(stat("proc/keys", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
              "proc/keys is not /dev/null");
        CHECK(stat("proc/timer_list", &st) == 0 && S_ISCHR(st.st_mode), "proc/timer_list is not /dev/null");
        /* The host's own /dev/null: bound read-only, so that its mode and
         * owner stay out of reach (chmod to the mode it has changes
         * nothing even when it works). */
        struct statvfs nv;
        CHECK(statvfs("proc/keys", &nv) == 0 && (nv.f_flag & ST_RDONLY), "proc/keys is bound writable");
        CHECK(statvfs("proc/timer_list", &nv) == 0 && (nv.f_flag & ST_RDONLY), "proc/timer_list is writable");
        CHECK(chmod("proc/keys", st.st_mode & 07777) < 0 && errno == EROFS, "chmod of the host's /dev/null");
        if (stat("proc/kcore", &st) == 0)
                CHECK(S_ISCHR(st.st_mode), "proc/kcore is not /dev/null");
        if (stat("proc/acpi", &st) == 0) {
                CHECK(fs_type("proc/acpi", TMPFS_MAGIC), "proc/acpi is not a tmpfs");
                CHECK(mkdir("proc/acpi/x", 0755) < 0 && errno == EROFS, "proc/acpi writable (%s)",
                      strerror(errno));
        }
        CHECK(fs_type("proc/scsi", TMPFS_MAGIC) || stat("proc/scsi", &st) < 0, "proc/scsi");
        /* Read-only: sysctls and sysrq cannot be written. */
        int fd = open("proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
        CHECK(fd < 0 && errno == EROFS, "proc/sys/kernel/hostname writable (%s)", strerror(errno));
        fd = open("proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
        CHECK(fd < 0 && (errno == EROFS || (errno == ENOENT && access("/proc/sysrq-trigger", F_OK) < 0)),
              "proc/sysrq-trigger writable (%s)", strerror(errno));
        struct statvfs sv;
        CHECK(statvfs("proc", &sv) == 0, "statvfs proc");
        CHECK((sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC)) == (ST_NOSUID | ST_NODEV | ST_NOEXEC),
              "proc is not nosuid,nodev,noexec");
        CHECK(!(sv.f_flag & ST_RDONLY), "proc itself became read-only");
        /* The host's own /proc in this namespace is untouched. */
        CHECK(stat("/proc/keys", &st) == 0 && S_ISREG(st.st_mode), "host /proc/keys masked");
        CHECK(statvfs("/proc/sys", &sv) == 0 && !(sv.f_flag & ST_RDONLY), "host /proc/sys read-only");
        if (strcmp(mc->sys_kind, "sysfs") == 0) {
                if (stat("sys/firmware", &st) == 0)
                        CHECK(fs_type("sys/firmware", TMPFS_MAGIC), "sys/firmware is not a tmpfs");
        } else
                CHECK(!fs_type("/sys/firmware", TMPFS_MAGIC), "host /sys/firmware masked through a symlink");
        return 0;
}

static void mask_case(const struct mask_case *mc)
{
        char root[] = "/tmp/roost-mask.XXXXXX";
        if (!is_root())
                skip();
        assert_non_null(mkdtemp(root));
        struct mask_case c = *mc;
        c.root = root;
        run_child(child_masks, &c);
        /* The child's tmpfs went with its mount namespace. */
        assert_int_equal(rmdir(root), 0);
}

static void test_masks(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "sysfs", .privileged = false, .legacy = false });
}
static void test_masks_legacy(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "sysfs", .privileged = false, .legacy = true });
}
static void test_masks_proc_fake_legacy(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "dir", .sys_kind = "none", .privileged = false, .legacy = true });
}
static void test_masks_privileged(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "sysfs", .privileged = true, .legacy = false });
}
static void test_masks_proc_symlink(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "symlink", .sys_kind = "none", .privileged = false, .legacy = false });
}
static void test_masks_proc_fake(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "dir", .sys_kind = "none", .privileged = false, .legacy = false });
}
static void test_masks_no_open_tree_attr(void **state)
{
        mask_case(&(struct mask_case){ .proc_kind = "procfs", .sys_kind = "sysfs", .no_attr = true });
}
static void test_masks_covered_no_open_tree_attr(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "none", .covered = "sys", .no_attr = true });
}
static void test_masks_empty_tree(void **state)
{
        mask_case(&(struct mask_case){ .proc_kind = "procfs", .sys_kind = "sysfs", .empty_tree = true });
}
static void test_masks_open_tree_attr_eperm(void **state)
{
        mask_case(&(struct mask_case){ .proc_kind = "procfs", .sys_kind = "sysfs", .attr_eperm = true });
}
static void test_masks_covered(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "none", .privileged = false, .covered = "sys" });
}
static void test_masks_covered_dir(void **state)
{
        mask_case(&(struct mask_case){ .proc_kind = "procfs", .sys_kind = "none", .covered = "acpi" });
}
static void test_masks_covered_file(void **state)
{
        mask_case(&(struct mask_case){ .proc_kind = "procfs", .sys_kind = "none", .covered = "keys" });
}
static void test_masks_covered_legacy(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "none", .legacy = true, .covered = "sys" });
}
static void test_masks_sys_symlink(void **state)
{
        mask_case(&(struct mask_case){
                .proc_kind = "procfs", .sys_kind = "symlink", .privileged = false, .legacy = false });
}

/* ---- user namespace diagnosis against fake sysctls ---- */

static void put(int dirfd, const char *name, const char *text)
{
        if (!text)
                return;
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, text, strlen(text)), 0);
        close(fd);
}

static void diagnose_with(const char *clone, const char *max, const char *aa, int r, const char *want)
{
        char dir[] = "/tmp/roost-sysctl.XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "kernel", 0755), 0);
        assert_int_equal(mkdirat(fd, "user", 0755), 0);
        put(fd, "kernel/unprivileged_userns_clone", clone);
        put(fd, "user/max_user_namespaces", max);
        put(fd, "kernel/apparmor_restrict_unprivileged_userns", aa);
        roost_error e = { "" };
        assert_int_equal(userns_diagnose_at(fd, r, &e), r);
        close(fd);
        rm_rf_at(AT_FDCWD, dir);
        if (!strstr(e.msg, want))
                fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_userns_diagnose(void **state)
{
        diagnose_with("0\n", "1000\n", NULL, -EPERM, "kernel.unprivileged_userns_clone=0");
        diagnose_with("0\n", "1000\n", NULL, -EPERM, "sysctl -w kernel.unprivileged_userns_clone=1");
        diagnose_with("1\n", "0\n", NULL, -ENOSPC, "user.max_user_namespaces=0");
        diagnose_with(NULL, "0\n", NULL, -ENOSPC, "sysctl -w user.max_user_namespaces=");
        diagnose_with(NULL, "1000\n", "1\n", -EACCES, "kernel.apparmor_restrict_unprivileged_userns=1");
        diagnose_with(NULL, "5\n", "0\n", -ENOSPC, "limit user.max_user_namespaces=5 is reached");
        diagnose_with("1\n", "1000\n", "0\n", -EPERM, "no sysctl forbids it");
        diagnose_with(NULL, NULL, NULL, -EPERM, "Operation not permitted");
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* The range suggested to a rootless user overlaps no one's. */
static void test_userns_free_range(void **state)
{
        char dir[] = "/tmp/roost-subid.XXXXXX", u[64], g[64];
        const char *files[] = { u, g };
        unsigned long start;
        assert_non_null(mkdtemp(dir));
        snprintf(u, sizeof(u), "%s/subuid", dir);
        snprintf(g, sizeof(g), "%s/subgid", dir);
        /* Neither file exists: shadow's first choice. */
        assert_int_equal(userns_free_range(files, 2, 65536, &start), 0);
        assert_int_equal(start, 100000);
        write_text(u, "alice:100000:65536\n# a comment\ngarbage\nbob:231072:65536\n");
        write_text(g, "alice:100000:65536\ncarol:165536:1\n");
        assert_int_equal(userns_free_range(files, 2, 65536, &start), 0);
        /* 100000 is alice's, 131072 and 196608 overlap carol's or bob's. */
        assert_int_equal(start, 327680);
        write_text(u, "dave:4294900000:60000\nerin:0:4294900000\n");
        assert_int_equal(userns_free_range(files, 2, 65536, &start), -ERANGE);
        unlink(u);
        unlink(g);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_cap),
                cmocka_unit_test(test_cap_sets),
                cmocka_unit_test(test_filter_size),
                cmocka_unit_test(test_precompiled_matches),
                cmocka_unit_test(test_apply_default),
                cmocka_unit_test(test_apply_cap_add),
                cmocka_unit_test(test_apply_user),
                cmocka_unit_test(test_apply_unconfined),
                cmocka_unit_test(test_apply_privileged),
                cmocka_unit_test(test_init_drop),
                cmocka_unit_test(test_export_loads),
                cmocka_unit_test(test_bpf_sane),
                cmocka_unit_test(test_bpf_i386_socket),
                cmocka_unit_test(test_bpf_io_uring),
                cmocka_unit_test(test_bpf_personality),
                cmocka_unit_test(test_bpf_open_by_handle),
                cmocka_unit_test(test_masks),
                cmocka_unit_test(test_masks_legacy),
                cmocka_unit_test(test_masks_proc_fake_legacy),
                cmocka_unit_test(test_masks_privileged),
                cmocka_unit_test(test_masks_proc_symlink),
                cmocka_unit_test(test_masks_proc_fake),
                cmocka_unit_test(test_masks_sys_symlink),
                cmocka_unit_test(test_masks_covered),
                cmocka_unit_test(test_masks_empty_tree),
                cmocka_unit_test(test_masks_open_tree_attr_eperm),
                cmocka_unit_test(test_masks_no_open_tree_attr),
                cmocka_unit_test(test_masks_covered_no_open_tree_attr),
                cmocka_unit_test(test_masks_covered_legacy),
                cmocka_unit_test(test_masks_covered_dir),
                cmocka_unit_test(test_masks_covered_file),
                cmocka_unit_test(test_userns_diagnose),
                cmocka_unit_test(test_userns_free_range),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
