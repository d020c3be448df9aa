#!/bin/bash
# Start-up cost of `launch ... true` against what a user would otherwise run,
# the commands alternated round-robin in one run so that the machine's
# noise falls on all of them alike. Prints the median of each and its ratio
# to the article's `unshare --pid --fork --mount --uts --ipc chroot ROOTFS true`.
#
#   bench/launch.sh [RUNS [ARCH]]   (as root; default 200 runs per command)
#
# With ARCH (aarch64, armv7, ...), `launch --arch ARCH alpine:3.20 true`
# too: the emulated start-up through qemu-user-static (docs/launch.md),
# its image pulled from the mirror's copy of that architecture.
#
# Environment: LAUNCH (the launch binary; default: the build tree's, else
# PATH), ALPINE_MIRROR_DIR (default ../shared/alpine-mirror beside the
# source tree) for the real Alpine tree, else the busybox fixture tree.
set -u
runs=${1:-200}
arch=${2:-}
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench/launch.sh: run as root" >&2; exit 1; }
LAUNCH=${LAUNCH:-$([ -x "$src/launch/launch" ] && echo "$src/launch/launch" || command -v launch)}
[ -x "$LAUNCH" ] || { echo "bench/launch.sh: build launch first (make)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roost-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
store=$tmp/store
rootfs=$tmp/rootfs
mirror=${ALPINE_MIRROR_DIR:-$src/../shared/alpine-mirror}
tarball=$mirror/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
mkdir -p "$rootfs"
if [ -f "$tarball" ]; then
        tar -C "$rootfs" -xzf "$tarball"
        what="Alpine 3.20.3 minirootfs"
else
        . "$src/tests/lib/fixtures.sh"
        make_rootfs "$rootfs" 3.99.0
        what="busybox fixture tree (no Alpine mirror at $mirror)"
fi

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "unshare+chroot" "unshare --pid --fork --mount --uts --ipc chroot $rootfs true"
add "launch --rootfs" "$LAUNCH --store $store --rootfs $rootfs true"
# The image form, when this store can be given the image: pull and unpack
# from the local mirror (file://) once, then launch by name.
if [ -f "$tarball" ] && "$LAUNCH" --store "$store" --mirror "file://$mirror/alpine" alpine:3.20 true >/dev/null 2>&1; then
        add "launch alpine:3.20" "$LAUNCH --store $store alpine:3.20 true"
fi
if [ -n "$arch" ]; then
        if "$LAUNCH" --store "$store" --mirror "file://$mirror/alpine" --arch "$arch" alpine:3.20 true >/dev/null 2>&1; then
                add "launch --arch $arch" "$LAUNCH --store $store --arch $arch alpine:3.20 true"
        else
                echo "launch --arch $arch left out: it cannot run here (qemu-user-static, the mirror's $arch image?)"
        fi
fi
if command -v bwrap >/dev/null; then
        add "bwrap" "bwrap --unshare-all --ro-bind $rootfs / --proc /proc --dev /dev true"
fi
if command -v crun >/dev/null; then
        mkdir -p "$tmp/bundle"
        (cd "$tmp/bundle" && crun spec) &&
                jq --arg r "$rootfs" '.root.path = $r | .root.readonly = true | .process.terminal = false | .process.args = ["true"]' \
                        "$tmp/bundle/config.json" >"$tmp/bundle/c.json" && mv "$tmp/bundle/c.json" "$tmp/bundle/config.json"
        crun_cmd="crun run --bundle $tmp/bundle roost-bench-$$"
        # crun refuses some hosts (v1 and v2 controllers mixed): say so.
        if why=$($crun_cmd 2>&1); then
                add "crun" "$crun_cmd"
        else
                echo "crun left out: $why" | head -1
        fi
fi

n=${#cmds[@]}
for i in $(seq 0 $((n - 1))); do # warm up, and check that each works
        for _ in 1 2 3; do ${cmds[$i]} >/dev/null 2>&1; done
        ${cmds[$i]} >/dev/null 2>&1 || { echo "bench/launch.sh: '${names[$i]}' fails: ${cmds[$i]}" >&2; exit 1; }
        : >"$tmp/t.$i"
done
for _ in $(seq "$runs"); do
        for i in $(seq 0 $((n - 1))); do
                t0=$EPOCHREALTIME
                ${cmds[$i]} >/dev/null 2>&1
                t1=$EPOCHREALTIME
                echo "${t0/./} ${t1/./}" >>"$tmp/t.$i"
        done
done

echo "launch start-up, $runs runs each, alternated; tree: $what"
printf '%-22s %10s %10s %8s\n' command "median ms" "mean ms" ratio
base=
for i in $(seq 0 $((n - 1))); do
        read -r med mean < <(awk '{ print ($2 - $1) / 1000 }' "$tmp/t.$i" | sort -n |
                awk '{ v[NR] = $1; s += $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", m, s / NR }')
        [ -n "$base" ] || base=$med
        printf '%-22s %10s %10s %8s\n' "${names[$i]}" "$med" "$mean" "$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
done
