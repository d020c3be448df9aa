/* Runs a command as under a runtime whose seccomp filter refuses clone3
 * with ENOSYS (docker's default profile does, so that the C library falls
 * back to clone). For launch's fallback test; run as root, which may load
 * a filter without no_new_privs. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

int main(int argc, char **argv)
{
        struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        };
        struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
        if (argc < 2) {
                fprintf(stderr, "usage: no-clone3 COMMAND [ARG...]\n");
                return 2;
        }
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
                perror("no-clone3: loading the filter");
                return 1;
        }
        execvp(argv[1], argv + 1);
        perror("no-clone3: exec");
        return 127;
}
