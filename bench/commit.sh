#!/bin/bash
# Benchmark: roost commit of a named container that wrote 1,000 files and
# about 10 MB (half random, half text), against tar -czf of its upper
# directory, side by side on the same disk. Rounds alternate; the median
# is reported. commit's own split (layer written, new layer unpacked) is
# printed too: tar -czf does only the first.
#
#   bench/commit.sh [ROUNDS]        (root)
set -eu
ROUNDS=${1:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$here/front:$here/launch:$here/unpack:$here/tests:$PATH
ROOST_SRCDIR=$here
[ "$(id -u)" -eq 0 ] || { echo "bench/commit.sh: needs root" >&2; exit 1; }
tap_at_exit() { :; } # fixtures.sh registers cleanups with the test library
. "$here/tests/lib/fixtures.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/commit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
S=$work/store
make_rootfs "$work/base" 3.99.0 >/dev/null
make_tarball "$work/base" "$work/base.tar.gz"
echo '{"Cmd":["/bin/sh"]}' >"$work/base.json"
store-put image "$S" base 1 "$(uname -m)" "$work/base.json" "$work/base.tar.gz" >/dev/null
unpack --store "$S" -q base:1
# 1,000 files of 10 KiB in 20 directories: even ones random, odd ones text.
launch --store "$S" -q --name big base:1 sh -c '
for d in $(seq 20); do mkdir -p /data/d$d; for f in $(seq 50); do
  if [ $((f % 2)) = 0 ]; then dd if=/dev/urandom of=/data/d$d/f$f bs=10240 count=1 2>/dev/null
  else i=0; while [ $i -lt 160 ]; do echo "line $i of file $f in dir $d: the quick brown fox"; i=$((i+1)); done | head -c 10240 >/data/d$d/f$f; fi
done; done'
upper=$S/containers/big/upper
echo "upper: $(find "$upper" -type f | wc -l) files, $(du -sh "$upper" | cut -f1)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
: >"$work/roost" >"$work/tar" >"$work/split"
for i in $(seq "$ROUNDS"); do
        sync
        t0=$(now)
        out=$(roost --store "$S" commit big "big:$i")
        t1=$(now)
        echo "$t1 - $t0" | bc >>"$work/roost"
        sed -E 's/.*written in ([0-9.]+) s, unpacked in ([0-9.]+) s.*/\1 \2/' <<<"$out" >>"$work/split"
        size=$(roost --store "$S" inspect "big:$i" | jq '.[0].Layers[-1].Size')
        # The next round writes and unpacks the layer anew, as a first commit does.
        roost --store "$S" -q rm --prune "big:$i"
        sync
        t0=$(now)
        tar -C "$upper" --numeric-owner --xattrs -czf "$work/upper.tar.gz" .
        sync -f "$work/upper.tar.gz"
        t1=$(now)
        echo "$t1 - $t0" | bc >>"$work/tar"
done
r=$(median <"$work/roost") t=$(median <"$work/tar")
w=$(cut -d' ' -f1 "$work/split" | median) u=$(cut -d' ' -f2 "$work/split" | median)
printf 'roost commit  %.3f s (layer written %.3f s, new layer unpacked %.3f s)\n' "$r" "$w" "$u"
printf 'tar -czf      %.3f s\n' "$t"
printf 'ratio         commit/tar %.2f, layer written/tar %.2f\n' "$(echo "$r / $t" | bc -l)" "$(echo "$w / $t" | bc -l)"
echo "layer $size bytes, tar.gz $(stat -c %s "$work/upper.tar.gz") bytes"
