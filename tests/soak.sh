#!/bin/bash
# Soak: a realistic mix of commands on one store, all at once, for SECONDS
# (ROOST_SOAK_SECONDS, default 25; bench/soak.sh runs 300). Eight launches
# at any moment: three long-lived named ones (a loop, a sleep, one with a
# memory limit) and five workers of short ones (plain, --memory, --name,
# --read-only, -e and -w); pulls of Alpine 3.20 and 3.20.3 for armv7 from
# Alpine's files served by nginx, each round removed (--prune) so that the
# next downloads again; unpacks of the aarch64 image (--force into the
# store, and --to a directory); gc every 3 s; export then import then rm;
# launch --name, commit, rm. At the end: no failure but the expected one
# (the long-lived launches are stopped with SIGTERM: 143), the store
# verifies and gc leaves no temporary; no mount below this test's
# directory, no cgroup of its launches, no process in its store, the same
# open fds in this shell as before; the long-lived launches' memory (RSS)
# and fds flat over the run. Prints operations per second by kind.
#
# Only what this test made is counted (its store, the cgroups named for
# the pids of its launches), so other tests may run beside it.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/stress.sh"
require_root
have_alpine_mirror || skip_all "Alpine's mirror copy is not at $ALPINE_MIRROR_DIR"
nginx_start "$ALPINE_MIRROR_DIR" || skip_all "nginx could not start"
export ROOST_ALLOW_UNSIGNED=1 # the mirror copy has no .asc (tests/pull-alpine.sh)

SECS=${ROOST_SOAK_SECONDS:-25}
S=$TEST_TMP/store
OPS=$TEST_TMP/ops     # KIND RC MILLISECONDS, a line per operation
FAILS=$TEST_TMP/fails # what failed, with its last line
SAMPLES=$TEST_TMP/samples
pids=$TEST_TMP/launch-pids
: >"$OPS" && : >"$FAILS" && : >"$pids" && : >"$SAMPLES"
P=(pull --store "$S" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" -q)

fds_before=$(ls /proc/$$/fd | wc -l)
mounts_before=$(mounts_below "$TEST_TMP")

run_cmd "${P[@]}" --arch x86_64 alpine 3.20
is "$rc" 0 "the host's image is pulled ($err)"
run_cmd "${P[@]}" --arch aarch64 alpine 3.20
is "$rc" 0 "the aarch64 image is pulled, for the unpacks ($err)"
run_cmd launch --store "$S" -q alpine:3.20 true
is "$rc" 0 "and the host's is unpacked by a first launch ($err)"
A=(--store "$S")

# op KIND CMD...: runs CMD (its own process, so that a launch's pid is its
# cgroup's name), logs its status and time, and its last line on failure.
op() {
        local kind=$1 start rc p out=$TEST_TMP/out.$BASHPID
        shift
        start=$(date +%s%N)
        ("$@" </dev/null >"$out" 2>&1) &
        p=$!
        [[ $kind == launch* ]] && echo "$p" >>"$pids"
        wait "$p"
        rc=$?
        echo "$kind $rc $((($(date +%s%N) - start) / 1000000))" >>"$OPS"
        [ "$rc" = 0 ] || echo "$kind exit $rc: $(tail -1 "$out")" >>"$FAILS"
        rm -f "$out"
        return "$rc"
}
# A command run by op must be its own process: exec it.
x() { exec "$@"; }

END=$(($(date +%s) + SECS))
running() { [ "$(date +%s)" -lt "$END" ]; }

# ---- the long-lived launches, stopped at the end
long=()
(x launch "${A[@]}" -q --name soak-long-1 alpine:3.20 sh -c 'while :; do date >>/root/ticks; sleep 0.2; done' \
        </dev/null >/dev/null 2>"$TEST_TMP/long.1") &
long+=($!)
(x launch "${A[@]}" -q --name soak-long-2 alpine:3.20 sleep 100000 </dev/null >/dev/null 2>"$TEST_TMP/long.2") &
long+=($!)
(x launch "${A[@]}" -q --memory 64m --pids 64 --name soak-long-3 alpine:3.20 \
        sh -c 'while :; do ls -R /etc >/dev/null; sleep 0.5; done' </dev/null >/dev/null 2>"$TEST_TMP/long.3") &
long+=($!)
printf '%s\n' "${long[@]}" >>"$pids"

# ---- the workers
workers=()
short_launch() {
        local k=$1 n=0
        while running; do
                n=$((n + 1))
                case $k in
                1) op launch x launch "${A[@]}" -q alpine:3.20 cat /etc/alpine-release ;;
                2) op launch-memory x launch "${A[@]}" -q --memory 32m --pids 32 alpine:3.20 sh -c 'echo $$' ;;
                3) op launch-name x launch "${A[@]}" -q --name soak-short-3 alpine:3.20 sh -c 'echo '$n' >>/count' ;;
                4) op launch-read-only x launch "${A[@]}" -q --read-only alpine:3.20 ls / ;;
                5) op launch-env x launch "${A[@]}" -q -e N=$n -w /tmp alpine:3.20 sh -c 'test "$N" = '$n' && pwd' ;;
                esac
        done
}
for k in 1 2 3 4 5; do
        short_launch "$k" &
        workers+=($!)
