#!/bin/bash
# Benchmark: unpack against bsdtar and GNU tar, side by side, on a generated
# ~300 MB, 20,000-entry gzip tarball and on Alpine's minirootfs, all on a
# tmpfs. Rounds alternate between the tools; the median is reported with the
# ratio to bsdtar and each tool's peak RSS (GNU time).
#
#   bench/unpack.sh [ROUNDS]        (root: it mounts a tmpfs)
# Environment: UNPACK (the binary, default ./unpack/unpack), ALPINE_MIRROR_DIR.
set -eu
ROUNDS=${1:-5}
# unpack-zlib: the same binary with gzip through libarchive's zlib, to show
# what the second thread alone gives.
TOOLS="unpack unpack-zlib bsdtar tar"
here=$(cd "$(dirname "$0")/.." && pwd)
UNPACK=${UNPACK:-$here/unpack/unpack}
ALPINE_MIRROR_DIR=${ALPINE_MIRROR_DIR:-$here/../shared/alpine-mirror}
[ "$(id -u)" -eq 0 ] || { echo "bench/unpack.sh: needs root (mounts a tmpfs)" >&2; exit 1; }
[ -x "$UNPACK" ] || { echo "bench/unpack.sh: $UNPACK not built" >&2; exit 1; }
command -v bsdtar >/dev/null || { echo "bench/unpack.sh: bsdtar missing (apt-get install libarchive-tools)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/unpack.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/unpack-bench.XXXXXX")
mount -t tmpfs -o size=3g,mode=0755 unpack-bench "$work"
trap 'umount "$work"; rmdir "$work"' EXIT

# 20,000 files of 1 to 30 KB (about 300 MB), half random and half text, so
# that gzip gets a realistic 2:1 or so, in 200 directories, plus symlinks.
gen() {
        python3 - "$1" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9))) for _ in range(4000)]
pool_text = b" ".join(rnd.choice(words) for _ in range(2_000_000))
pool_rand = os.urandom(4 << 20)
for d in range(200):
    dd = os.path.join(root, "usr", "lib", "d%03d" % d)
    os.makedirs(dd)
    for f in range(100):
        n = rnd.randint(1024, 30 * 1024)
        src = pool_rand if (d * 100 + f) % 2 else pool_text
        off = rnd.randint(0, len(src) - n)
        with open(os.path.join(dd, "f%03d" % f), "wb") as fh:
            fh.write(src[off:off + n])
    os.symlink("f000", os.path.join(dd, "link"))
PY
}

# run TOOL ARCHIVE: one timed extraction into a fresh directory; prints
# "seconds maxrss_kb" (wall time by the nanosecond clock, RSS by GNU time).
run() {
        local tool=$1 archive=$2 out=$work/out
        rm -rf "$out"
        case $tool in
                unpack) set -- "$UNPACK" -q "$archive" "$out" ;;
                unpack-zlib) set -- env ROOST_UNPACK_ZLIB=1 "$UNPACK" -q "$archive" "$out" ;;
                bsdtar) mkdir "$out"; set -- bsdtar -xzf "$archive" -C "$out" ;;
                tar) mkdir "$out"; set -- tar -xzf "$archive" -C "$out" ;;
        esac
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null
        t1=$(date +%s%N)
        rm -rf "$out"
        echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}') $(cat "$work/time")"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

bench() { # bench LABEL ARCHIVE
        local label=$1 archive=$2 t i
        declare -A times rss
        for ((i = 0; i < ROUNDS; i++)); do
                for t in $TOOLS; do
                        read -r secs kb < <(run "$t" "$archive")
                        times[$t]+="$secs "
                        rss[$t]+="$kb "
                done
        done
        local base
        base=$(printf '%s\n' ${times[bsdtar]} | median)
        printf '\n%s (%s, %d rounds, median)\n' "$label" "$(du -h "$archive" | cut -f1)" "$ROUNDS"
        printf '  %-12s %8s %10s %12s\n' tool seconds vs-bsdtar peak-RSS-MB
        for t in $TOOLS; do
                local m r
                m=$(printf '%s\n' ${times[$t]} | median)
                r=$(printf '%s\n' ${rss[$t]} | sort -n | tail -1)
                printf '  %-12s %8.3f %9.2fx %12.1f\n' "$t" "$m" "$(awk -v a="$m" -v b="$base" "BEGIN{print a/b}")" "$(awk -v a="$r" "BEGIN{print a/1024}")"
        done
}

echo "generating the 20,000-entry tarball..."
gen "$work/src"
tar -C "$work/src" -czf "$work/big.tar.gz" .
rm -rf "$work/src"
bench "generated: 20,000 files, $(gzip -l "$work/big.tar.gz" | awk 'NR==2 {printf "%d MB", $2/1e6}') uncompressed" "$work/big.tar.gz"

mini=$ALPINE_MIRROR_DIR/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
if [ -f "$mini" ]; then
        cp "$mini" "$work/mini.tar.gz"
        ROUNDS=$((ROUNDS * 4)) bench "Alpine minirootfs 3.20.3" "$work/mini.tar.gz"
else
        echo "Alpine minirootfs not found under $ALPINE_MIRROR_DIR: skipped"
fi
