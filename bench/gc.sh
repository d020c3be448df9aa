#!/bin/bash
# Benchmark: how long a command waits for `roost gc` beside it. Alpine's
# minirootfs for three architectures is pulled from the mirror folder and
# unpacked, the references are removed, and each round starts `roost gc`
# and, 2 ms later, `roost images`: the time images takes is what a command
# waits for gc's exclusive hold on the store. Prints the medians.
#
#   bench/gc.sh [ROUNDS]
# Environment: ROOST (default ./front/roost), PULL, UNPACK, ALPINE_MIRROR_DIR.
set -eu
ROUNDS=${1:-9}
here=$(cd "$(dirname "$0")/.." && pwd)
ROOST=${ROOST:-$here/front/roost}
PULL=${PULL:-$here/fetch/pull}
UNPACK=${UNPACK:-$here/unpack/unpack}
ALPINE_MIRROR_DIR=${ALPINE_MIRROR_DIR:-$here/../shared/alpine-mirror}
[ -d "$ALPINE_MIRROR_DIR/alpine/v3.20" ] || { echo "bench/gc.sh: $ALPINE_MIRROR_DIR missing" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/gc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
arches="x86_64 aarch64 armv7"
# The mirror folder has no signatures (none can be had offline).
for a in $arches; do
        "$PULL" -q --store "$work/base" --mirror "file://$ALPINE_MIRROR_DIR/alpine" --allow-unsigned --arch "$a" \
                alpine 3.20 >/dev/null
        "$UNPACK" -q --store "$work/base" --arch "$a" alpine:3.20 >/dev/null
done
files=$(find "$work/base/trees" | wc -l)
now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$work/wait" && : >"$work/gc"
for _ in $(seq "$ROUNDS"); do
        rm -rf "$work/s" && cp -a "$work/base" "$work/s"
        for a in $arches; do "$ROOST" rm -q --store "$work/s" --arch "$a" alpine:3.20; done
        sync
        t0=$(now)
        "$ROOST" gc -q --store "$work/s" &
        g=$!
        sleep 0.002
        t1=$(now)
        "$ROOST" images --store "$work/s" >/dev/null
        t2=$(now)
        wait "$g"
        t3=$(now)
        echo $(((t2 - t1) / 1000)) >>"$work/wait"
        echo $(((t3 - t0) / 1000)) >>"$work/gc"
done
printf 'roost gc of 3 unpacked Alpine trees (%d files), %d rounds, medians:\n' "$files" "$ROUNDS"
printf '  gc                               %6.1f ms\n' "$(median <"$work/gc" | awk '{ print $1 / 1000 }')"
printf '  roost images started 2 ms later  %6.1f ms\n' "$(median <"$work/wait" | awk '{ print $1 / 1000 }')"
