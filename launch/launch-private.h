/* What the files of launch/ share between themselves and nobody else. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include "launch/launch.h"
#include "launch/report.h"

/* Without a pseudo-terminal, each of launch's fds 0, 1 and 2 that is a
 * terminal reaches the container as a pipe, relayed by launch: the caller's
 * terminal itself (what is typed at it, its window size) stays outside.
 * stdout and stderr on the same terminal share one pipe, so that their
 * lines keep their order. Other fds are passed through untouched. */
struct tty_pipes {
        int inner[3]; /* the container's ends, to become its 0, 1, 2; -1: passed through */
        int outer[3]; /* launch's: it writes [0], reads [1] and [2] (-1 when [1] serves both) */
};

/* A tree of another architecture, run through qemu-user (binfmt.c). */
struct binfmt_arch;
struct binfmt {
        const struct binfmt_arch *arch; /* NULL: the host runs the tree's programs itself */
        bool in_userns;                 /* registered in the container's user namespace */
        char interpreter[PATH_MAX];     /* qemu-ARCH-static, absolute */
};

/* State of one launch, prepared by the parent; the child gets a copy. */
struct run_state {
        const struct launch_config *c;
        bool rootless;
        bool userns; /* the child gets a user namespace: rootless, or root for a foreign tree's binfmt_misc */
        struct binfmt binfmt;
        char *scratch;    /* c->scratch, resolved; covered by a tmpfs in the container's namespace */
        char *root_mnt;   /* scratch/root: where the container's root is assembled */
        char *host_files; /* scratch/etc: hosts, hostname, resolv.conf */
        char **lowers;    /* c->lowers, resolved, top first */
        size_t n_lowers;
        char *upper, *work;
        uint64_t layer_size; /* the scratch tmpfs's bound, bytes */
        uid_t lower_uid;     /* the top lower's root directory's, for the upper's */
        gid_t lower_gid;
        mode_t lower_mode;
        int sync_pipe[2];   /* parent -> child: SYNC_GO, SYNC_NET_READY, SYNC_NET_UP (sync.h) */
        bool net_by_parent; /* launch makes the network namespace while the child mounts */
        pid_t parent;       /* launch's pid, for the child to join that namespace */
        bool early_exit;    /* init reports the command's status before tearing down */
        bool devices_listed; /* a device allow-list (cgroup) holds for the container */
        int err_pipe[2];    /* container -> parent: SYNC_FAILED, or roost-init's SYNC_EXITED */
        int tty_sock[2];    /* container -> parent: the pty master */
        int empty_tree;     /* read-only copy of scratch/empty, for the masks; -1 if none */
        bool ro_layer;      /* --read-only over a layer in the scratch, for mount points the tree lacks */
        int init_fd;        /* sealed memfd holding roost-init */
        /* launch's fds 0-2 that are terminals, as pipes (none with a pty) */
        struct tty_pipes pipes;
};


/* binfmt.c. In launch, first: the tree's architecture (c->arch, else
 * its /bin/sh), whether the host runs it, qemu's interpreter (one clear
 * line when it is missing), and where it is registered: in the
 * container's own user namespace where the kernel keeps a binfmt_misc
 * for each (6.7); else, as root, with the host's, done here and said in
 * one line. Sets st->userns: rootless, or root for that namespace. */
int binfmt_prepare(struct run_state *st, roost_error *e);
/* In the child, with ROOTFD's /proc mounted and before pivot_root, while
 * the host's interpreter can be reached: binfmt_misc of the container's
 * user namespace on /proc/sys/fs/binfmt_misc, the interpreter registered
 * there. Nothing to do for a native tree. */
int binfmt_register(const struct run_state *st, int rootfd, roost_error *e);

/* overlay.c: the writable layer's directories and the files launch
 * provides (/etc/hosts, /etc/hostname, resolv.conf). overlay_prepare runs
 * in launch, overlay_scratch in the container's new mount namespace. */
int overlay_prepare(struct run_state *st, roost_error *e);
int overlay_scratch(struct run_state *st, roost_error *e);
void overlay_done(struct run_state *st);

