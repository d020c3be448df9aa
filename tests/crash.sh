#!/bin/bash
# Crash consistency: pull, unpack, import, gc, launch --name (with a memory
# limit, so with cgroups), commit and build (a Dockerfile with RUN and COPY),
# each killed with SIGKILL at a random moment (0 to 40 ms after its start,
# 0 to 400 ms for build, whose RUN starts a launch), KILLS times in all
# (ROOST_CRASH_KILLS, default 50; the long run is bench/crash.sh). After
# each kill the same command, run again, must succeed; at the end roost
# verify passes, gc leaves no temporary, partial download or build
# container, every reference reads, and no mount, process, cgroup or named
# container's lock is left behind. The seed is printed: ROOST_CRASH_SEED
# replays a run.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
. "$ROOST_SRCDIR/tests/lib/stress.sh"
require_root

KILLS=${ROOST_CRASH_KILLS:-50}
SEED=${ROOST_CRASH_SEED:-$(( $(date +%s%N) % 1000000 ))}
RANDOM=$SEED
tap_diag "seed $SEED (ROOST_CRASH_SEED=$SEED replays it), $KILLS kills"

S=$TEST_TMP/store
www=$TEST_TMP/www
rootfs_tarball "$TEST_TMP/rootfs.tar.gz" 3.99.1 && make_mirror "$www" 3.99.1 "$TEST_TMP/rootfs.tar.gz" ||
        skip_all "cannot build the fixture mirror"
M=file://$www/alpine
run_cmd pull --store "$S" --mirror "$M" -q alpine 3.99
is "$rc" 0 "the first pull"
run_cmd roost --store "$S" export alpine:3.99 "$TEST_TMP/alpine.tar"
is "$rc" 0 "an export to import again and again"
C=$TEST_TMP/ctx
mkdir -p "$C"
echo 'copied' >"$C/file.txt"
# N changes with each kill: the RUN step is never the cache's.
printf 'FROM alpine:3.99\nARG N\nRUN echo "$N" >/n && ls / >/dev/null\nCOPY file.txt /file.txt\n' >"$C/Dockerfile"
# The launches this test started (and build's RUN started): their cgroups
# are named for their pids.
pids=$TEST_TMP/launch-pids
: >"$pids"

# The commands, by number: each may be killed anywhere and run again. Each
# execs its tool, so that the pid killed is the tool's own; prep, not
# killed, sets the stage (a pull that has something to download, a
# container to commit).
prep() {
        case $1 in
        0) roost --store "$S" rm -q --prune alpine:3.99 >/dev/null 2>&1 ;;
        5) [ -d "$S/containers/crash" ] || (cmd 4) >/dev/null 2>&1 ;;
        esac
        return 0
}
cmd() {
        case $1 in
        0) exec pull --store "$S" --mirror "$M" -q alpine 3.99 ;;
        1) exec unpack --store "$S" -q --force alpine:3.99 ;;
        2) exec roost --store "$S" import -q "$TEST_TMP/alpine.tar" imported:1 ;;
        3) exec roost --store "$S" gc -q ;;
        4) exec launch --store "$S" -q --memory 64m --name crash alpine:3.99 sh -c 'echo x >>/root/log; ls / >/dev/null' ;;
        5) exec roost --store "$S" commit -q crash "committed:$2" ;;
        6) exec roost --store "$S" build -q --build-arg "N=$2" -t built:1 "$C" ;;
        esac
}
names=(pull unpack import gc launch-name commit build)
# children PID: PID's children, grandchildren and so on (build's launch).
children() {
        local c
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
                echo "$c"
                children "$c"
        done
}

failed=0
counts=(0 0 0 0 0 0 0)
left_cg=0 left_ctr=0 left_tmp=0
for i in $(seq "$KILLS"); do
        c=$((RANDOM % 7)) delay=$((RANDOM % 41))
        [ "$c" = 6 ] && delay=$((delay * 10))
        prep "$c"
        (cmd "$c" "$i") >/dev/null 2>&1 &
        pid=$!
        echo "$pid" >>"$pids"
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        children "$pid" >>"$pids"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        counts[c]=$((counts[c] + 1))
        # What this kill left behind, for the figures: the next command or
        # gc must clear it.
        left_cg=$((left_cg + $(cgroups_of "$pids" | wc -l)))
        left_ctr=$((left_ctr + $(ls "$S/containers" 2>/dev/null | grep -c '^roost-build-')))
        left_tmp=$((left_tmp + $(find "$S/tmp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
        # Whatever the kill left, the same command must now succeed.
        (cmd "$c" "$i") >"$TEST_TMP/again.out" 2>&1 &
        echo "$!" >>"$pids"
        if ! wait "$!"; then
                failed=$((failed + 1))
                tap_diag "kill $i (${names[c]}, ${delay} ms): the next run failed: $(tail -2 "$TEST_TMP/again.out")"
        fi
done
is "$failed" 0 "after each of $KILLS kills the same command runs again (${names[*]}: ${counts[*]})"

run_cmd roost --store "$S" verify
is "$rc" 0 "roost verify passes at the end: $(tail -1 <<<"$err")"
run_cmd roost --store "$S" images
is "$(grep -c "cannot be read" <<<"$err")" 0 "every reference reads"
tap_diag "the kills left $left_cg cgroups, $left_ctr build containers and $left_tmp temporaries for the next command"
run_cmd roost --store "$S" gc
is "$rc" 0 "gc runs"
is "$(find "$S/tmp" "$S/partial" -mindepth 1 2>/dev/null | wc -l)" 0 "... and leaves no temporary and no partial download"
is "$(ls "$S/containers")" "crash" "... and no build's container: the named one alone is left"
is "$(mounts_below "$TEST_TMP")" 0 "no mount of the store's is left on the host"
is "$(procs_in "$S" | tr '\n' ' ')" "" "no process is left whose root or directory is in the store"
is "$(cgroups_of "$pids")" "" "no cgroup of the $(sort -u "$pids" | wc -l) launches and commands started is left"
run_cmd roost --store "$S" build -q --build-arg N=last -t built:1 "$C"
is "$rc" 0 "a build runs at the end"
run_cmd launch --store "$S" -q built:1 cat /n /file.txt
is "$rc:$out" "$(printf '0:last\ncopied')" "... and its image holds what RUN and COPY made"
run_cmd launch --store "$S" -q --name crash alpine:3.99 true
is "$rc" 0 "the named container is free again (no lock left held)"
run_cmd launch --store "$S" -q alpine:3.99 cat /etc/alpine-release
is "$rc:$out" "0:3.99.1" "and the image still runs"
tap_done
