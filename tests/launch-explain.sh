#!/bin/bash
# launch --explain: every step on stderr, in order, from launch, the
# container's init and the command's process alike; the command's stdout
# and exit status untouched; silence without it.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

launch_fixture

# A line of $err matching the regex, or a failure saying what was missing.
has() { like "$err" "$1" "$2"; }
hasnt() {
        if printf '%s\n' "$err" | grep -Eq -- "$1"; then
                ok 1 "$2"; tap_diag "unwanted: $(printf '%s\n' "$err" | grep -E -- "$1" | head -1)"
        else ok 0 "$2"; fi
}
# Line number of the first line matching the regex (0: none).
at() { printf '%s\n' "$err" | grep -nE -m1 -- "$1" | cut -d: -f1 || echo 0; }

run_cmd L true
is "$rc:$out:$err" "0::" "without --explain a successful true prints nothing at all"

run_cmd L --explain -- sh -c 'echo out; echo err >&2; exit 7'
is "$rc" 7 "--explain: the exit status passes through"
is "$out" out "... and stdout is the command's alone"
like "$err" '^err$' "... the command's stderr still comes through"
is "$(printf '%s\n' "$err" | grep -v '^explain: ' | grep -vc '^err$')" 0 "every other stderr line is an explain line"
has '^explain: clone3?\(CLONE_NEWNS\|CLONE_NEWPID\|CLONE_NEWUTS\|CLONE_NEWIPC' "the clone line names its namespaces"
# A root launch's device cgroup: where it is and the allow-list, or why
# there is none.
has '^explain: (the container.s device cgroup: [^ ]+/roost/dev/shared \(.*\).* allow-list: c \*:\* m, b \*:\* m, c 1:3 rwm, .* c 136:\* rwm|no device cgroup \()' \
        "the device cgroup and its allow-list"
has '^explain: unshare\(CLONE_NEWCGROUP\)' "the cgroup namespace's unshare"
has '^explain: sethostname\("roost"\)' "sethostname"
has 'mount\(NULL, "/", NULL, MS_REC\|MS_PRIVATE\)' "making / private, flags by name"
has '^explain: mount "overlay" on .*lowerdir='"$ROOTFS"',upperdir=[^,]+,workdir=' "the overlay with its lowerdir and upperdir"
has '^explain: mount "tmpfs" on [^ ]*/tmp: .*fsconfig\(mode=0700,size=[0-9]+[kmgt]?,nr_inodes=[1-9][0-9]*\)' "the scratch tmpfs, with the layer's bound"
has '^explain: mount "proc" on /proc: fsopen\("proc"\).*MOUNT_ATTR_NOSUID\|MOUNT_ATTR_NODEV\|MOUNT_ATTR_NOEXEC' "the proc mount, flags by name"
has '^explain: mount "tmpfs" on /dev:' "the /dev tmpfs"
has '^explain: pivot_root\("\.", "\."\)' "pivot_root"
has '^explain: umount2\("\.", MNT_DETACH\)' "... and the detach of the old root"
has '^explain: masked paths .*: /proc/[a-z_]+' "the masked paths that exist here"
has '^explain: read-only paths .*/proc/sys' "the read-only paths"
has '^explain: capset\(\) — capabilities kept.*CAP_CHOWN' "the capabilities kept, by name"
has '^explain: prctl\(PR_CAPBSET_DROP\) for each capability' "PID 1 cutting the bounding set"
caps=$(printf '%s\n' "$err" | grep -E '^explain: capset\(\) — capabilities kept' | sed 's/; every other.*//')
[[ $caps != *CAP_SYS_ADMIN* ]]; ok $? "... CAP_SYS_ADMIN not among them"
has '^explain: prctl\(PR_SET_NO_NEW_PRIVS, 1\)' "no_new_privs"
has '^explain: seccomp\(SECCOMP_SET_MODE_FILTER\) — a filter of [1-9][0-9]* BPF instructions' "the seccomp filter's size"
has '^explain: execve\("/bin/sh", \["sh", "-c", "echo out; ' "the execve, with the command found in PATH"
n_clone=$(at '^explain: clone3?\(CLONE_NEWNS') n_proc=$(at 'mount "proc" on /proc')
n_pivot=$(at '^explain: pivot_root') n_detach=$(at 'MNT_DETACH') n_exec=$(at '^explain: execve\(')
(( n_clone > 0 && n_clone < n_proc && n_proc < n_pivot && n_pivot < n_detach && n_detach < n_exec ))
ok $? "in the order they happen (clone $n_clone, proc $n_proc, pivot $n_pivot, detach $n_detach, execve $n_exec)"
n_filter=$(at '^explain: seccomp\(SECCOMP_SET_MODE_FILTER\)') n_bound=$(at '^explain: prctl\(PR_CAPBSET_DROP\) for each')
n_fork=$(at '^explain: clone\(CLONE_VM\|SIGCHLD\) — roost-init starts the command')
(( n_bound < n_proc && n_detach < n_filter && n_filter < n_fork && n_fork < n_exec ))
ok $? "PID 1's own steps too (filter $n_filter, bounding set $n_bound, roost-init's clone of the command $n_fork)"
[ "$(printf '%s\n' "$err" | tail -n 2 | head -n 1 | cut -c1-16)" = "explain: execve(" ]
ok $? "the execve line comes last, right before the command's own output"