/* volumes.c: every volume's host side exists (one clear line if not);
 * the devices of those that are device nodes into DEVS (room for one per
 * volume), for the container's allow-list. */
int launch_volumes_check(const struct launch_config *c, struct cgroup_device *devs, size_t *n_devs,
                         roost_error *e);

/* mount.c: assembling the root, seen from the container's mount namespace */
int mount_root(const struct run_state *st, roost_error *e);
/* proc does not depend on the network namespace (/proc/net is the
 * reader's), and goes on before launch's is joined; sysfs shows its
 * mounter's, and goes on after. */
int mount_proc(const struct run_state *st, int rootfd, roost_error *e);
int mount_sys(const struct run_state *st, int rootfd, roost_error *e);
int mount_etc_files(const struct run_state *st, int rootfd, roost_error *e);
int mount_volumes(const struct run_state *st, int rootfd, roost_error *e);
int mount_enter_root(const struct run_state *st, roost_error *e);
/* openat2 of PATH below ROOTFD with RESOLVE_IN_ROOT and no magic links:
 * symlinks and ".." stay inside the tree. FLAGS gain O_CLOEXEC. */
int openat2_in_root(int rootfd, const char *path, int flags);
/* Open PATH below ROOTFD as if ROOTFD were "/", so that symlinks in the
 * tree cannot lead out of it; create what is missing when CREATE (the last
 * component as a directory when DIR, else as an empty file). O_PATH fd. */
int open_in_root(int rootfd, const char *path, bool dir, bool create);

/* -w DIR: made, resolved inside the tree, when it does not exist. */
int mount_workdir(const struct run_state *st, int rootfd, roost_error *e);
/* --read-only over a layer (st->ro_layer): the root made read-only, once
 * the mount points it lacked are made. */
int mount_root_seal(const struct run_state *st, roost_error *e);

/* user.c: who the command runs as, read in the container from the image's
 * /etc/passwd and /etc/group below ROOTFD. */
struct user_ids {
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* for setgroups: gid, then the user's other groups */
        size_t n_groups;
        char *home; /* the passwd entry's, else /root for 0 and /; allocated */
};
int user_resolve(const struct launch_user *u, int rootfd, struct user_ids *ret, roost_error *e);
/* ENV itself when it sets HOME, else a copy with HOME=HOME added; NULL
 * when out of memory. Never freed: PID 1 leaves through execve. */
char *const *user_env(char *const *env, const char *home);

/* dev.c */
int mount_dev(const struct run_state *st, int rootfd, roost_error *e);

/* net.c */
int net_loopback_up(roost_error *e);

/* tty.c */
int tty_open_master(int *ret_master, char **ret_slave, roost_error *e);
int tty_send_fd(int sock, int fd);
int tty_recv_fd(int sock, int *ret);
int tty_make_controlling(const char *slave);
/* In launch, before the clone: the pipes that stand for launch's
 * terminals (none when no fd is one). */
int tty_pipes_open(struct tty_pipes *p, roost_error *e);
/* In the child: the inner ends become its 0, 1 and 2 (and inner[] says
 * which); every other end is closed. */
int tty_pipes_enter(struct tty_pipes *p);
void tty_pipes_close(struct tty_pipes *p, bool inner, bool outer);

/* What launch does while the container runs: pass signals on, relay the
 * pseudo-terminal's MASTER or the PIPES (each -1 when absent), and read
 * REPFD (when not -1) for init's report. */
struct relay {
        pid_t child; /* the container's init */
        int sigfd;
        int master;
        int pipes[3]; /* tty_pipes.outer */
        int repfd;
        struct sync_msg rep; /* valid when have_rep */
        bool have_rep;
        int wstatus; /* the init's, when tty_relay returned 0 */
};
/* Until the init is gone (returns 0), or the report says the command
 * ended (returns 1); either way what the command wrote last has been passed
 * on. A failure's report read on the way is kept in REP. */
int tty_relay(struct relay *r);
int tty_raw(int fd, void **ret_saved);
void tty_restore(int fd, void *saved);
void tty_copy_winsize(int from, int to);

