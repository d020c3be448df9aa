#!/bin/bash
# roost gc while a pull and a launch run: it waits for the pull's store
# work, never touches the tree a running container uses, finishes while the
# container still runs, and loses nothing; then it collects what rm left.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
require_root

www=$TEST_TMP/www S=$TEST_TMP/store
for v in 3.97.0 3.98.0 3.99.0; do
        fixture_tarball "$TEST_TMP/$v.tar.gz" gz "$v" && make_mirror "$www" "$v" "$TEST_TMP/$v.tar.gz" >/dev/null ||
                skip_all "cannot build the fixture mirror"
done
# The 3.99 tarball trickles, so that the pull is still running while gc starts.
nginx_start "$www" "location /alpine/v3.99/ { limit_rate 500k; }" || skip_all "cannot start nginx"
M=(--store "$S" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" -q)

pull "${M[@]}" alpine:3.97 && pull "${M[@]}" alpine:3.98 && unpack --store "$S" -q alpine:3.98
ok $? "two images pulled, one unpacked"
roost rm --store "$S" -q alpine:3.97
old=$(ls "$S/blobs/sha256" | wc -l)

launch --store "$S" --offline alpine:3.98 sh -c 'echo started; sleep 6; cat /etc/alpine-release' >"$TEST_TMP/launch.out" 2>&1 &
lpid=$!
for _ in $(seq 50); do grep -q started "$TEST_TMP/launch.out" && break; sleep 0.1; done
run_cmd roost rm --store "$S" alpine:3.98
is "$rc" 1 "rm of the image a container runs is refused"
pull "${M[@]}" alpine:3.99 >"$TEST_TMP/pull.out" 2>&1 &
ppid=$!
sleep 0.5
start=$(date +%s%N)
gcout=$(roost gc --store "$S")
gcrc=$? end=$(date +%s%N)
ok $gcrc "gc exits 0 while a pull and a launch run"
kill -0 "$lpid" 2>/dev/null; ok $? "gc finished while the container was still running"
like "$gcout" "removed 4 blobs, 0 trees" "gc collected only the image rm left behind: its archive, config, manifest and index"
wait "$ppid"; ok $? "the pull that ran beside gc succeeded"
wait "$lpid"; ok $? "the launch that ran beside gc succeeded"
is "$(tail -1 "$TEST_TMP/launch.out")" "3.98.0" "the container saw its tree whole"
run_cmd roost verify --store "$S"
ok $rc "every image verifies after gc"
is "$(roost images -q --store "$S" | tr '\n' ' ')" "alpine:3.98 alpine:3.99 " "no reference was lost"
test -d "$S/trees/$(ref_doc "$S" alpine:3.98 x86_64 | jq -r .sha256)/rootfs"; ok $? "the running container's tree was kept"
tap_diag "gc took $(( (end - start) / 1000000 )) ms with ${old} blobs"

# A launch SIGKILLed under a cgroup limit leaves a cgroup; gc removes it.
# (Other tests running beside this one may sweep it too: launch does so
# before making a cgroup. So the check is that it is gone, and that gc
# counted it when it was the one that removed it.)
launch --store "$S" --offline --pids 32 alpine:3.98 sh -c 'echo started; exec sleep 30' >"$TEST_TMP/killed.out" &
lpid=$!
for _ in $(seq 50); do grep -q started "$TEST_TMP/killed.out" && break; sleep 0.1; done
cg=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "roost-$lpid" 2>/dev/null | head -1)
[ -n "$cg" ]; ok $? "a launch with --pids has a cgroup of its own"
# Only launch is killed, by its pid: PID 1 goes with it (its parent-death
# signal), the rest of the container with PID 1. Its cgroup shows that.
kill -KILL "$lpid"; wait "$lpid" 2>/dev/null
for _ in $(seq 50); do [ -z "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
is "$(cat "$cg/cgroup.procs" 2>/dev/null)" "" "killing launch ended every process of its container"
run_cmd roost gc --store "$S"
ok $rc "gc exits 0 after a launch was killed"
[ -n "$cg" ] && [ ! -d "$cg" ]; ok $? "the killed launch's cgroup is gone after gc"
like "$out" ", [0-9]+ cgroups;" "gc reports the cgroups it removed"
# gc decides under the store lock held exclusively, moving what it removes
# into a temporary of its own, and deletes it with the lock shared again:
# a command started meanwhile does not wait for the deleting, and a gc
# killed then leaves nothing once the next command has opened the store.
gc_paused() { # gc_paused DIR: a gc held by its test hook once it shares the lock
        mkdir -p "$1"
        ROOST_GC_TEST_PAUSE=$1 roost gc --store "$S" >"$1/out" 2>&1 &
        gpid=$!
        for _ in $(seq 100); do [ -e "$1/shared" ] && return 0; sleep 0.1; done
        return 1
}
pull "${M[@]}" alpine:3.97 && unpack --store "$S" -q alpine:3.97 && roost rm --store "$S" -q alpine:3.97
ok $? "an image pulled, unpacked and removed again: its blobs and tree are garbage"
trees=$(ls "$S/trees" | wc -l)
gc_paused "$TEST_TMP/gc1"
ok $? "gc shares the store lock again before it deletes"
is "$(ls "$S/trees" | wc -l)" "$((trees - 1))" "the removed tree is out of trees/ already"
held=$(find "$S/tmp" -mindepth 2 -maxdepth 2 | wc -l)
ok "$([ "$held" -ge 4 ]; echo $?)" "gc's temporary holds what it removes ($held entries)"
run_cmd timeout 10 roost images --store "$S"
ok $rc "a command runs while gc deletes"
touch "$TEST_TMP/gc1/go"
wait "$gpid"
ok $? "gc exits 0 once let go"
like "$(cat "$TEST_TMP/gc1/out")" "removed [1-9][0-9]* blobs, 1 trees, .*freed [1-9]" "gc reports the blobs, the tree and the bytes it deleted"
is "$(ls "$S/tmp" | wc -l)" 0 "gc's temporary is gone"

pull "${M[@]}" alpine:3.97 && unpack --store "$S" -q alpine:3.97 && roost rm --store "$S" -q alpine:3.97
gc_paused "$TEST_TMP/gc2"
ok $? "a second gc shares the lock again"
kill -KILL "$gpid"
wait "$gpid" 2>/dev/null
run_cmd roost images --store "$S"
ok $rc "the next command opens the store after gc was killed while deleting"
is "$(ls "$S/tmp" | wc -l)" 0 "the killed gc's temporary is removed by the next command's open"
run_cmd roost verify --store "$S"
ok $rc "every image verifies"
run_cmd roost gc --store "$S"
like "$out" "removed 0 blobs, 0 trees, 0 partial downloads" "nothing the killed gc moved was left for the next"
# A tree gc cannot delete (a mount inside it, from a mount namespace of
# the test's own) is a failure all the same once it was moved away: one
# line and exit 6, as when it was deleted in place.
pull "${M[@]}" alpine:3.97 && unpack --store "$S" -q alpine:3.97
tree=$S/trees/$(ref_doc "$S" alpine:3.97 x86_64 | jq -r .sha256)/rootfs
roost rm --store "$S" -q alpine:3.97 && mkdir "$tree/gc-mnt"
run_cmd unshare -m --propagation private sh -c 'mount -t tmpfs gc-test "$1" && exec roost gc --store "$2"' _ \
        "$tree/gc-mnt" "$S"
is "$rc" 6 "gc that cannot delete a tree it removed exits 6"
like "$err" "gc: .*busy" "...saying why"
run_cmd roost gc --store "$S"
ok $rc "the next gc, the mount gone, succeeds"
is "$(ls "$S/tmp" | wc -l)" 0 "...and nothing is left in tmp/"
tap_done
