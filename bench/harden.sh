#!/bin/bash
# What the hardening costs a launch: `launch ... true` with its defaults
# (capabilities, no_new_privs, seccomp filter, masked paths) against the same
# launch with --privileged (none of it), alternated in one run so that both
# see the same machine. Prints per-launch times and the difference in ms.
#
#   bench/harden.sh [PAIRS]        (as root, from a built tree; default 200)
#
# ROOST_BUILDDIR points at the build tree when it is not the source tree.
# With the Alpine mirror beside the project (../shared/alpine-mirror) it
# runs Alpine's real tree, else the busybox fixture of the tests.
set -eu
PAIRS=${1:-200}
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
        # Alternate which goes first, so neither always follows the other.
        if [ $((i % 2)) -eq 0 ]; then
                d=$(one); p=$(one --privileged)
        else
                p=$(one --privileged); d=$(one)
        fi
        echo "$d $p" >>"$WORK/times"
done

echo "launch ... true, $PAIRS alternated pairs, $what, $(nproc) CPUs"
awk '
function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ n++; d[n] = $1; p[n] = $2; diff[n] = $1 - $2; sd += $1; sp += $2 }
END {
        md = median(d, n); mp = median(p, n); mdiff = median(diff, n)
        printf "  default (hardened)  median %.3f ms  mean %.3f ms\n", md / 1000, sd / n / 1000
        printf "  --privileged        median %.3f ms  mean %.3f ms\n", mp / 1000, sp / n / 1000
        printf "  hardening costs     %.3f ms per launch (median of paired differences; mean %.3f ms)\n", mdiff / 1000, (sd - sp) / n / 1000
        printf "  ratio default/privileged (medians): %.3f\n", md / mp
        printf "  target: at most 0.3 ms per launch: %s\n", mdiff / 1000 <= 0.3 ? "met" : "NOT met"
}' "$WORK/times"
