/* What the files of launch/ share between themselves and nobody else. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include "launch/launch.h"

/* A failure on the container's side travels to launch through a
 * close-on-exec pipe as one of these, written in one piece. */
struct child_report {
        int r;
        int status;  /* 125, 126 or 127; or the command's, when EXITED */
        bool exited; /* not a failure: init reports the command's end */
        char msg[1024];
};

/* State of one launch, prepared by the parent; the child gets a copy. */
struct run_state {
        const struct launch_config *c;
        bool rootless;
        char *scratch;    /* the store's tmp/, covered by a tmpfs in the container's namespace */
        char *root_mnt;   /* scratch/root: where the container's root is assembled */
        char *host_files; /* scratch/etc: hosts, hostname, resolv.conf */
        char *lower, *upper, *work;
        uid_t lower_uid;
        gid_t lower_gid;
        mode_t lower_mode;
        int named_lock;     /* containers/NAME/lock, held while the layer is in use */
        int sync_pipe[2];   /* parent -> child: the maps are written, go; then the network is ready */
        bool net_by_parent; /* launch makes the network namespace while the child mounts */
        pid_t parent;       /* launch's pid, for the child to join that namespace */
        bool early_exit;    /* init reports the command's status before tearing down */
        int err_pipe[2];    /* container -> parent: struct child_report */
        int tty_sock[2];    /* container -> parent: the pty master */
        int empty_tree;     /* read-only copy of scratch/empty, for the masks; -1 if none */
};

/* Send a report up and _exit with its status. Never returns. */
_Noreturn void child_fail(const struct run_state *st, int r, int status, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

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
int mount_proc_sys(const struct run_state *st, int rootfd, roost_error *e);
int mount_etc_files(const struct run_state *st, int rootfd, roost_error *e);
int mount_volumes(const struct run_state *st, int rootfd, roost_error *e);
int mount_enter_root(const struct run_state *st, roost_error *e);
/* Open PATH below ROOTFD as if ROOTFD were "/", so that symlinks in the
 * tree cannot lead out of it; create what is missing when CREATE (the last
 * component as a directory when DIR, else as an empty file). O_PATH fd. */
int open_in_root(int rootfd, const char *path, bool dir, bool create);

/* dev.c */
int mount_dev(const struct run_state *st, int rootfd, roost_error *e);

/* net.c */
int net_loopback_up(roost_error *e);

/* tty.c */
int tty_open_master(int *ret_master, char **ret_slave, roost_error *e);
int tty_send_fd(int sock, int fd);
int tty_recv_fd(int sock, int *ret);
int tty_make_controlling(const char *slave);
/* Parent side: relay between our terminal and MASTER until the container
 * is gone; CHILD is its init. Returns with the init's wait status. */
int tty_relay(int master, pid_t child, int sigfd, int *ret_wstatus);
int tty_raw(int fd, void **ret_saved);
void tty_restore(int fd, void *saved);
void tty_copy_winsize(int from, int to);

/* init.c: PID 1 of the container; never returns. */
_Noreturn void init_run(const struct run_state *st);

/* The signals launch and its init pass on to the command. */
extern const int launch_forwarded_signals[];
extern const size_t launch_n_forwarded_signals;