done
(
        # Each round downloads: both tags of armv7 are removed at its end.
        while running; do
                op pull x "${P[@]}" --arch armv7 alpine 3.20
                op pull x "${P[@]}" --arch armv7 alpine 3.20.3
                op pull-stored x "${P[@]}" --arch x86_64 alpine 3.20.3
                op rm x roost "${A[@]}" --arch armv7 rm -q --prune alpine:3.20 alpine:3.20.3
        done
) &
workers+=($!)
(
        n=0
        while running; do
                n=$((n + 1))
                op unpack x unpack "${A[@]}" -q --arch aarch64 --force alpine:3.20
                op unpack-to x unpack "${A[@]}" -q --arch aarch64 alpine:3.20 --to "$TEST_TMP/to.$n"
                rm -rf "$TEST_TMP/to.$n"
        done
) &
workers+=($!)
(
        while running; do
                sleep 3
                op gc x roost "${A[@]}" gc -q
        done
) &
workers+=($!)
(
        n=0
        while running; do
                n=$((n + 1))
                op export x roost "${A[@]}" export -q alpine:3.20 "$TEST_TMP/export.tar"
                op import x roost "${A[@]}" import -q "$TEST_TMP/export.tar" "soak-imported:$n"
                op rm x roost "${A[@]}" rm -q "soak-imported:$n"
        done
) &
workers+=($!)
(
        n=0
        while running; do
                n=$((n + 1))
                op launch-commit x launch "${A[@]}" -q --name soak-commit alpine:3.20 sh -c "echo $n >>/stamp"
                op commit x roost "${A[@]}" commit -q soak-commit "soak-committed:$n"
                op rm x roost "${A[@]}" rm -q "soak-committed:$n"
        done
) &
workers+=($!)

