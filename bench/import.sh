#!/bin/bash
# Benchmark: roost import of an Alpine OCI archive against skopeo copying
# the same archive into an OCI layout (a blob copy, what import does) and
# into a containers-storage (vfs: it applies the layer as it stores it, so
# it is set beside import + unpack). Rounds alternate between the tools, a
# fresh store each time; the median wall time is reported with the ratio
# to roost import, and each one's peak RSS (GNU time).
#
#   bench/import.sh [ROUNDS]       (root: containers-storage keeps owners)
# Environment: ROOST (default ./front/roost), UNPACK, ALPINE_MIRROR_DIR.
set -eu
ROUNDS=${1:-9}
here=$(cd "$(dirname "$0")/.." && pwd)
ROOST=${ROOST:-$here/front/roost}
UNPACK=${UNPACK:-$here/unpack/unpack}
ALPINE_MIRROR_DIR=${ALPINE_MIRROR_DIR:-$here/../shared/alpine-mirror}
tarball=$ALPINE_MIRROR_DIR/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
[ "$(id -u)" -eq 0 ] || { echo "bench/import.sh: needs root" >&2; exit 1; }
[ -f "$tarball" ] || { echo "bench/import.sh: $tarball missing" >&2; exit 1; }
for t in skopeo python3; do command -v $t >/dev/null || { echo "bench/import.sh: $t missing" >&2; exit 1; }; done
[ -x /usr/bin/time ] || { echo "bench/import.sh: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/import-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The minirootfs as an OCI image's one layer, laid out and archived by
# skopeo, as a user would receive it.
python3 - "$tarball" "$work/layout" <<'PY'
import gzip, hashlib, json, os, sys
src, dst = sys.argv[1:]
os.makedirs(f"{dst}/blobs/sha256")
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{dst}/blobs/sha256/{h}", "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
layer = open(src, "rb").read()
cfg = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
       "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()]}}
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **put(json.dumps(cfg).encode())},
       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **put(layer)}]}
m = put(json.dumps(man).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", **m,
          "annotations": {"org.opencontainers.image.ref.name": "3.20.3"}}]}, open(f"{dst}/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{dst}/oci-layout", "w"))
PY
skopeo copy -q "oci:$work/layout:3.20.3" "oci-archive:$work/alpine.tar:3.20.3"
archive=$work/alpine.tar

# run TOOL: one timed run into fresh storage; prints "seconds maxrss_kb".
run() {
        local out=$work/out
        rm -rf "$out"
        mkdir "$out"
        case $1 in
                import) set -- "$ROOST" -q --store "$out/s" import "$archive" alpine:3.20 ;;
                import+unpack) set -- sh -c "'$ROOST' -q --store '$out/s' import '$archive' alpine:3.20 &&
                        '$UNPACK' -q --store '$out/s' alpine:3.20" ;;
                skopeo-oci) set -- skopeo copy -q "oci-archive:$archive" "oci:$out/l:3.20" ;;
                skopeo-cs) set -- skopeo copy -q "oci-archive:$archive" \
                        "containers-storage:[vfs@$out/root+$out/run]localhost/alpine:3.20" ;;
        esac
        local t0 t1
        t0=$(date +%s%N)
        /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null
        t1=$(date +%s%N)
        echo "$(((t1 - t0) / 1000)) $(cat "$work/rss")"
        rm -rf "$out"
}

TOOLS="import import+unpack skopeo-oci skopeo-cs"
declare -A times rss
for ((i = 0; i < ROUNDS; i++)); do
        for t in $TOOLS; do
                read -r us kb < <(run "$t")
                times[$t]+="$us "
                rss[$t]=$kb
        done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
base=$(echo "${times[import]}" | median)
printf '%-15s %10s %8s %10s\n' tool median_ms ratio rss_kb
for t in $TOOLS; do
        m=$(echo "${times[$t]}" | median)
        printf '%-15s %10.1f %8.2f %10s\n' "$t" "$(echo "$m / 1000" | bc -l)" "$(echo "$m / $base" | bc -l)" "${rss[$t]}"
done
