/* The straight line of a launch. The parent prepares what needs the host's
 * view (the scratch and overlay directories, cgroup), clones the child
 * into new namespaces, writes its id maps, lets it go, and then only
 * relays: signals, and the terminal when there is one. The child assembles
 * the root, enters it and becomes the container's init. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include "common/util.h"
#include "launch/explain.h"
#include "launch/launch-private.h"
#include "launch/steps.h"
#include "launch/sync.h"

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0) {
                        close(p[i]);
                        p[i] = -1;
                }
}

/* The container's PID 1 lives as long as the container, and a process
 * in it allowed to ptrace it (--cap-add SYS_PTRACE) can open whatever it
 * holds through /proc/1/fd: the caller's store directory and locks, the
 * caller's leaked descriptors. Only 0-2 and what init still uses stay. */
static int close_inherited(const struct run_state *st)
{
        int keep[] = { st->err_pipe[1], st->tty_sock[1], explain_fd, st->init_fd,
                       st->net_by_parent ? st->sync_pipe[0] : -1 };
        unsigned from = 3;
        /* Ascending, the unset (-1) ones first. */
        for (size_t i = 1; i < ELEMENTSOF(keep); i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        for (size_t i = 0; i < ELEMENTSOF(keep); i++) {
                if (keep[i] < (int)from)
                        continue;
                if ((unsigned)keep[i] > from && close_range(from, (unsigned)keep[i] - 1, 0) < 0)
                        return -errno;
                from = (unsigned)keep[i] + 1;
        }
        return close_range(from, ~0U, 0) < 0 ? -errno : 0;
}

/* The child, in its new namespaces (PID 1 of the new PID namespace). */
static _Noreturn void child_main(struct run_state *st)
{
        const struct launch_config *c = st->c;
        roost_error e = { "" };
        struct sync_msg m;
        int r;

        close(st->sync_pipe[1]);
        close(st->err_pipe[0]);
        if (st->tty_sock[0] >= 0)
                close(st->tty_sock[0]);
        /* First: not even the container's init holds the caller's terminal. */
        if ((r = tty_pipes_enter(&st->pipes)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "the pipes for the terminal: %s", strerror(-r));
        /* The container does not outlive launch: a SIGKILL of launch takes the
         * whole PID namespace with it, and the store's cleanup the rest. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "setting the parent-death signal: %m");
        /* Wait until the parent has written our id maps and put us in our
         * cgroup; EOF means it died before that. */
        if (sync_recv(st->sync_pipe[0], &m) < 0 || m.kind != SYNC_GO)
                _exit(LAUNCH_EXIT_ERROR);

        step_mark(STEP_START);
        EXPLAIN("-- in the child, PID 1 of its new PID namespace --");
        /* Only now, inside the container's cgroup, so that its cgroup
         * namespace is rooted there and /proc/self/cgroup shows "/". */
        EXPLAIN("unshare(CLONE_NEWCGROUP) — a cgroup namespace: the container sees its cgroup as \"/\"");
        if (unshare(CLONE_NEWCGROUP) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "creating the cgroup namespace: %m");
        /* A time namespace applies to our children, the command included.
         * Older kernels lack it (EINVAL): the rest still holds. */
        EXPLAIN("unshare(CLONE_NEWTIME) — a time namespace for the child processes (boot and monotonic "
                "clocks of their own)");
        if (unshare(CLONE_NEWTIME) < 0 && errno != EINVAL)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "creating the time namespace: %m");
        EXPLAIN("sethostname(\"%s\") — only the new UTS namespace sees it", c->hostname);
        if (sethostname(c->hostname, strlen(c->hostname)) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "setting the hostname %s: %m", c->hostname);
        if (c->net == LAUNCH_NET_NONE && !st->net_by_parent) {
                EXPLAIN("ioctl(SIOCSIFFLAGS, \"lo\", IFF_UP|IFF_RUNNING) — loopback up in the new network "
                        "namespace");
                if ((r = net_loopback_up(&e)) < 0)
                        sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        }
        EXPLAIN("mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE) — no mount of ours propagates to the host, "
                "none of the host's leaks in");

        /* Nothing we mount may propagate back to the host (systemd makes /
         * shared by default), and nothing the host mounts later leaks in. */
        step_mark(STEP_NAMESPACES);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "making / private: %m");
        if ((r = overlay_scratch(st, &e)) < 0 || (r = mount_root(st, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_ROOT);
        _cleanup_close_ int rootfd = open(st->root_mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "opening the new root: %m");
        if ((r = mount_dev(st, rootfd, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_DEV);
        if ((r = mount_etc_files(st, rootfd, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_ETC);
        /* The bounding set's cut (27 credential commits by default) while
         * launch may still be making the network namespace: it takes no
         * capability the mounts below need. */
        if (!c->sandbox.privileged)
                EXPLAIN("prctl(PR_CAPBSET_DROP) for each capability the command may not have — PID 1's "
                        "bounding set cut to the command's (its process inherits it), now, while launch may "
                        "still be making the network namespace: the permitted and effective sets the "
                        "mounts below use stay whole");
        if ((r = sandbox_init_bound(&c->sandbox, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        /* proc too, while launch may still be making the network
         * namespace: it shows the network of whoever reads it. */
        if ((r = mount_proc(st, rootfd, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        /* sysfs shows the network of whoever mounts it: join the private
         * one first, if launch made it for us meanwhile. */
        if (st->net_by_parent) {
                char path[64];
                if (sync_recv(st->sync_pipe[0], &m) < 0 || m.kind != SYNC_NET_READY)
                        _exit(LAUNCH_EXIT_ERROR);
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)st->parent);
                EXPLAIN("setns(open(\"%s\"), CLONE_NEWNET) — join the network namespace launch made "
                        "meanwhile",
                        path);
                _cleanup_close_ int nfd = open(path, O_RDONLY | O_CLOEXEC);
                if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0)
                        sync_fail(st->err_pipe[1], -errno, LAUNCH_EXIT_ERROR, "joining the network namespace: %m");
        }
        step_mark(STEP_NET_WAIT);
        /* Where launch makes the network, its loopback comes up while we
         * go on; PID 1 waits for SYNC_NET_UP before anything of the
         * container runs (init.c). */
        if (!st->net_by_parent)
                close(st->sync_pipe[0]);
        if ((r = mount_sys(st, rootfd, &e)) < 0 || (r = mount_volumes(st, rootfd, &e)) < 0 ||
            (r = mount_workdir(st, rootfd, &e)) < 0 || (r = mount_root_seal(st, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        /* A foreign tree's interpreter, registered while the host's /usr/bin
         * can still be reached: before pivot_root. */
        if ((r = binfmt_register(st, rootfd, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        close(TAKE_FD(rootfd));
        step_mark(STEP_PROC_SYS);
        if ((r = mount_enter_root(st, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_PIVOT);
        if ((r = sandbox_mask_paths(&c->sandbox, st->empty_tree, &e)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "%s", e.msg);
        step_mark(STEP_MASKS);
        /* The masks' empty tree goes with the rest. */
        if ((r = close_inherited(st)) < 0)
                sync_fail(st->err_pipe[1], r, LAUNCH_EXIT_ERROR, "closing launch's descriptors: %s", strerror(-r));
        init_run(st);
}

static int block_signals(sigset_t *old, int *ret_sigfd)
{
        sigset_t set;
        sigemptyset(&set);
        for (size_t i = 0; i < launch_n_forwarded_signals; i++)
                sigaddset(&set, launch_forwarded_signals[i]);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &set, old) < 0)
                return -errno;
        int fd = signalfd(-1, &set, SFD_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                sigprocmask(SIG_SETMASK, old, NULL);
                return r;
        }
        *ret_sigfd = fd;
        return 0;
}

static int wait_status_code(int ws)
{
        if (WIFEXITED(ws))
                return WEXITSTATUS(ws);
        if (WIFSIGNALED(ws))
                return 128 + WTERMSIG(ws);
        return LAUNCH_EXIT_ERROR;
}

static void state_done(struct run_state *st)
{
        close_pair(st->sync_pipe);
        close_pair(st->err_pipe);
        close_pair(st->tty_sock);
        if (st->init_fd >= 0)
                close(st->init_fd), st->init_fd = -1;
        tty_pipes_close(&st->pipes, true, true);
        overlay_done(st);
}

int launch_run(const struct launch_config *c, int *ret_status, roost_error *e)
{
        struct run_state st = {
                .c = c,
                .rootless = geteuid() != 0,
                .sync_pipe = { -1, -1 },
                .err_pipe = { -1, -1 },
                .tty_sock = { -1, -1 },
                .pipes = { { -1, -1, -1 }, { -1, -1, -1 } },
                .empty_tree = -1,
                .init_fd = -1,
        };
        _cleanup_close_ int sigfd = -1;
        _cleanup_close_ int master = -1;
        void *saved_tty = NULL;
        struct relay rl = { .master = -1, .repfd = -1 };
        cgroup *cg = NULL;
        _cleanup_free_ struct cgroup_device *devs = NULL;
        struct cgroup_devices allow = { 0 };
        sigset_t oldmask;
        struct sigaction old_pipe;
        bool blocked = false, pipe_ignored = false;
        pid_t pid = -1;
        int r;

        *ret_status = LAUNCH_EXIT_ERROR;
        if ((r = binfmt_prepare(&st, e)) < 0 || (r = overlay_prepare(&st, e)) < 0)
                goto out;
        if (!(devs = calloc(c->n_volumes + 1, sizeof(*devs)))) {
                r = -ENOMEM;
                goto out;
        }
        if ((r = launch_volumes_check(c, devs, &allow.n_extra, e)) < 0)
                goto out;
        if (pipe2(st.sync_pipe, O_CLOEXEC) < 0 || pipe2(st.err_pipe, O_CLOEXEC) < 0 ||
            (c->tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st.tty_sock) < 0)) {
                r = roost_error_set(e, -errno, "creating pipes");
                goto out;
        }
        if ((r = st.init_fd = init_memfd(e)) < 0)
                goto out;
        if (!c->tty && (r = tty_pipes_open(&st.pipes, e)) < 0)
                goto out;
        char id[64];
        snprintf(id, sizeof(id), "roost-%d", (int)getpid());
        /* Every root launch gets a device allow-list (docs/launch.md), but
         * --privileged, which may open any device, as under docker; and a
         * user namespace's root may neither mknod nor mount a devtmpfs. */
        bool limits = c->limits.memory || c->limits.pids || c->limits.cpus > 0;
        bool devices = !st.rootless && !c->sandbox.privileged;
        allow.extra = devs;
        allow.sys_admin = sandbox_caps(&c->sandbox) & (UINT64_C(1) << CAP_SYS_ADMIN);
        /* A launch killed with SIGKILL could not remove its cgroups: the
         * next launch that makes one sweeps those (so does roost gc). */
        if (limits || (devices && (allow.sys_admin || allow.n_extra)))
                (void)cgroup_cleanup_stale();
        if (explaining() && !limits)
                explain_line("no limit cgroup: no --memory, --pids or --cpus limit was asked for");
        if (explaining() && !devices)
                explain_line("no device cgroup: %s",
                             st.rootless ? "in a user namespace the kernel refuses mknod and devtmpfs anyway"
                                         : "--privileged may open any device, as under docker");
        if ((r = cgroup_create(id, &c->limits, devices ? &allow : NULL, &cg, e)) < 0)
                goto out;
        if ((r = block_signals(&oldmask, &sigfd)) < 0) {
                roost_error_set(e, r, "blocking signals");
                goto out;
        }
        blocked = true;

        /* A network namespace is the dearest part of a launch (about 1 ms,
         * docs/launch.md). As root, launch makes it itself, in parallel with
         * the child's mounts, and the child joins it before mounting sysfs.
         * With a user namespace (rootless, or a foreign tree's binfmt_misc)
         * it must belong to the child's. */
        st.net_by_parent = !st.userns && c->net == LAUNCH_NET_NONE;
        st.parent = getpid();
        /* launch may leave as soon as the command ended, unless something
         * of the container must be gone first: its cgroup (to remove it),
         * its named layer (for the next launch of that name), or the
         * pseudo-terminal's last output. The pipes that stand for a
         * terminal hold the command's last output already when it ends. */
        st.early_exit = !c->tty && !cgroup_owned(cg) && c->overlay != LAUNCH_OVERLAY_NAMED;
        st.devices_listed = cgroup_path(cg, "devices") != NULL;
        unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
        if (c->net == LAUNCH_NET_NONE && !st.net_by_parent)
                flags |= CLONE_NEWNET;
        if (st.userns)
                flags |= CLONE_NEWUSER;
        /* clone(2) without a stack behaves as fork: the child gets a copy
         * of everything, and becomes PID 1 of its PID namespace. clone3
         * can also have it born in its cgroup2, which costs far less than
         * moving it there (launch/cgroup.c). */
        int into = cgroup_clone_fd(cg);
        struct clone_args ca = {
                .flags = (flags & ~(unsigned long)CSIGNAL) | CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)into,
        };
        if (explaining()) {
                char fb[EXPLAIN_FLAGS_MAX];
                explain_line("%s(%s) — the child starts in new namespaces: mounts, PIDs (it will be "
                             "PID 1), hostname, IPC%s%s%s%s",
                             into >= 0 ? "clone3" : "clone",
                             explain_clone_flags(fb, into >= 0 ? ca.flags : flags),
                             flags & CLONE_NEWNET ? ", network" : "",
                             flags & CLONE_NEWUSER ? ", users (root inside is the caller outside)" : "",
                             into >= 0 ? "; born in the cgroup " : "",
                             into >= 0 ? cgroup_path(cg, "devices") : "");
        }
        if (into >= 0) {
                pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
                if (pid < 0 && errno == ENOSYS) {
                        EXPLAIN("clone3 is refused here (ENOSYS): clone, then a move into the cgroup");
                        cgroup_clone_refused(cg);
                        into = -1;
                }
        }
        if (into < 0)
                pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                r = roost_error_set(e, -errno, "creating the container's namespaces");
                if (st.rootless)
                        r = userns_diagnose(r, e);
                goto out;
        }
        if (pid == 0)
                child_main(&st);
        /* A child that failed early (its report is in the error pipe) has
         * closed the sync pipe's other end: writing to it must say EPIPE,
         * not kill launch before it tells why. */
        struct sigaction ign = { .sa_handler = SIG_IGN };
        sigaction(SIGPIPE, &ign, &old_pipe);
        pipe_ignored = true;

        EXPLAIN("the child is pid %d out here; it waits on a pipe until launch has set it up", (int)pid);
        close(st.sync_pipe[0]), st.sync_pipe[0] = -1;
        close(st.err_pipe[1]), st.err_pipe[1] = -1;
        if (st.tty_sock[1] >= 0)
                close(st.tty_sock[1]), st.tty_sock[1] = -1;
        tty_pipes_close(&st.pipes, true, false);
        if (st.userns && (r = st.rootless ? userns_map(pid, e) : userns_map_identity(pid, e)) < 0)
                goto kill;
        /* Once (per store, for launch's tool): a user who chose the single
         * id need not read it at every launch. */
        if (st.rootless && c->notice && userns_map_note() && (!c->note_once || c->note_once("rootless-id-map")))
                c->notice(userns_map_note());
        if (cg && (r = cgroup_attach(cg, pid, e)) < 0)
                goto kill;
        EXPLAIN("write(sync pipe, SYNC_GO) — the child waited for its id maps and cgroup; it may go on");
        if ((r = sync_send(st.sync_pipe[1], &(struct sync_msg){ .kind = SYNC_GO })) < 0 && r != -EPIPE) {
                r = roost_error_set(e, r, "starting the container");
                goto kill;
        }
        if (st.net_by_parent) {
                /* launch needs no network of its own from here on. */
                EXPLAIN("unshare(CLONE_NEWNET) in launch itself, while the child mounts; the child joins "
                        "this namespace while launch brings lo up, and PID 1 waits for that before the "
                        "command (it costs ~1 ms, done in parallel)");
                if (unshare(CLONE_NEWNET) < 0) {
                        r = roost_error_set(e, -errno, "creating the network namespace");
                        goto kill;
                }
                /* The child may join it at once (sysfs needs only the
                 * namespace); loopback comes up meanwhile, and the
                 * child's PID 1 waits for that before the command. */
                if ((r = sync_send(st.sync_pipe[1], &(struct sync_msg){ .kind = SYNC_NET_READY })) < 0 &&
                    r != -EPIPE) {
                        r = roost_error_set(e, r, "starting the container");
                        goto kill;
                }
                if ((r = net_loopback_up(e)) < 0)
                        goto kill;
                if ((r = sync_send(st.sync_pipe[1], &(struct sync_msg){ .kind = SYNC_NET_UP })) < 0 &&
                    r != -EPIPE) {
                        r = roost_error_set(e, r, "starting the container");
                        goto kill;
                }
        }
        close(st.sync_pipe[1]), st.sync_pipe[1] = -1;

        rl.child = pid;
        rl.sigfd = sigfd;
        memcpy(rl.pipes, st.pipes.outer, sizeof(rl.pipes));
        rl.repfd = st.early_exit ? st.err_pipe[0] : -1;
        /* Without a master the container failed before it had a terminal:
         * its report says why. */
        if (c->tty && tty_recv_fd(st.tty_sock[0], &master) == 0) {
                rl.master = master;
                tty_copy_winsize(STDIN_FILENO, master);
                tty_raw(STDIN_FILENO, &saved_tty);
        }
        /* SIGPIPE is ignored: a reader that goes away (launch -t | head)
         * must not kill launch with the terminal still raw; the relay sees
         * EPIPE. */
        r = tty_relay(&rl);
        tty_restore(STDIN_FILENO, saved_tty);
        if (r < 0) {
                roost_error_set(e, r, "waiting for the container");
                goto kill;
        }
        if (r == 1) {
                /* The command is done; the init is still unmounting the
                 * container's namespace, which the kernel finishes alone. */
                *ret_status = rl.rep.status;
                r = 0;
                goto out;
        }
        pid = -1;

        if (!rl.have_rep)
                rl.have_rep = sync_recv(st.err_pipe[0], &rl.rep) == 0;
        if (rl.have_rep && rl.rep.kind == SYNC_FAILED) {
                *ret_status = rl.rep.status;
                /* the message already carries its cause */
                r = roost_error_set(e, 0, "%s", rl.rep.msg);
                r = rl.rep.r < 0 ? rl.rep.r : -EIO;
                goto out;
        }
        *ret_status = wait_status_code(rl.wstatus);
        r = 0;
        goto out;
kill:
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
out:
        if (pipe_ignored)
                sigaction(SIGPIPE, &old_pipe, NULL);
        if (blocked)
                sigprocmask(SIG_SETMASK, &oldmask, NULL);
        cgroup_destroy(cg);
        state_done(&st);
        return r;
}