# ---- samples: the long-lived launches' memory and fds, and what the test
# has mounted, every 2 s. The launch process and its container's PID 1.
sample() {
        local t=$1 p c
        for p in "${long[@]}"; do
                for c in "$p" $(cat /proc/"$p"/task/*/children 2>/dev/null | head -1); do
                        [ -r "/proc/$c/status" ] || continue
                        echo "$t $p $c $(awk '/^VmRSS:/ { print $2 }' "/proc/$c/status") $(ls "/proc/$c/fd" 2>/dev/null | wc -l)"
                done
        done >>"$SAMPLES"
        echo "$t mounts $(mounts_below "$TEST_TMP") cgroups $(cgroups_of "$pids" | wc -l)" >>"$TEST_TMP/counts"
}
t=0
while running; do
        sleep 2
        t=$((t + 2))
        sample "$t"
done
for w in "${workers[@]}"; do wait "$w"; done

# ---- the long-lived ones stopped: 128 + SIGTERM, the expected status
long_rc=""
for p in "${long[@]}"; do
        kill -TERM "$p"
        wait "$p"
        long_rc="$long_rc $?"
done
is "$long_rc" " 143 143 143" "the long-lived launches ran to the end and stopped on SIGTERM (143)"
for i in 1 2 3; do [ -s "$TEST_TMP/long.$i" ] && tap_diag "long-lived $i said: $(tail -2 "$TEST_TMP/long.$i")"; done

# ---- the figures: operations per second by kind
tap_diag "$(printf '%-17s %6s %6s %8s %8s' kind ops failed ops/s 'median ms')"
for kind in $(cut -d' ' -f1 "$OPS" | sort -u); do
        n=$(grep -c "^$kind " "$OPS")
        f=$(awk -v k="$kind" '$1 == k && $2 != 0' "$OPS" | wc -l)
        med=$(awk -v k="$kind" '$1 == k { print $3 }' "$OPS" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        tap_diag "$(printf '%-17s %6d %6d %8s %8d' "$kind" "$n" "$f" "$(awk -v n="$n" -v s="$SECS" 'BEGIN { printf "%.2f", n / s }')" "$med")"
done
total=$(wc -l <"$OPS")
tap_diag "$total operations in ${SECS} s: $(awk -v t="$total" -v s="$SECS" 'BEGIN { printf "%.1f", t / s }') per second"
fails=$(wc -l <"$FAILS")
is "$fails" 0 "no operation failed"
[ "$fails" = 0 ] || sort "$FAILS" | uniq -c | sort -rn | head -10 | while read -r line; do tap_diag "$line"; done
for kind in launch launch-memory launch-name pull unpack gc export import commit; do
        [ "$(grep -c "^$kind " "$OPS")" -gt 0 ]
        ok $? "at least one $kind ran"
done

# ---- memory and fds of the long-lived processes: the last third of the
# samples against the first (the first sample is warm-up).
flat=$(awk '
        { key = $2 " " $3; t[key, ++n[key]] = $1; rss[key, n[key]] = $4; fd[key, n[key]] = $5 }
        END {
                for (k in n) {
                        m = n[k]; third = int(m / 3); if (third < 1) third = 1
                        r0 = 0; f0 = 0; r1 = 0; f1 = 0
                        for (i = 2; i <= 1 + third && i <= m; i++) { if (rss[k, i] > r0) r0 = rss[k, i]; if (fd[k, i] > f0) f0 = fd[k, i] }
                        for (i = m - third + 1; i <= m; i++) { if (rss[k, i] > r1) r1 = rss[k, i]; if (fd[k, i] > f1) f1 = fd[k, i] }
                        grew = r1 - r0
                        printf "%s: %d samples, RSS %d -> %d KiB, fds %d -> %d%s\n", k, m, r0, r1, f0, f1,
                               ((grew > 256 && grew > r0 / 20) || f1 > f0) ? " GREW" : ""
                }
        }' "$SAMPLES")
while read -r line; do tap_diag "long-lived pid $line"; done <<<"$flat"
[ "$(grep -c . <<<"$flat")" -ge 6 ]
ok $? "the long-lived launches and their containers' PID 1 were sampled"
unlike "$flat" "GREW" "their memory (RSS) and open fds stay flat"
tap_diag "while running, at most $(awk '$3 > m { m = $3 } END { print m + 0 }' "$TEST_TMP/counts") mounts below the test" \
        "on the host (a launch mounts in its own namespace) and $(awk '$5 > m { m = $5 } END { print m + 0 }' "$TEST_TMP/counts")" \
        "cgroups of its launches at once"

# ---- nothing left behind
run_cmd roost "${A[@]}" verify
is "$rc" 0 "roost verify passes ($(tail -1 <<<"$err$out"))"
run_cmd roost "${A[@]}" rm -q --container soak-long-1 soak-long-2 soak-long-3 soak-short-3 soak-commit
is "$rc" 0 "the named containers are removed ($err)"
run_cmd roost "${A[@]}" gc -q
is "$rc" 0 "gc runs"
is "$(find "$S/tmp" "$S/partial" -mindepth 1 2>/dev/null | wc -l)" 0 "... and leaves no temporary and no partial download"
is "$(mounts_below "$TEST_TMP")" "$mounts_before" "no mount below the test's directory is left"
is "$(cgroups_of "$pids")" "" "no cgroup of the $(sort -u "$pids" | wc -l) launches is left"
is "$(procs_in "$S" | tr '\n' ' ')" "" "no process is left whose root or directory is in the store"
is "$(ls /proc/$$/fd | wc -l)" "$fds_before" "this shell's open fds are as many as at the start"
tap_done
