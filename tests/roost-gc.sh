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
tap_done
