#!/bin/bash
# launch --memory, --pids, --cpus, --layer-size: what a runaway container
# meets, and that its cgroup is gone afterwards.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

launch_fixture

# Where launch puts its cgroups: roost/ below our own memory cgroup (v1) or
# our unified cgroup (v2).
roost_cgroups() {
        local mnt own
        mnt=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)memory(,|$)/) print $5 }' /proc/self/mountinfo | head -1)
        own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup)
        if [ -z "$mnt" ]; then
                mnt=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
                own=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
        fi
        ls "$mnt$own/roost" 2>/dev/null | grep '^roost-' | LC_ALL=C sort
}
before=$(roost_cgroups)

# ---- memory: a runaway allocation is killed, the status is 128+SIGKILL
run_cmd L --memory 32M sh -c 'a=$(head -c 200000000 /dev/zero | tr "\0" x); echo survived'
is "$rc" 137 "--memory 32M: a runaway allocation ends with 137"
[ "$out" != survived ]; ok $? "... and did not survive"
run_cmd L --memory 32M sh -c 'a=$(head -c 1000000 /dev/zero | tr "\0" x); echo fine'
is "$out" fine "--memory 32M: a small allocation is fine"
run_cmd L --memory 32Q true
is "$rc" 125 "--memory 32Q is refused"

# ---- pids: a fork bomb stops at the cap (init, sh and the bomber count)
run_cmd L --pids 16 sh -c '(for i in $(seq 40); do sleep 3 & done); set -- /proc/[0-9]*; echo $#'
[ "$out" -le 16 ] 2>/dev/null && [ "$out" -ge 13 ]
ok $? "--pids 16: a fork bomb reaches the cap and no further ($out processes)"
like "$err" "fork" "... the shell is told it cannot fork"

# ---- cpus: a busy loop gets about half a core (utime+stime over 2 s)
run_cmd L --cpus 0.5 sh -c '( while :; do :; done ) & p=$!; sleep 2; read -r l </proc/$p/stat; kill $p; echo $l'
share=$(awk '{ printf "%.2f", ($14 + $15) / 100 / 2 }' <<<"$out")
tap_diag "a busy loop under --cpus 0.5 used $share of a CPU"
# The cap is the upper bound; below, the loop only has to have run: on 2
# cores shared with a parallel make check it may get less than its half.
awk -v s="$share" 'BEGIN { exit !(s <= 0.6 && s >= 0.05) }'
ok $? "--cpus 0.5 holds a busy loop to at most half a core and a little ($share)"

# ---- the discarded layer: a tmpfs of --layer-size (by default 1 GiB, or a
# quarter of RAM when that is less), not the kernel's half of RAM
mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
def_kib=$((mem_kib / 4096 * 1024))
((def_kib > 1048576)) && def_kib=1048576
run_cmd L stat -f -c '%b %S %c' /
read -r blocks bsize inodes <<<"$out"
is "$((blocks * bsize / 1024))" "$def_kib" "the root's size is the layer's default bound, in KiB (not half of RAM)"
is "$inodes" "$((def_kib / 16))" "... and its inodes are one per 16 KiB of it"
run_cmd L --layer-size 4m sh -c 'dd if=/dev/zero of=/big bs=1M count=8 2>&1; echo "dd=$?"; wc -c </big; exit 3'
is "$rc" 3 "--layer-size 4m, 8 MiB written: launch exits with the command's status"
like "$out" "No space left on device" "... the write fails with ENOSPC"
kept=$(tail -n 1 <<<"$out")
((kept > 0 && kept <= 4194304)); ok $? "... having kept at most 4 MiB ($kept bytes)"
run_cmd L --layer-size 4m sh -c 'i=0; while [ $i -lt 1000 ] && touch /f$i 2>/dev/null; do i=$((i+1)); done; echo $i'
((out >= 200 && out < 256)); ok $? "--layer-size 4m: empty files stop short of 256 inodes ($out made)"
# A named container's layer is on the store's disk, but launch's /etc files
# are bound in from the tmpfs: writing them meets the bound too.
run_cmd L --name bounded --layer-size 4m sh -c 'dd if=/dev/zero of=/etc/hosts bs=1M count=8 2>&1'
like "$out" "No space left on device" "--name: /etc/hosts, launch's own file, is bounded as well"
roost rm --store "$STORE" --container bounded >/dev/null 2>&1
for o in abc -1 0 1.5g 12q 100k; do
        run_cmd L --layer-size "$o" true
        is "$rc:$(wc -l <<<"$err")" "125:1" "--layer-size '$o' is refused: 125 and one line"