run_cmd L --explain --layer-size 4m true
has 'fsconfig\(mode=0700,size=4m,nr_inodes=256\)' "--layer-size 4m: the scratch tmpfs's size and inodes"

run_cmd L --explain /bin/nosuch
is "$rc" 127 "--explain with a missing command: 127 still"
like "$err" 'command not found' "... and the usual message"

run_cmd L --explain --privileged true
is "$rc" 0 "--privileged --explain runs"
has '^explain: seccomp: skipped \(--privileged\)' "--privileged: the seccomp line says it is skipped"
has '^explain: capabilities: all kept, skipped \(--privileged\)' "... the capabilities line too"
has 'masked and read-only paths .*skipped \(--privileged\)' "... and the masks"
has '^explain: no device cgroup: --privileged may open any device' "... and the device cgroup"
run_cmd L --explain --seccomp=unconfined true
has '^explain: seccomp: skipped \(--seccomp=unconfined\)' "--seccomp=unconfined: said so"

run_cmd L --explain --chroot true
has '^explain: chroot\("\."\)' "--chroot: the chroot line"
hasnt 'pivot_root' "... and no pivot_root"

run_cmd L --explain --memory 64M --pids 50 true
if [ "$rc" = 0 ]; then
        has '^explain: mkdir\(".*roost-[0-9]+"\) — the container.s cgroup' "--memory: the cgroup made"
        has '^explain: write\(".*(memory\.limit_in_bytes|memory\.max)", "67108864"\)' "... with the limit written"
        has '^explain: write\(".*pids\.max", "50"\)' "... and the pids limit"
        has '^explain: write\(".*/cgroup\.procs", "[0-9]+"\) — the child joins' "... which the child joins"
else
        for _ in 1 2 3 4; do skip "--memory --explain" "no cgroup here: $err"; done
fi

if command -v script >/dev/null; then
        out=$(script -qec "launch --store '$STORE' --rootfs '$ROOTFS' --explain sh -c 'test -t 2 && echo TTY' 2>'$TEST_TMP/tty.err'" /dev/null </dev/null | tr -d '\r')
        like "$out" 'TTY' "with a pseudo-terminal: the command's stderr is the terminal"
        [[ $out != *explain:* ]]; ok $? "... and no explain line goes to the terminal"
        like "$(cat "$TEST_TMP/tty.err")" '^explain: execve\(' "... they all reach launch's stderr, execve included"
else
        for _ in 1 2 3; do skip "--explain with a terminal" "script (util-linux) not installed"; done
fi

# --step-times: one line of durations before the command, nothing else.
run_cmd L --step-times -- sh -c 'echo out; exit 3'
is "$rc:$out" "3:out" "--step-times: the command's status and stdout are its own"
steps_line="^steps:$(for s in namespaces root dev etc net_wait proc_sys pivot masks init filter \
        init_narrow command caps total; do printf ' %s=[0-9]+\\.[0-9]' "$s"; done)\$"
like "$err" "$steps_line" \
        "... one line on stderr names every step with its microseconds"
is "$(wc -l <<<"$err")" 1 "... and nothing else"
# No figure is asserted: how long a step takes is the benchmark's business
# (bench/harden.sh), and a sanitizer build or a busy machine moves it.
run_cmd L --privileged -u 1000 --step-times id -u
is "$rc:$out" "0:1000" "--privileged -u 1000 --step-times: the command runs as asked"
like "$err" "$steps_line" \
        "... and the line names the same steps (a skipped one counts 0)"

# Rootless: the user namespace's id maps.
if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        UROOT=$TEST_TMP/urootfs USTORE=$TEST_TMP/ustore
        make_rootfs "$UROOT" 3.99.0 && chown -R "$TEST_USER:" "$UROOT"
        mkdir -p "$USTORE" && chown "$TEST_USER" "$USTORE"
        run_cmd as_test_user launch --store "$USTORE" --rootfs "$UROOT" --explain id -u
        is "$rc:$out" "0:0" "rootless --explain: runs, root inside"
        has '^explain: clone\(.*CLONE_NEWUSER' "... the clone makes a user namespace"
        has "^explain: (write\(\"/proc/[0-9]+/uid_map\", \"0 $(id -u "$TEST_USER") 1\"\)|newuidmap [0-9]+ 0 $(id -u "$TEST_USER") 1)" "... the uid_map line"
        has '^explain: (write\("/proc/[0-9]+/gid_map"|newgidmap )' "... and the gid map"
else
        for _ in 1 2 3 4; do skip "rootless --explain" "no unprivileged user namespaces here"; done
fi
tap_done
