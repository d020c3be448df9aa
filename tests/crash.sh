#!/bin/bash
# Crash consistency: pull, unpack, import, gc, launch --name and commit, each
# killed with SIGKILL at a random moment (0 to 40 ms after its start), KILLS
# times in all (ROOST_CRASH_KILLS, default 50; the long run is bench/crash.sh).
# After each kill the same command, run again, must succeed; at the end
# roost verify passes, gc leaves no temporary or partial download, every
# reference reads, and no mount, process or named container's lock is left
# behind. The seed is printed: ROOST_CRASH_SEED replays a run.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
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
        4) exec launch --store "$S" -q --name crash alpine:3.99 sh -c 'echo x >>/root/log; ls / >/dev/null' ;;
        5) exec roost --store "$S" commit -q crash "committed:$2" ;;
        esac
}
names=(pull unpack import gc launch-name commit)

failed=0
counts=(0 0 0 0 0 0)
for i in $(seq "$KILLS"); do
        c=$((RANDOM % 6)) delay=$((RANDOM % 41))
        prep "$c"
        (cmd "$c" "$i") >/dev/null 2>&1 &
        pid=$!
        sleep "$(printf '0.%03d' "$delay")"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        counts[c]=$((counts[c] + 1))
        # Whatever the kill left, the same command must now succeed.
        if ! out=$( (cmd "$c" "$i") 2>&1); then
                failed=$((failed + 1))
                tap_diag "kill $i (${names[c]}, ${delay} ms): the next run failed: $(tail -2 <<<"$out")"
        fi
done
is "$failed" 0 "after each of $KILLS kills the same command runs again (${names[*]}: ${counts[*]})"

run_cmd roost --store "$S" verify
is "$rc" 0 "roost verify passes at the end: $(tail -1 <<<"$err")"
run_cmd roost --store "$S" images
is "$(grep -c "cannot be read" <<<"$err")" 0 "every reference reads"
run_cmd roost --store "$S" gc
is "$rc" 0 "gc runs"
is "$(find "$S/tmp" "$S/partial" -mindepth 1 2>/dev/null | wc -l)" 0 "... and leaves no temporary and no partial download"
is "$(grep -cF "$TEST_TMP" /proc/self/mountinfo)" 0 "no mount of the store's is left on the host"
left=""
for p in /proc/[0-9]*; do
        case $(readlink "$p/root" 2>/dev/null) in "$S"/*) left="$left ${p#/proc/}" ;; esac
done
is "$left" "" "no process is left whose root is in the store"
run_cmd launch --store "$S" -q --name crash alpine:3.99 true
is "$rc" 0 "the named container is free again (no lock left held)"
run_cmd launch --store "$S" -q alpine:3.99 cat /etc/alpine-release
is "$rc:$out" "0:3.99.1" "and the image still runs"
tap_done
