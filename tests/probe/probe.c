/* A static probe for launch's tests: bind-mounted into a container, it
 * reports what the container looks like from the inside.
 *   probe escape MARKER   try the classic chroot escape; "escaped" when
 *                         MARKER (a host path) is then visible, else "inside"
 *   probe fds             the open descriptors, one per line
 *   probe orphans         leave orphans for PID 1; print the zombies left
 *   probe ids             pid ppid uid gid
 *   probe open PATH...    open each for reading (devices too); "PATH OK" or
 *                         "PATH ERRNO" (EPERM, EACCES...) per line
 *   probe mknod PATH c|b MAJOR MINOR
 *                         make a device node: "mknod OK" or "mknod ERRNO"
 *   probe mount TYPE DIR  mount a new TYPE ("devtmpfs") on DIR, made if
 *                         missing: "mount OK" or "mount ERRNO"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int escape(const char *marker)
{
        /* chroot into a subdirectory without entering it: the cwd is then
         * outside the root, and ".." walks up without a root to stop at. */
        mkdir("/tmp/.probe-escape", 0700);
        if (chroot("/tmp/.probe-escape") < 0) {
                perror("probe: chroot");
                return 2;
        }
        for (int i = 0; i < 256; i++)
                if (chdir("..") < 0)
                        break;
        if (chroot(".") < 0) {
                perror("probe: chroot .");
                return 2;
        }
        struct stat st;
        puts(stat(marker, &st) == 0 ? "escaped" : "inside");
        return 0;
}

static int fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                perror("probe: /proc/self/fd");
                return 2;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                        puts(de->d_name);
        closedir(d);
        return 0;
}

static int zombies(void)
{
        int n = 0;
        DIR *d = opendir("/proc");
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char path[300], buf[512];
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t k = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (k <= 0)
                        continue;
                buf[k] = 0;
                char *p = strrchr(buf, ')');
                if (p && p[1] == ' ' && p[2] == 'Z')
                        n++;
        }
        if (d)
                closedir(d);
        return n;
}

static int orphans(void)
{
        for (int i = 0; i < 5; i++) {
                pid_t p = fork();
                if (p == 0) {
                        /* the grandchild outlives its parent: PID 1 inherits it */
                        if (fork() == 0) {
                                usleep(50000);
                                _exit(0);
                        }
                        _exit(0);
                }
                waitpid(p, NULL, 0);
        }
        usleep(400000);
        printf("%d\n", zombies());
        return 0;
}

/* The name of errno E, as the tests compare them. */
static const char *errname(int e)
{
        switch (e) {
        case EPERM:
                return "EPERM";
        case EACCES:
                return "EACCES";
        case ENOENT:
                return "ENOENT";
        case ENXIO:
                return "ENXIO";
        case ENODEV:
                return "ENODEV";
        case EROFS:
                return "EROFS";
        case EINVAL:
                return "EINVAL";
        default:
                return strerror(e);
        }
}

static void report(const char *what, int r)
{
        printf("%s %s\n", what, r < 0 ? errname(errno) : "OK");
}

/* O_NONBLOCK and O_NOCTTY: a terminal or a FIFO opens at once and does
 * not become ours; only whether the open is allowed matters. */
static int open_each(int n, char **paths)
{
        for (int i = 0; i < n; i++) {
                int fd = open(paths[i], O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                report(paths[i], fd);
                if (fd >= 0)
                        close(fd);
        }
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "open") == 0)
                return open_each(argc - 2, argv + 2);
        if (argc == 6 && strcmp(argv[1], "mknod") == 0) {
                mode_t type = strcmp(argv[3], "b") == 0 ? S_IFBLK : S_IFCHR;
                report("mknod", mknod(argv[2], type | 0600, makedev(atoi(argv[4]), atoi(argv[5]))));
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "mount") == 0) {
                mkdir(argv[3], 0755);
                report("mount", mount("none", argv[3], argv[2], 0, NULL));
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "escape") == 0)
                return escape(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "fds") == 0)
                return fds();
        if (argc >= 2 && strcmp(argv[1], "orphans") == 0)
                return orphans();
        if (argc >= 2 && strcmp(argv[1], "ids") == 0) {
                printf("%d %d %d %d\n", (int)getpid(), (int)getppid(), (int)getuid(), (int)getgid());
                return 0;
        }
        fprintf(stderr,
                "usage: probe escape MARKER | fds | orphans | ids | open PATH... | mknod PATH c|b MAJOR "
                "MINOR | mount TYPE DIR\n");
        return 2;
}
