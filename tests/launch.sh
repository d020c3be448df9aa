#!/bin/bash
# launch against the busybox fixture tree: namespaces, root, mounts, init,
# exit codes, overlay, volumes and bad input, checked from outside and from
# inside (with the static probe bind-mounted in).
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

launch_fixture
PROBE=$ROOST_BUILDDIR/tests/probe/probe
[ -x "$PROBE" ] || skip_all "tests/probe/probe not built"

# For background runs, so that $! is launch itself and not a subshell.
LAUNCH=(launch --store "$STORE" --rootfs "$ROOTFS")
LP() { L -v "$PROBE:/probe:ro" "$@"; }

# What the stored tree is, metadata and contents, to prove it untouched.
tree_hash() {
        (cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
                find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}
tree_before=$(tree_hash "$ROOTFS")
mounts_before=$(cat /proc/self/mountinfo)
host_hostname=$(hostname)

# ---- PID, UTS, mount namespaces, seen from inside
run_cmd L sh -c 'echo $$; ps -o pid= >/tmp/ps; tr -d " " </tmp/ps | tr "\n" " "'
is "$rc" 0 "a command runs"
is "$(sed -n 1p <<<"$out")" 2 "the command is PID 2, under our init as PID 1"
is "$(sed -n 2p <<<"$out")" "1 2 3 " "ps inside sees only init, sh and ps"
L cat /proc/1/cmdline >"$TEST_TMP/cmdline"
is "$(tr '\0' ' ' <"$TEST_TMP/cmdline" | sed 's/ *$//')" roost-init "PID 1 is our init, named so, without launch's host paths"
is "$(wc -c <"$TEST_TMP/cmdline")" 11 "... and nothing after the name (not even NULs)"
run_cmd L --hostname box1 sh -c 'hostname; cat /etc/hostname; grep box1 /etc/hosts | head -1'
is "$(sed -n 1p <<<"$out")" box1 "--hostname sets the UTS name"
is "$(sed -n 2p <<<"$out")" box1 "/etc/hostname says it too"
like "$(sed -n 3p <<<"$out")" '^127\.0\.0\.1.*box1' "/etc/hosts resolves it"
run_cmd L --privileged sh -c 'hostname evil 2>/dev/null; mount -t tmpfs none /mnt 2>/dev/null; hostname'
is "$(hostname)" "$host_hostname" "the host's hostname is untouched by the container's"

# ---- seen from outside: a running container's namespaces differ from ours
"${LAUNCH[@]}" sleep 3 &
lpid=$!
for _ in $(seq 50); do ipid=$(pgrep -P "$lpid" | head -1); [ -n "$ipid" ] && break; sleep 0.05; done
if [ -n "$ipid" ]; then
        for ns in pid mnt uts ipc net cgroup; do
                [ "$(readlink /proc/$ipid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
                ok $? "the container has its own $ns namespace"
        done
        cpid=$(pgrep -P "$ipid" | head -1)
        if [ -e /proc/self/ns/time ] && [ -n "$cpid" ]; then
                [ "$(readlink /proc/$cpid/ns/time)" != "$(readlink /proc/self/ns/time)" ]
                ok $? "the command has its own time namespace"
        else
                skip "the command has its own time namespace" "no time namespaces on this kernel"
        fi
        like "$(grep NSpid /proc/$ipid/status)" 'NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "its init is PID 1 of its PID namespace"
        is "$(grep -cF "$STORE" /proc/self/mountinfo)" 0 "the container's mounts are not in the host's table"
else
        ok 1 "the container's init could be found"
fi
kill -TERM "$lpid" 2>/dev/null
wait "$lpid"
is "$?" 143 "SIGTERM to launch ends a sleep with 128+15"

# ---- the root: pivot_root, escape probe, --chroot teaching mode, fallback
marker=$TEST_TMP/host-marker
touch "$marker"
# --privileged: root keeps CAP_SYS_CHROOT and every other capability, so
# that what holds is the root itself, not a missing capability.
run_cmd LP --privileged /probe escape "$marker"
is "$out" inside "the chroot escape stays inside the pivoted root"
run_cmd LP --privileged --chroot /probe escape "$marker"
is "$out" escaped "--chroot is escapable, as documented (teaching mode)"
ROOST_LAUNCH_NO_PIVOT=1 run_cmd LP --privileged /probe escape "$marker"
is "$out" inside "the move-mount + chroot fallback keeps the probe inside too"
like "$err" "pivot_root is not possible here" "the fallback says so on stderr"
run_cmd L cat /etc/alpine-release
is "$out" 3.99.0 "the container sees the tree's files"

# ---- /proc, /dev, /sys
run_cmd L cat /proc/self/mountinfo
out=$(awk '$5 ~ /^\/(proc|sys|dev|dev\/pts|dev\/shm)$/ { for (i = 7; $i != "-"; i++); print $5, $6, $(i + 1) }' <<<"$out")
like "$out" '^/proc rw,nosuid,nodev,noexec[^ ]* proc$' "a fresh proc, nosuid,nodev,noexec"
like "$out" '/sys ro,' "/sys is read-only"
like "$out" '/dev rw,nosuid,noexec[^ ]* tmpfs' "/dev is a tmpfs, nosuid and noexec (the device cgroup keeps its nodes shut)"
like "$out" '/dev/pts [^ ]* devpts' "/dev/pts is a devpts of its own"
like "$out" '/dev/shm [^ ]* tmpfs' "/dev/shm is a tmpfs"
run_cmd env ROOST_LAUNCH_NO_DEVICES=1 launch --store "$STORE" --rootfs "$ROOTFS" cat /proc/self/mountinfo
like "$(awk '$5 == "/dev" { print $6 }' <<<"$out")" '^rw,nosuid,nodev,noexec' "without a device cgroup, /dev is nodev"
run_cmd L sh -c 'ls /dev | tr "\n" " "'
is "$out" "core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " "/dev holds only the usual devices"
run_cmd L sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c'
is "$(echo $out)" "4 8" "null, zero and urandom work"
run_cmd L sh -c 'touch /sys/x'
ok $((rc == 0)) "writing under /sys fails"
run_cmd L sh -c 'grep " / " /proc/self/mountinfo'
like "$out" 'nodev' "the stored tree is mounted nodev"

# ---- network
run_cmd L sh -c 'ls /sys/class/net | tr "\n" " "; echo; cat /sys/class/net/lo/flags'
like "$(sed -n 1p <<<"$out")" '^lo $' "--net none (default): only loopback"
like "$(sed -n 2p <<<"$out")" '^0x[0-9a-f]*9$' "loopback is up"
run_cmd L --net host sh -c 'ls /sys/class/net | wc -l'
is "$out" "$(ls /sys/class/net | wc -l)" "--net host shares the host's interfaces"
run_cmd L --net host cat /etc/resolv.conf
is "$out" "$(cat /etc/resolv.conf)" "--net host gives the host's resolv.conf"
run_cmd L --net host --hostname hh cat /etc/hosts
like "$out" "hh" "... and a hosts file that names the container"
run_cmd L --net bridge true
is "$rc" 125 "--net with an unknown mode: 125"

# ---- init: exit codes, signals, zombies
run_cmd L sh -c 'exit 7'
is "$rc" 7 "the command's exit status is passed through"
run_cmd L sh -c 'kill -KILL $$'
is "$rc" 137 "a command killed by SIGKILL gives 128+9"
run_cmd L nosuch-command
is "$rc" 127 "a missing command: 127"
is "$err" "launch: nosuch-command: command not found" "a missing command: one clear line"
run_cmd L /etc/passwd
is "$rc" 126 "a command that cannot be run: 126"
like "$err" '^launch: /etc/passwd: Permission denied$' "... with one line"
: >"$TEST_TMP/trap.out"
"${LAUNCH[@]}" sh -c 'trap "echo got-TERM; exit 3" TERM; echo ready; sleep 5 & wait' >"$TEST_TMP/trap.out" &
lpid=$!
for _ in $(seq 50); do grep -q ready "$TEST_TMP/trap.out" && break; sleep 0.05; done
kill -TERM "$lpid"
wait "$lpid"
is "$?" 3 "SIGTERM to launch reaches the command's handler"
like "$(cat "$TEST_TMP/trap.out")" got-TERM "... which ran"
: >"$TEST_TMP/usr1.out"
"${LAUNCH[@]}" sh -c 'trap "exit 4" USR1; echo ready; sleep 5 & wait' >"$TEST_TMP/usr1.out" &
lpid=$!
for _ in $(seq 50); do grep -q ready "$TEST_TMP/usr1.out" && break; sleep 0.05; done
kill -USR1 "$lpid"
wait "$lpid"
is "$?" 4 "SIGUSR1 is forwarded too"
run_cmd LP /probe orphans
is "$out" 0 "orphans are reaped by init: no zombies"

# ---- standard streams pass through untouched
run_cmd bash -c "printf 'a\nb\n' | launch --store '$STORE' --rootfs '$ROOTFS' cat"
is "$out" "$(printf 'a\nb')" "a pipe on stdin passes through"
head -c 200000 /dev/urandom >"$TEST_TMP/blob"
L cat <"$TEST_TMP/blob" >"$TEST_TMP/blob.out"
check "binary data round-trips through stdin and stdout" cmp -s "$TEST_TMP/blob" "$TEST_TMP/blob.out"
run_cmd L cat </dev/null
is "$rc:$out" "0:" "stdin from /dev/null gives EOF"
run_cmd L sh -c 'echo out; echo err >&2'
is "$out|$err" "out|err" "stdout and stderr stay apart"
run_cmd L sh -c 'test -t 0 || echo no-tty'
is "$out" no-tty "without a terminal, no pseudo-terminal is made"

# ---- descriptors: only 0, 1 and 2 inside, even when launch's caller leaks
run_cmd bash -c "exec 5</dev/null 7>$TEST_TMP/leak; launch --store '$STORE' --rootfs '$ROOTFS' -v '$PROBE:/probe:ro' /probe fds"
is "$(echo $out)" "0 1 2" "only fds 0, 1 and 2 are open inside"

# ---- environment, working directory, user
run_cmd env FROMHOST=yes launch --store "$STORE" --rootfs "$ROOTFS" -e A=1 -e FROMHOST -e PATH=/bin -w /etc -u 65534:65534 \
        sh -c 'echo $A $FROMHOST $PATH; pwd; id -u; id -g; echo $HOME'
is "$out" "$(printf '1 yes /bin\n/etc\n65534\n65534\n/')" "-e, -w and -u apply"
run_cmd L env
like "$out" '^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$' "a default PATH"
ok $(grep -q "^ROOST_STORE\|^SSH_\|^MAKEFLAGS" <<<"$out"; echo $((!$?))) "launch's own environment does not leak in"
# docker's --entrypoint: one word, replacing the image's; only the arguments follow it
run_cmd L --entrypoint /bin/echo a b
is "$rc:$out" "0:a b" "--entrypoint runs with the arguments after the image"
run_cmd L --entrypoint 'echo x' true
is "$rc" 127 "--entrypoint is one word, never split"
run_cmd L --entrypoint ''
is "$rc:$(wc -l <<<"$err")" "125:1" "--entrypoint '' and no command: 125, one line"
like "$err" "^launch: no command: --entrypoint '' clears" "... saying why"
run_cmd L --entrypoint '' echo c
is "$out" c "--entrypoint '' leaves the command after the image"
run_cmd L -e HOSTNAME=mine --hostname box env
like "$out" '^HOSTNAME=mine$' "-e goes over launch's HOSTNAME, as in docker"
run_cmd L -w /etc/os-release true
is "$rc" 125 "a working directory that is a file: 125"
like "$err" '^launch: working directory /etc/os-release: Not a directory$' "... with one line"

# ---- the overlay: discarded by default, kept with --name, none with --read-only
run_cmd L sh -c 'echo scratch >/etc/scratch && rm /etc/os-release && cat /etc/scratch'
is "$out" scratch "the container can write"
run_cmd L sh -c 'cat /etc/scratch 2>&1; cat /etc/os-release | head -1'
like "$out" 'No such file' "its writes are gone next time"
like "$out" 'NAME="Alpine Linux"' "... and so are its deletions"
run_cmd L --name keep1 sh -c 'echo kept >/root/note'
is "$rc" 0 "--name runs"
run_cmd L --name keep1 cat /root/note
is "$out" kept "--name keeps the layer for the next launch with that name"
run_cmd L --name keep2 cat /root/note
is "$rc" 1 "another name does not see it"
run_cmd L --name keep1 --hostname h cat /etc/hostname
is "$out" h "a named container still gets the hostname asked for"
mkdir -p "$TEST_TMP/other" && cp -a "$ROOTFS/." "$TEST_TMP/other/"
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/other" --name keep1 cat /root/note
is "$rc:$out" "125:" "a named layer is refused over another tree"
like "$err" "^launch: container keep1 was made on another tree" "... saying so"
run_cmd L --name ../evil true
is "$rc" 125 "--name refuses a path"
run_cmd L --read-only sh -c 'touch /x'
ok $((rc == 0)) "--read-only: the root cannot be written"
run_cmd L --read-only sh -c 'echo ok >/tmp/x 2>/dev/null || cat /etc/alpine-release'
is "$out" 3.99.0 "--read-only still runs commands"
run_cmd L --read-only --name x true
is "$rc" 125 "--read-only with --name is refused"
"${LAUNCH[@]}" --name busy sleep 2 &
bpid=$!
sleep 0.3
run_cmd L --name busy true
is "$rc" 125 "a named layer in use by a running launch is refused"
like "$err" "container busy is in use" "... saying so"
run_cmd roost rm --store "$STORE" --container busy
is "$rc" 1 "roost rm --container refuses a layer in use"
like "$err" "container busy is in use by a launch" "... saying so"
test -d "$STORE/containers/busy/upper"; ok $? "... and leaves it whole"
wait "$bpid"
run_cmd roost rm --store "$STORE" --container keep1
is "$rc:$out" "0:removed container keep1" "roost rm --container removes a named layer"
test ! -e "$STORE/containers/keep1"; ok $? "... from the store"
! ls -d "$STORE"/tmp/*/layer >/dev/null 2>&1; ok $? "... leaving nothing in tmp/"
run_cmd L --name keep1 cat /root/note
is "$rc" 1 "a launch of that name starts from a fresh layer"
run_cmd roost rm --store "$STORE" --container keep1 nope ../x
is "$rc:$out" "3:removed container keep1" "rm --container goes on past errors; the first one's code (3)"
like "$err" "no container nope in the store" "... an unknown name is said"
like "$err" "'../x' is not a container name" "... and so is a path"

# ---- volumes
mkdir -p "$TEST_TMP/vol"
echo host >"$TEST_TMP/vol/in"
run_cmd L -v "$TEST_TMP/vol:/data" sh -c 'cat /data/in; echo back >/data/out'
is "$out" host "a volume shows host files"
is "$(cat "$TEST_TMP/vol/out")" back "... and takes writes back"
run_cmd L -v "$TEST_TMP/vol:/data:ro" sh -c 'echo no >/data/out2'
ok $((rc == 0)) "a :ro volume refuses writes"
[ ! -e "$TEST_TMP/vol/out2" ]; ok $? "... nothing was written"
run_cmd L -v "$TEST_TMP/vol/in:/etc/motd:ro" cat /etc/motd
is "$out" host "a file can be a volume"
run_cmd L -v "$TEST_TMP/vol:/new/deep/dir" ls /new/deep/dir/in
is "$rc" 0 "a volume's mount point is created"
mkdir -p "$TEST_TMP/evilroot"
cp -a "$ROOTFS/." "$TEST_TMP/evilroot/"
ln -s /etc "$TEST_TMP/evilroot/trap"
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/evilroot" -v "$TEST_TMP/vol:/trap/x" true
is "$rc" 0 "a volume under a symlink to / in the tree runs"
[ ! -e /etc/x ]; ok $? "... and lands in the tree, not on the host's /etc"
rm -rf "$TEST_TMP/evilroot/proc" "$TEST_TMP/evilroot/sys"
ln -s /etc "$TEST_TMP/evilroot/proc"
ln -s ../../../../../.. "$TEST_TMP/evilroot/sys"
mounts_now=$(cat /proc/self/mountinfo)
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/evilroot" -v "$PROBE:/probe:ro" /probe ids
is "$rc:$(wc -l <<<"$err")" "125:1" "a tree whose /proc is a symlink is refused: 125, one line"
like "$err" "the tree's /proc is not a directory" "... saying why"
is "$(cat /proc/self/mountinfo)" "$mounts_now" "... and nothing was mounted on the host's paths"

# ---- bad input: one line each, a documented code
for spec in "nocolon" ":/x" "$TEST_TMP/vol:relative" "$TEST_TMP/vol:/" "$TEST_TMP/vol:/a/../b" "$TEST_TMP/vol:/x:rx"; do
        run_cmd L -v "$spec" true
        is "$rc:$(wc -l <<<"$err")" "125:1" "bad -v '$spec': 125 and one line"
done
run_cmd L -v /nonexistent/path:/x true
is "$rc" 125 "a volume whose host path does not exist: 125"
is "$err" "launch: volume /nonexistent/path: No such file or directory" "... with one clear line"
run_cmd L --frobnicate true
is "$rc:$(wc -l <<<"$err")" "125:1" "an unknown option: 125 and one line"
like "$err" "^launch: unknown option '--frobnicate'" "... naming it"
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/missing" true
is "$rc:$(wc -l <<<"$err")" "125:1" "a missing --rootfs: 125 and one line"
run_cmd launch --store "$STORE" --offline nosuchimage:1.0 true
is "$rc:$(wc -l <<<"$err")" "125:2" "an unknown image (offline): 125, the reason and what to do"
is "$(grep -vc '^launch: ' <<<"$err")" 0 "... both launch's"
run_cmd launch --store "$STORE" 'Bad/Name' true
is "$rc:$(wc -l <<<"$err")" "125:1" "an invalid image name: 125 and one line"
for o in "-u abc" "-u 1:x" "-u $(printf '0%.0s' $(seq 70))5" "--memory 12q" "--pids 0" "--cpus -1" "-w relative" "--cap-add NOT_A_CAP" "--seccomp=strict"; do
        run_cmd L $o true
        is "$rc:$(wc -l <<<"$err")" "125:1" "bad '$o': 125 and one line"
done

# ---- after launch is killed: the container dies, the next launch cleans up
: >"$TEST_TMP/k.out"
"${LAUNCH[@]}" sh -c 'echo ready; exec sleep 30' >"$TEST_TMP/k.out" &
lpid=$!
for _ in $(seq 50); do grep -q ready "$TEST_TMP/k.out" && break; sleep 0.05; done
ipid=$(pgrep -P "$lpid" | head -1)
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
for _ in $(seq 50); do [ -d "/proc/$ipid" ] || break; sleep 0.05; done
[ ! -d "/proc/$ipid" ]; ok $? "SIGKILL of launch takes the container with it"
is "$(ls -A "$STORE/tmp" | wc -l)" 0 "its writable layer went with it (a tmpfs of its namespace)"
is "$(grep -cF "$STORE" /proc/self/mountinfo)" 0 "... and no mount of it is left on the host"

# ---- nothing changed on the host
is "$(tree_hash "$ROOTFS")" "$tree_before" "the stored tree is unchanged, byte for byte"
is "$(cat /proc/self/mountinfo)" "$mounts_before" "the host's mount table is as before"
is "$(ls -A "$STORE/tmp" | wc -l)" 0 "no temporary is left in the store"

tap_done