done
like "$err" "^launch: --layer-size '100k': " "... naming the option and the value"

# ---- the container's cgroup exists while it runs, and not after
launch --store "$STORE" --rootfs "$ROOTFS" --memory 64M sleep 2 &
lpid=$!
during=
for _ in $(seq 40); do during=$(roost_cgroups); [ "$during" != "$before" ] && break; sleep 0.05; done
like "$during" "roost-$lpid" "while it runs, the container has its cgroup roost/roost-PID"
wait "$lpid"
is "$(roost_cgroups)" "$before" "every container's cgroup is removed after it exits"

# ---- a device cgroup of the launch's own (CAP_SYS_ADMIN), and a cgroup
# the container made below it: left when launch is killed, swept by
# roost gc with all below it. Which hierarchy the container mounts to
# make its own follows the kind launch uses here (--explain says).
run_cmd L --cap-add SYS_ADMIN --explain true
case $err in
*"this launch's device cgroup (a BPF device program"*) fs="-t cgroup2" ;;
*) fs="-t cgroup -o devices" ;;
esac
launch --store "$STORE" --rootfs "$ROOTFS" --cap-add SYS_ADMIN --explain \
        sh -c "mkdir /tmp/cg && mount $fs none /tmp/cg && mkdir /tmp/cg/sub && echo made && sleep 30" \
        >"$TEST_TMP/kill.out" 2>"$TEST_TMP/kill.err" &
lpid=$!
for _ in $(seq 100); do grep -q made "$TEST_TMP/kill.out" && break; sleep 0.05; done
own=$(sed -n 's/^explain: mkdir("\(.*\)") — the container.s cgroup.*/\1/p' "$TEST_TMP/kill.err")
[ -n "$own" ] && [ -d "$own/sub" ]; ok $? "a container keeping CAP_SYS_ADMIN made a cgroup below its own ($own/sub)"
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
# The container dies with launch (its parent-death signal), a moment
# later on a busy machine: gc removes only cgroups nothing runs in. Its
# cgroups stay until a sweep, which a launch with limits beside this test
# may do.
for _ in $(seq 100); do
        [ -z "$(cat "$own/cgroup.procs" "$own/sub/cgroup.procs" 2>/dev/null)" ] && break
        sleep 0.05
done
run_cmd roost gc --store "$STORE"
is "$rc" 0 "roost gc after the launch was killed"
[ -n "$own" ] && [ ! -e "${own%/container}" ]; ok $? "... removed its device cgroup with all below it"

# ---- a sweep (roost gc's, or another launch's) while a launch has made
# its cgroup but not yet locked it leaves that cgroup alone: the launch
# holds the folder of launches' cgroups shared from its mkdir to its lock,
# and a sweep takes it exclusively or waits for the next time. The test
# hook holds the launch in that gap for a second.
ROOST_LAUNCH_TEST_CGROUP_GAP=1 launch --store "$STORE" --rootfs "$ROOTFS" --pids 32 true \
        >"$TEST_TMP/gap.out" 2>"$TEST_TMP/gap.err" &
lpid=$!
for _ in $(seq 100); do grep -q "not yet locked" "$TEST_TMP/gap.err" && break; sleep 0.02; done
grep -q "not yet locked" "$TEST_TMP/gap.err"; ok $? "a launch stopped between its cgroup's mkdir and its lock"
run_cmd roost gc --store "$STORE"
is "$rc" 0 "roost gc runs meanwhile"
wait "$lpid"; lrc=$?
is "$lrc" 0 "... and the launch goes on with its cgroup ($(grep -v 'not yet locked' "$TEST_TMP/gap.err" | head -c 300))"
tap_done
