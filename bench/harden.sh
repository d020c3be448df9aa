#!/bin/bash
# What the hardening costs a launch: `launch ... true` with its defaults
# (capabilities, no_new_privs, seccomp filter, masked paths) against the same
# launch with --privileged (none of it), and with --seccomp=unconfined to
# split the filter's share from the rest, alternated in one run so that all
# see the same machine. Prints per-launch times and the differences in ms.
# Then, in a second pass that the figures above do not include, the same
# two launches with --step-times: where the difference lies, step by step
# from the container's start to the command's execve.
#
#   bench/harden.sh [ROUNDS [STEP_ROUNDS]]
#                                  (as root, from a built tree; default 1000:
#                                  a launch's time moves by 0.1 ms from one
#                                  launch to the next here, and the medians
#                                  of fewer rounds by tens of microseconds;
#                                  STEP_ROUNDS default 300, 0 for none)
#
# ROOST_BUILDDIR points at the build tree when it is not the source tree.
# With the Alpine mirror beside the project (../shared/alpine-mirror) it
# runs Alpine's real tree, else the busybox fixture of the tests.
set -eu
PAIRS=${1:-1000}
STEP_ROUNDS=${2:-300}
ROOST_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
ROOST_BUILDDIR=${ROOST_BUILDDIR:-$ROOST_SRCDIR}
LAUNCH=$ROOST_BUILDDIR/launch/launch
[ "$(id -u)" -eq 0 ] || { echo "bench/harden.sh: run it as root" >&2; exit 1; }
[ -x "$LAUNCH" ] || { echo "bench/harden.sh: build first ($LAUNCH missing)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roost-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export ROOST_SRCDIR ROOST_BUILDDIR
tarball=${ROOST_ALPINE_MIRROR:-$ROOST_SRCDIR/../shared/alpine-mirror}/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
mkdir -p "$WORK/rootfs"
if [ -f "$tarball" ]; then
        tar -xzf "$tarball" -C "$WORK/rootfs"
        what="Alpine 3.20.3 minirootfs"
else
        . "$ROOST_SRCDIR/tests/lib/fixtures.sh"
        make_rootfs "$WORK/rootfs" 3.99.0 >/dev/null
        what="busybox fixture rootfs"
fi
L=("$LAUNCH" --store "$WORK/store" --rootfs "$WORK/rootfs")

one() { # one OPTIONS...: prints the wall time of one launch in microseconds
        local t0=$EPOCHREALTIME t1
        "${L[@]}" "$@" true >/dev/null 2>&1 </dev/null || { echo "launch $* failed" >&2; exit 1; }
        t1=$EPOCHREALTIME
        echo $(((${t1/./} - ${t0/./})))
}
for _ in $(seq 10); do one >/dev/null; one --privileged >/dev/null; done # warm caches
: >"$WORK/times"
for i in $(seq "$PAIRS"); do
        # Rotate the order, so that none always follows another.
        case $((i % 3)) in
        0) d=$(one); u=$(one --seccomp=unconfined); p=$(one --privileged) ;;
        1) p=$(one --privileged); d=$(one); u=$(one --seccomp=unconfined) ;;
        2) u=$(one --seccomp=unconfined); p=$(one --privileged); d=$(one) ;;
        esac
        echo "$d $u $p" >>"$WORK/times"
done

echo "launch ... true, $PAIRS alternated rounds, $what, $(nproc) CPUs"
awk '
function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ n++; d[n] = $1; u[n] = $2; p[n] = $3; all[n] = $1 - $3; flt[n] = $1 - $2; rest[n] = $2 - $3 }
END {
        md = median(d, n); mu = median(u, n); mp = median(p, n)
        printf "  default (hardened)       median %.3f ms\n", md / 1000
        printf "  --seccomp=unconfined     median %.3f ms\n", mu / 1000
        printf "  --privileged             median %.3f ms\n", mp / 1000
        printf "  the seccomp filter       %.3f ms per launch (median of paired differences)\n", median(flt, n) / 1000
        printf "  caps, no_new_privs, masks %.3f ms per launch\n", median(rest, n) / 1000
        h = median(all, n) / 1000
        printf "  hardening, all of it     %.3f ms per launch (default vs --privileged); ratio %.3f\n", h, md / mp
        printf "  (difference of the medians: %.3f ms)\n", (md - mp) / 1000
        printf "  target: a ratio of at most 1.10: %s\n", md / mp <= 1.10 ? "met" : "NOT met"
        printf "  (earlier target: at most 0.3 ms per launch: %s)\n", h <= 0.3 ? "met" : "not met"
}' "$WORK/times"

[ "$STEP_ROUNDS" -gt 0 ] || exit 0
# ---- where it goes: --step-times prints one "steps: name=us ..." line on
# the command's stderr just before its execve.
: >"$WORK/steps"
for i in $(seq "$STEP_ROUNDS"); do
        for mode in default privileged; do
                opt=()
                [ $mode = privileged ] && opt=(--privileged)
                line=$("${L[@]}" "${opt[@]}" --step-times true 2>&1 >/dev/null </dev/null) ||
                        { echo "launch --step-times failed" >&2; exit 1; }
                echo "$mode ${line#steps: }" >>"$WORK/steps"
        done
done
echo
echo "where it goes: $STEP_ROUNDS alternated pairs with --step-times, medians in us, from the"
echo "container's start to the command's execve (launch's own side and the exit not included)"
awk '
function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
        m = $1; k[m]++
        for (f = 2; f <= NF; f++) {
                split($f, kv, "="); name = kv[1]
                if (!(name in seen)) { seen[name] = 1; order[++nn] = name }
                v[m, name, k[m]] = kv[2]
        }
}
END {
        printf "  %-12s %10s %10s %10s\n", "step", "default", "privileged", "difference"
        for (i = 1; i <= nn; i++) {
                name = order[i]
                for (j = 1; j <= k["default"]; j++) a[j] = v["default", name, j]
                for (j = 1; j <= k["privileged"]; j++) b[j] = v["privileged", name, j]
                x = median(a, k["default"]); y = median(b, k["privileged"])
                printf "  %-12s %10.1f %10.1f %+10.1f\n", name, x, y, x - y
        }
}' "$WORK/steps"
