/* seccomp-probe: bind-mounted into a container by tests/harden*.sh, it
 * makes each call the default filter denies, with arguments chosen so that
 * the call is harmless when allowed (bad flags, bad fds, missing paths,
 * /dev/null instead of a terminal), and prints "NAME RESULT" per line:
 * OK or the errno's name. Static, so it runs in any image.
 *
 *   seccomp-probe handle PATH   (on the host) PATH's file handle, as
 *                               TYPE:HEX
 *   seccomp-probe shocker DIR HANDLE NAME
 *                               (inside) the "shocker" escape: a handle of
 *                               DIR (a volume), then HANDLE, made on the
 *                               host for a directory outside the volume,
 *                               opened through DIR's mount, and the first
 *                               line of NAME in it printed as "escaped ..." */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "int80.h"

static const char *errname(int e)
{
        switch (e) {
        case EPERM:
                return "EPERM";
        case ENOSYS:
                return "ENOSYS";
        case EINVAL:
                return "EINVAL";
        case EBADF:
                return "EBADF";
        case ENOENT:
                return "ENOENT";
        case EFAULT:
                return "EFAULT";
        case ENOTTY:
                return "ENOTTY";
        case EACCES:
                return "EACCES";
        case EAFNOSUPPORT:
                return "EAFNOSUPPORT";
        case EBUSY:
                return "EBUSY";
        case EOPNOTSUPP:
                return "EOPNOTSUPP";
        default:
                return strerror(e);
        }
}

static void report(const char *name, long r)
{
        printf("%s %s\n", name, r < 0 ? errname(errno) : "OK");
}

/* Set a personality and, when that worked, put the old one back. */
static void report_personality(const char *name, unsigned long p)
{
        long old = syscall(SYS_personality, p);
        report(name, old);
        if (old >= 0)
                syscall(SYS_personality, (unsigned long)old);
}

