#!/bin/bash
# Benchmark: roost build of a three-step Dockerfile (FROM Alpine 3.20.3,
# RUN writing 1,000 files, COPY of 10 MB), cold (--no-cache) and cached,
# against buildah bud (--layers, runc) on the same Dockerfile, side by side
# in one run, rounds alternated; medians reported. Where buildah does not
# run, the same steps by hand: launch --name, roost commit, cp into a
# directory and tar -czf of it.
#
#   bench/build.sh [ROUNDS]          (root; default 5)
#
# Environment: ALPINE_MIRROR_DIR (default ../shared/alpine-mirror beside
# the source tree).
set -eu
ROUNDS=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$here/front:$here/launch:$here/unpack:$here/fetch:$PATH
[ "$(id -u)" -eq 0 ] || { echo "bench/build.sh: needs root" >&2; exit 1; }
mirror=${ALPINE_MIRROR_DIR:-$here/../shared/alpine-mirror}
[ -f "$mirror/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz" ] ||
        { echo "bench/build.sh: no Alpine 3.20.3 at $mirror" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/build-bench.XXXXXX")
S=$work/store
ctx=$work/ctx
mkdir -p "$ctx"
head -c 10485760 /dev/urandom >"$ctx/blob"
pull --store "$S" -q --mirror "file://$mirror/alpine" alpine:3.20
unpack --store "$S" -q alpine:3.20

# The same Dockerfile for both but for FROM's name.
steps='RUN mkdir /data && i=0; while [ $i -lt 1000 ]; do echo "file $i of the bench: the quick brown fox" >/data/f$i; i=$((i+1)); done
COPY blob /blob'
printf 'FROM alpine:3.20\n%s\n' "$steps" >"$ctx/Dockerfile"

buildah_ok=false
if command -v buildah >/dev/null; then
        roost --store "$S" export alpine:3.20 "$work/alpine.tar"
        before=$(buildah images -a -q --no-trunc | sort)
        base=$(buildah pull -q "oci-archive:$work/alpine.tar" 2>/dev/null) &&
                buildah tag "$base" roost-bench-alpine:3.20 &&
                printf 'FROM localhost/roost-bench-alpine:3.20\n%s\n' "$steps" >"$ctx/Dockerfile.buildah" &&
                buildah bud -q --runtime runc --network host --pull=never --layers -t roost-bench-build:1 \
                        -f "$ctx/Dockerfile.buildah" "$ctx" >/dev/null 2>"$work/buildah.err" && buildah_ok=true
        $buildah_ok || { echo "buildah bud does not run here:"; tail -3 "$work/buildah.err"; }
fi
cleanup() {
        if command -v buildah >/dev/null && [ -n "${before+x}" ]; then
                # Only what this run made; the machine's own images stay.
                buildah rmi -f roost-bench-build:1 roost-bench-alpine:3.20 >/dev/null 2>&1 || true
                comm -13 <(echo "$before") <(buildah images -a -q --no-trunc | sort) |
                        xargs -r buildah rmi -f >/dev/null 2>&1 || true
        fi
        rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
timed() { # timed FILE CMD...
        local f=$1 t0 t1
        shift
        sync
        t0=$(now)
        "$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; exit 1; }
        t1=$(now)
        echo "$t1 - $t0" | bc >>"$work/$f"
}
by_hand() {
        launch --store "$S" -q --net host --name hand alpine:3.20 sh -c "$(sed -n 1p <<<"$steps" | cut -c5-)"
        roost --store "$S" -q commit hand hand:1
        roost --store "$S" -q rm --container hand
        rm -rf "$work/hand" && mkdir -p "$work/hand" && cp -a "$ctx/blob" "$work/hand/blob"
        tar -C "$work/hand" --numeric-owner -czf "$work/hand.tar.gz" .
        sync -f "$work/hand.tar.gz"
}

: >"$work/cold" >"$work/cached" >"$work/bcold" >"$work/bcached" >"$work/hand"
for i in $(seq "$ROUNDS"); do
        timed cold roost --store "$S" build -q --no-cache -t bench:1 "$ctx"
        timed cached roost --store "$S" build -q -t bench:1 "$ctx"
        if $buildah_ok; then
                timed bcold buildah bud -q --runtime runc --network host --pull=never --layers --no-cache \
                        -t roost-bench-build:1 -f "$ctx/Dockerfile.buildah" "$ctx"
                timed bcached buildah bud -q --runtime runc --network host --pull=never --layers \
                        -t roost-bench-build:1 -f "$ctx/Dockerfile.buildah" "$ctx"
        else
                timed hand by_hand
        fi
done
c=$(median <"$work/cold") k=$(median <"$work/cached")
printf 'roost build, cold (--no-cache)  %.3f s\n' "$c"
printf 'roost build, cached             %.3f s  (%.1f%% of cold)\n' "$k" "$(echo "100 * $k / $c" | bc -l)"
if $buildah_ok; then
        bc_=$(median <"$work/bcold") bk=$(median <"$work/bcached")
        printf 'buildah bud, cold (--no-cache)  %.3f s\n' "$bc_"
        printf 'buildah bud, cached             %.3f s  (%.1f%% of cold)\n' "$bk" "$(echo "100 * $bk / $bc_" | bc -l)"
        printf 'ratio roost/buildah             cold %.2f, cached %.2f\n' "$(echo "$c / $bc_" | bc -l)" \
                "$(echo "$k / $bk" | bc -l)"
else
        h=$(median <"$work/hand")
        printf 'by hand (launch, commit, cp, tar) %.3f s\nratio roost cold/by hand %.2f\n' "$h" "$(echo "$c / $h" | bc -l)"
fi
echo "$ROUNDS rounds, medians; $(buildah --version 2>/dev/null || echo 'no buildah')"
