#!/bin/bash
# Start-up cost of `launch ... true` against what a user would otherwise run,
# the commands alternated in one run (each round in a random order) so that
# the machine's noise falls on all of them alike. Prints the median of each
# and its ratio to the article's
# `unshare --pid --fork --mount --uts --ipc chroot ROOTFS true`.
# Then what each extra overlay lower layer costs: `launch --rootfs` over 1, 2,
# 4 and 8 lower directories (small ones of a few files each, stacked on the
# tree with repeated --rootfs, as an image's layers are), in ms and as a
# ratio to the one-layer launch.
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
# LAUNCH_BASE, another launch binary (an earlier build), adds its
# `--rootfs` launch to the same rounds and prints what LAUNCH gains on it.
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

# Small layers for the layer counts: a few files each, one a layer's own
# and one that hides the tree's, as an image's upper layers hold.
layers_max=8
for k in $(seq 1 $((layers_max - 1))); do
        mkdir -p "$tmp/layer$k/etc" "$tmp/layer$k/usr/share/layer$k"
        for f in a b c d; do echo "$k$f" >"$tmp/layer$k/usr/share/layer$k/$f"; done
        echo "layer $k" >"$tmp/layer$k/etc/motd"
done
# --rootfs for N lowers: the N-1 small layers on top of the tree.
stack() {
        local k out=
        for k in $(seq $(($1 - 1)) -1 1); do out+="--rootfs $tmp/layer$k "; done
        echo "$out--rootfs $rootfs"
}

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "unshare+chroot" "unshare --pid --fork --mount --uts --ipc chroot $rootfs true"
add "launch --rootfs" "$LAUNCH --store $store --rootfs $rootfs true"
layer_index=() # the command of each layer count (1: launch --rootfs's)
layer_index[1]=$((${#cmds[@]} - 1))
base_index=
if [ -n "${LAUNCH_BASE:-}" ]; then
        [ -x "$LAUNCH_BASE" ] || { echo "bench/launch.sh: LAUNCH_BASE $LAUNCH_BASE is not executable" >&2; exit 1; }
        base_index=${#cmds[@]}
        add "base --rootfs" "$LAUNCH_BASE --store $store --rootfs $rootfs true"
fi
for l in 2 4 8; do
        layer_index[l]=${#cmds[@]}
        add "launch $l layers" "$LAUNCH --store $store $(stack $l) true"
done
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
        # crun refuses a host with v1 controllers and a cgroup2 mount beside
        # them ("cgroups in hybrid mode not supported") when it sees
        # /sys/fs/cgroup/unified. The development machines are such hosts:
        # there crun runs in a mount namespace of its own where an empty
        # tmpfs covers /sys/fs/cgroup/unified, so that it sees plain v1. The
        # namespace is made once and held by a sleeping process; each run
        # enters it with nsenter, whose exec (~0.3 ms) crun's figure then
        # includes. launch and the others keep the host's view.
        if ! why=$($crun_cmd 2>&1) && grep -q "hybrid" <<<"$why" && [ -d /sys/fs/cgroup/unified ]; then
                mkfifo "$tmp/crun-ready"
                unshare -m --propagation private sh -c \
                        "mount -t tmpfs none /sys/fs/cgroup/unified && echo >$tmp/crun-ready && exec sleep 1d" &
                crun_holder=$!
                read -r _ <"$tmp/crun-ready"
                crun_cmd="nsenter --mount=/proc/$crun_holder/ns/mnt $crun_cmd"
                trap 'kill "$crun_holder" 2>/dev/null; rm -rf "$tmp"' EXIT
        fi
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
# Each round in an order of its own (Fisher-Yates with $RANDOM): what a
# command leaves behind (a launch's namespaces are torn down after it has
# returned, on the second core) then falls on every other command alike,
# rather than always on the one after it in the list.
order=($(seq 0 $((n - 1))))
for _ in $(seq "$runs"); do
        for ((k = n - 1; k > 0; k--)); do
                j=$((RANDOM % (k + 1)))
                t=${order[k]} order[k]=${order[j]} order[j]=$t
        done
        for i in "${order[@]}"; do
                t0=$EPOCHREALTIME
                ${cmds[$i]} >/dev/null 2>&1
                t1=$EPOCHREALTIME
                echo "${t0/./} ${t1/./}" >>"$tmp/t.$i"
        done
done

echo "launch start-up, $runs runs each, alternated; tree: $what"
printf '%-22s %10s %10s %8s\n' command "median ms" "mean ms" ratio
base=
medians=()
for i in $(seq 0 $((n - 1))); do
        read -r med mean < <(awk '{ print ($2 - $1) / 1000 }' "$tmp/t.$i" | sort -n |
                awk '{ v[NR] = $1; s += $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f %.3f\n", m, s / NR }')
        [ -n "$base" ] || base=$med
        medians[i]=$med
        printf '%-22s %10s %10s %8s\n' "${names[$i]}" "$med" "$mean" "$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
done

if [ -n "$base_index" ]; then
        awk -v a="${medians[${layer_index[1]}]}" -v b="${medians[$base_index]}" 'BEGIN {
                printf "\nlaunch --rootfs against LAUNCH_BASE: %+.3f ms (%.3f against %.3f)\n", a - b, a, b }'
fi

echo
echo "overlay lower layers (launch --rootfs, repeated), against one layer"
printf '%-8s %10s %10s %10s %14s\n' layers "median ms" "+ms" ratio "+ms per layer"
one=${medians[${layer_index[1]}]}
for l in 1 2 4 8; do
        med=${medians[${layer_index[l]}]}
        awk -v l="$l" -v a="$med" -v b="$one" 'BEGIN {
                printf "%-8s %10.3f %+10.3f %10.3f %14s\n", l, a, a - b, a / b,
                        (l > 1 ? sprintf("%+.3f", (a - b) / (l - 1)) : "-") }'
done