union handle {
        struct file_handle h;
        char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

static int print_handle(const char *path)
{
        union handle fh = { .h.handle_bytes = MAX_HANDLE_SZ };
        int mnt;
        if (name_to_handle_at(AT_FDCWD, path, &fh.h, &mnt, 0) < 0) {
                printf("name_to_handle_at %s\n", errname(errno));
                return 1;
        }
        printf("%d:", fh.h.handle_type);
        for (unsigned i = 0; i < fh.h.handle_bytes; i++)
                printf("%02x", fh.h.f_handle[i]);
        printf("\n");
        return 0;
}

static int shocker(const char *dir, const char *handle, const char *name)
{
        union handle fh = { .h.handle_bytes = MAX_HANDLE_SZ };
        char *hex;
        int mnt, n;
        report("name_to_handle_at", name_to_handle_at(AT_FDCWD, dir, &fh.h, &mnt, 0));
        fh.h.handle_type = (int)strtol(handle, &hex, 10);
        if (*hex++ != ':')
                return 2;
        for (n = 0; n < MAX_HANDLE_SZ && sscanf(hex + 2 * n, "%2hhx", &fh.h.f_handle[n]) == 1; n++)
                ;
        fh.h.handle_bytes = (unsigned)n;
        int mount_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        long fd = open_by_handle_at(mount_fd, &fh.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        report("open_by_handle_at", fd);
        if (fd < 0)
                return 0;
        char line[256] = "";
        FILE *f = fdopen(openat((int)fd, name, O_RDONLY | O_CLOEXEC), "r");
        if (f && fgets(line, sizeof(line), f))
                printf("escaped %s", line);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "handle") == 0)
                return print_handle(argv[2]);
        if (argc == 5 && strcmp(argv[1], "shocker") == 0)
                return shocker(argv[2], argv[3], argv[4]);

        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        char c = 'x';
        long r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        report("getpid", syscall(SYS_getpid));
        report("socket_inet", r = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (r >= 0)
                close((int)r);
        report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0x100));
        report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
        report("finit_module", syscall(SYS_finit_module, -1, "", 0));
        report("swapoff", syscall(SYS_swapoff, "/nonexistent-roost-probe"));
        report("clock_settime", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &(struct timespec){ 0 }));
        report("keyctl", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0));
        report("bpf", syscall(SYS_bpf, -1, NULL, 0));
        report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        report("userfaultfd", r = syscall(SYS_userfaultfd, O_CLOEXEC));
        if (r >= 0)
                close((int)r);
        report("mount", syscall(SYS_mount, "none", "/nonexistent-roost-probe", "tmpfs", 0, NULL));
        report("umount2", syscall(SYS_umount2, "/nonexistent-roost-probe", 0));
        report("pivot_root", syscall(SYS_pivot_root, "/nonexistent-a", "/nonexistent-b"));
        report("setns", syscall(SYS_setns, -1, 0));
        report("unshare", syscall(SYS_unshare, CLONE_NEWNS));
        report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
        r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, NULL, NULL, 0);
        if (r == 0)
                _exit(0);
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        report("clone_newns", r);
        report("clone3", syscall(SYS_clone3, NULL, 0));
        report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
        report("tiocsti", syscall(SYS_ioctl, null, TIOCSTI, &c));
        /* The kernel reads 32 bits of the request: the high bits must not
         * smuggle TIOCSTI past the filter. */
        report("tiocsti_high_bits", syscall(SYS_ioctl, null, 0x100000000UL | TIOCSTI, &c));
        report("tioclinux", syscall(SYS_ioctl, null, TIOCLINUX, &c));
        report("socket_alg", r = socket(38 /* AF_ALG */, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        if (r >= 0)
                close((int)r);
        report("socket_vsock", r = socket(40 /* AF_VSOCK */, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (r >= 0)
                close((int)r);
        char buf[8];
        struct iovec l = { buf, sizeof(buf) }, rem = { buf, sizeof(buf) };
        report("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &l, 1, &rem, 1, 0));
        /* NULL parameters: EFAULT, and no ring, when the call is allowed. */
        report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
        report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
        report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
        /* docker's list: PER_LINUX, PER_LINUX32, UNAME26, both, and the
         * query 0xffffffff (here also sign-extended: only 32 bits count). */
        report_personality("personality_linux", PER_LINUX);
        report_personality("personality_linux32_uname26", PER_LINUX32 | UNAME26);
        report("personality_query", syscall(SYS_personality, 0xffffffffUL));
        report("personality_query_long", syscall(SYS_personality, -1L));
        report_personality("personality_exec_norandom", READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE);
        report_personality("personality_bsd", PER_BSD);
        /* The kernel reads 32 bits: high bits must not make a refused
         * value look like another. */
        report_personality("personality_high_bits", 0x100000000UL | READ_IMPLIES_EXEC);
        /* NOI386: this kernel has no int 0x80 entry (it would kill us). */
        if (!int80_works()) {
                printf("i386_unshare NOI386\ni386_socketcall_unix NOI386\ni386_socket_vsock NOI386\n");
        } else {
                report("i386_unshare", int80(310 /* i386 unshare */, CLONE_NEWNS, 0, 0));
                report("i386_socket_vsock",
                       r = int80(359 /* i386 socket */, 40 /* AF_VSOCK */, SOCK_STREAM, 0));
                if (r >= 0)
                        close((int)r);
                /* 32-bit musl makes every socket through socketcall: allowed. */
                unsigned *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
                if (args != MAP_FAILED) {
                        args[0] = AF_UNIX;
                        args[1] = SOCK_STREAM;
                        args[2] = 0;
                        report("i386_socketcall_unix", r = int80(102 /* socketcall */, 1 /* SYS_SOCKET */,
                                                                 (long)(unsigned long)args, 0));
                        if (r >= 0)
                                close((int)r);
                }
        }
        report("x32_unshare", syscall(0x40000000 | 272 /* x32 unshare */, CLONE_NEWNS));
        return 0;
}
