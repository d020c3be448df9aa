#!/bin/bash
# roost export --format oci|rootfs|bundle, read back by the tools a user
# would hand the file to: skopeo, oci-image-tool, umoci, podman, runc and
# crun. Alpine 3.20.3 from the mirror beside the checkout when it is there,
# else the busybox fixture laid out as a mirror; a two-layer image (a
# whiteout, a hard link, a device node, an xattr, a file capability) built
# with umoci and stored with tests/store-put oci. docs/exchange.md.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
missing=""
for t in skopeo umoci podman runc crun oci-image-tool jq setcap getcap getfattr setfattr; do
        command -v "$t" >/dev/null || missing="$missing $t"
done
[ -z "$missing" ] || skip_all "missing:$missing (apt-get install the packages of .ci/packages)"
[ "$(uname -m)" = x86_64 ] || skip_all "the fixtures here are x86_64's"

S=$TEST_TMP/store ARCH=x86_64
tree_hash() { # the tree below $1: names, types, modes, owners, sizes, links, contents
        (cd "$1" && find . -printf '%p %y %m %U %G %s %l\n' | LC_ALL=C sort &&
                find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}

if have_alpine_mirror; then
        MIRROR=$ALPINE_MIRROR_DIR TAG=3.20 VER=3.20.3
        BASE_TGZ=$ALPINE_MIRROR_DIR/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
else
        tap_diag "no Alpine mirror at $ALPINE_MIRROR_DIR: the busybox fixture stands in for it"
        MIRROR=$TEST_TMP/www TAG=3.99 VER=3.99.0 BASE_TGZ=$TEST_TMP/rootfs.tar.gz
        fixture_tarball "$BASE_TGZ" gz "$VER" && make_mirror "$MIRROR" "$VER" "$BASE_TGZ" ||
                skip_all "cannot build the fixture mirror"
fi
run_cmd pull --store "$S" --mirror "file://$MIRROR/alpine" -q alpine "$TAG"
[ "$rc" = 0 ] || skip_all "cannot pull the image to export: $err"
doc=$(roost --store "$S" images --json | jq -c --arg t "$TAG" '.[] | select(.name == "alpine" and .tag == $t)')
ID=$(jq -r .digest <<<"$doc")
LAYER=$(jq -r '.layers[0].digest | sub("^sha256:"; "")' <<<"$doc")

# Every container tool here keeps its state away from the host's: podman
# and skopeo in a storage of the test's own (vfs, in $TEST_TMP), in a
# private mount namespace whose /run and /var/lib are empty tmpfs (they
# write /run/containers and /var/lib/containers/cache whatever they are
# told); runc and crun with --root in $TEST_TMP.
C=$TEST_TMP/containers
mkdir -p "$C"
cat >"$C/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$C/run"
graphroot = "$C/root"
EOF
cat >"$C/containers.conf" <<EOF
[engine]
events_logger = "none"
tmp_dir = "$C/tmp"
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
ctr() {
        CONTAINERS_STORAGE_CONF=$C/storage.conf CONTAINERS_CONF=$C/containers.conf \
                unshare -m --propagation private sh -c \
                'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib && exec "$@"' sh "$@"
}
RUNC_ROOT=$TEST_TMP/runc CRUN_ROOT=$TEST_TMP/crun
tap_at_exit 'ctr podman rmi -a -f >/dev/null 2>&1'

# ---- --format oci: an OCI archive of the stored image, digests unchanged
F=$TEST_TMP/alpine.tar
run_cmd roost export --store "$S" "alpine:$TAG" "$F"
is "$rc:$err" "0:" "export (oci, the default) writes $(basename "$F")"
run_cmd skopeo inspect "oci-archive:$F"
is "$(jq -r .Digest <<<"$out")" "$ID" "skopeo inspect oci-archive: the image digest is roost's image id"
is "$(jq -c .Layers <<<"$out")" "$(jq -c '[.layers[].digest]' <<<"$doc")" "... and its layers are the stored ones"
is "$(tar -xOf "$F" "blobs/sha256/$LAYER" | sha256sum | cut -d' ' -f1)" "$LAYER" \
        "the layer blob is the stored one, byte for byte (Alpine's published digest when Alpine)"
index=$(tar -xOf "$F" index.json)
is "$(jq -r '.manifests | length' <<<"$index"):$(jq -r '.manifests[0].digest' <<<"$index")" "1:$ID" \
        "index.json names the one image"
is "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' <<<"$index")" "alpine:$TAG" \
        "... as NAME:TAG"
is "$(jq -c '.manifests[0].platform' <<<"$index")" '{"architecture":"amd64","os":"linux"}' "... with its platform"
is "$(tar -xOf "$F" | grep -ac '"roost\.')" 0 "the store's own roost.* annotations are not in the archive"
is "$(tar -xOf "$F" oci-layout)" '{"imageLayoutVersion":"1.0.0"}' "oci-layout says 1.0.0"
run_cmd skopeo inspect "oci-archive:$F:alpine:$TAG"
is "$(jq -r .Digest <<<"$out")" "$ID" "skopeo finds the image by its ref.name too"

roost export --store "$S" "alpine:$TAG" - >"$TEST_TMP/again.tar"
cmp -s "$F" "$TEST_TMP/again.tar"; ok $? "export to - writes the same bytes: an export is reproducible"

L=$TEST_TMP/layout
mkdir -p "$L" && tar -C "$L" -xf "$F"
# Debian 12's oci-image-tool is 1.0.0-rc1: it knows image-spec 1.0's media
# types (which are the ones roost writes) and calls a layout "image"; it
# cannot walk a tar archive, hence the unpacked directory.
run_cmd oci-image-tool validate --type image --ref "name=alpine:$TAG" "$L"
is "$rc" 0 "oci-image-tool validate: the layout and the image it names are valid: $err"
cp -a "$L" "$TEST_TMP/layout-bad"
flip_byte "$TEST_TMP/layout-bad/blobs/sha256/$LAYER" 100
run_cmd oci-image-tool validate --type image "$TEST_TMP/layout-bad"
[ "$rc" -ne 0 ]; ok $? "... and the same validation fails on a damaged copy (it can fail)"
run_cmd umoci unpack --image "$L:alpine:$TAG" "$TEST_TMP/umoci-bundle"
is "$rc:$(cat "$TEST_TMP/umoci-bundle/rootfs/etc/alpine-release" 2>/dev/null)" "0:$VER" \
        "umoci unpack --image DIR:alpine:$TAG gives the image's files"

run_cmd ctr podman load -i "$F"
is "$rc:$(grep -o 'Loaded image: .*' <<<"$out")" "0:Loaded image: localhost/alpine:$TAG" \
        "podman load -i accepts it and names it localhost/alpine:$TAG (from ref.name)"
is "$(ctr podman image inspect --format '{{.Digest}}' "localhost/alpine:$TAG" 2>&1)" "$ID" "... with roost's image id"
run_cmd ctr skopeo copy -q "oci-archive:$F" containers-storage:roost-test/copied:1
is "$rc" 0 "skopeo copy oci-archive: containers-storage: accepts it: $err"
is "$(ctr podman image inspect --format '{{.Digest}}' docker.io/roost-test/copied:1 2>&1)" "$ID" \
        "... with roost's image id"
# root here may lack CAP_SYS_RESOURCE: podman's default rlimits (above the
# current ones) would fail, so the container asks for no more than it has.
lim() { local v; v=$(ulimit "$1"); [ "$v" != unlimited ] && [ "$v" -lt 1024 ] && echo "$v" || echo 1024; }
run_cmd ctr podman run --rm --network none --ulimit "nofile=$(lim -n):$(lim -n)" \
        --ulimit "nproc=$(lim -u):$(lim -u)" "localhost/alpine:$TAG" cat /etc/alpine-release
is "$rc:$out" "0:$VER" "podman runs the loaded image: $err"

# ---- a two-layer image, built with umoci
U=$TEST_TMP/umoci
umoci init --layout "$U" && umoci new --image "$U:base" && umoci unpack --image "$U:base" "$U.b" >/dev/null &&
        tar -C "$U.b/rootfs" -xzf "$BASE_TGZ" && mkdir -p "$U.b/rootfs/usr/share/t" &&
        echo same >"$U.b/rootfs/usr/share/t/a" && ln "$U.b/rootfs/usr/share/t/a" "$U.b/rootfs/usr/share/t/b" &&
        echo gone >"$U.b/rootfs/usr/share/t/gone" && mknod "$U.b/rootfs/usr/share/t/null" c 1 3 &&
        echo x >"$U.b/rootfs/usr/share/t/attr" && setfattr -n user.roost -v kept "$U.b/rootfs/usr/share/t/attr" &&
        cp "$U.b/rootfs/bin/busybox" "$U.b/rootfs/usr/share/t/capped" &&
        setcap cap_net_raw+ep "$U.b/rootfs/usr/share/t/capped" &&
        umoci repack --image "$U:base" "$U.b" && rm -rf "$U.b" &&
        umoci unpack --image "$U:base" "$U.t" >/dev/null && rm "$U.t/rootfs/usr/share/t/gone" &&
        echo two >"$U.t/rootfs/etc/layer" && umoci repack --image "$U:top" "$U.t" &&
        umoci config --image "$U:top" --tag top --config.entrypoint sh --config.entrypoint -c \
                --config.cmd 'id -u; id -g; cat /etc/layer; pwd; ls /usr/share/t' \
                --config.workingdir /etc --config.user nobody
ok $? "umoci builds a two-layer image: a file removed in the top one, a config of its own"
MID=$(store-put oci "$S" "$U" top multi 1 "$ARCH")
ok $? "tests/store-put oci stores it"
run_cmd roost export --store "$S" multi:1 "$TEST_TMP/multi.tar"
is "$rc" 0 "export writes a two-layer image: $err"
run_cmd skopeo inspect "oci-archive:$TEST_TMP/multi.tar"
is "$(jq -r '.Digest + " " + (.Layers | length | tostring)' <<<"$out")" "sha256:$MID 2" \
        "skopeo inspect: its digest, with both layers"
is "$(tar -tf "$TEST_TMP/multi.tar" | grep -c '^blobs/sha256/.')" 4 "... manifest, config and two layers in the archive"

run_cmd roost export --store "$S" --format rootfs multi:1 "$TEST_TMP/multi-rootfs.tar"
is "$rc" 0 "export --format rootfs flattens it: $err"
list=$(tar -tvf "$TEST_TMP/multi-rootfs.tar")
like "$list" " \./etc/layer$" "the top layer's file is there"
is "$(grep -c 'usr/share/t/gone' <<<"$list")" 0 "the file its whiteout removed is not"
is "$(grep -c '\.wh\.' <<<"$list")" 0 "no whiteout entry is left in the tree"
like "$list" "^hrw-r--r-- 0/0 .* \./usr/share/t/(b link to \./usr/share/t/a|a link to \./usr/share/t/b)$" \
        "a hard link stays a link"
like "$list" "^crw-r--r-- 0/0 +1,3 .* \./usr/share/t/null$" "a device node stays one"
like "$(head -1 <<<"$list")" " \./$" "the root comes first, with its mode"
X=$TEST_TMP/multi-x
mkdir "$X" && tar --xattrs --xattrs-include='*' --numeric-owner -C "$X" -xpf "$TEST_TMP/multi-rootfs.tar"
is "$(getfattr --only-values -n user.roost "$X/usr/share/t/attr" 2>/dev/null)" kept "an xattr travels"
like "$(getcap "$X/usr/share/t/capped")" "cap_net_raw[=+]ep" "a file capability travels"
umoci unpack --image "$U:top" "$TEST_TMP/umoci-multi" >/dev/null 2>&1
is "$(tree_hash "$X")" "$(tree_hash "$TEST_TMP/umoci-multi/rootfs")" \
        "the flattened tree is the one umoci unpacks: names, types, modes, owners, sizes, contents"
run_cmd roost export --store "$S" --format rootfs "alpine:$TAG" "$TEST_TMP/alpine-rootfs.tar"
is "$(tar -tvf "$TEST_TMP/alpine-rootfs.tar" | awk '{ print $1, $2, $3, $6 }' | sed 's|/$||' | LC_ALL=C sort)" \
        "$(tar -tzvf "$BASE_TGZ" | awk '{ print $1, $2, $3, $6 }' | sed 's|/$||' | LC_ALL=C sort)" \
        "a one-layer image's rootfs lists as its layer does: modes, owners, sizes, names"
is "$(ls -A "$S/tmp")" "" "the flattening temporaries are gone"

# ---- --format bundle: runc and crun run it
B=$TEST_TMP/bundle
run_cmd roost export --store "$S" --format bundle multi:1 "$B"
is "$rc:$(ls "$B" | tr '\n' ' ')" "0:config.json rootfs " "export --format bundle writes config.json and rootfs/: $err"
cfg=$B/config.json
is "$(jq -c '.process | [.args, .cwd, .user.uid, .user.gid, .terminal]' "$cfg")" \
        '[["sh","-c","id -u; id -g; cat /etc/layer; pwd; ls /usr/share/t"],"/etc",65534,65534,false]' \
        "config.json: Entrypoint + Cmd as args, WorkingDir, User nobody as numbers, no terminal"
is "$(jq -c '[.linux.namespaces[].type] | sort' "$cfg")" '["ipc","mount","network","pid","uts"]' \
        "... runc spec's namespaces"
is "$(jq -c '[.mounts[].destination]' "$cfg")" \
        '["/proc","/dev","/dev/pts","/dev/shm","/dev/mqueue","/sys","/sys/fs/cgroup"]' "... its mounts"
is "$(jq -c '.process.capabilities.bounding' "$cfg")" '["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]' \
        "... its capabilities"
is "$(jq -r '[.linux.maskedPaths, .linux.readonlyPaths] | map(length) | join(" ")' "$cfg")" "10 5" \
        "... its masked and read-only paths"
is "$(jq -r '.process.env | map(select(startswith("PATH=") or startswith("HOME="))) | join(" ")' "$cfg")" \
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/" "... docker's PATH, the user's HOME"
want=$(printf '65534\n65534\ntwo\n/etc\na\nattr\nb\ncapped\nnull')
ID1=roost-export-$$-runc
run_cmd timeout 60 unshare -m --propagation private runc --root "$RUNC_ROOT" run -b "$B" "$ID1"
is "$rc:$out" "0:$want" "runc run starts the bundle: the image's command, user, workdir and files: $err"
runc --root "$RUNC_ROOT" delete -f "$ID1" 2>/dev/null
# crun refuses this host's hybrid cgroup mount (cgroup2 at
# /sys/fs/cgroup/unified beside the v1 controllers): it runs in a mount
# namespace of its own where a tmpfs hides the unified mount.
ID2=roost-export-$$-crun
run_cmd timeout 60 unshare -m --propagation private sh -c \
        '[ ! -d /sys/fs/cgroup/unified ] || mount -t tmpfs tmpfs /sys/fs/cgroup/unified; exec "$@"' sh \
        crun --root "$CRUN_ROOT" run -b "$B" "$ID2"
is "$rc:$out" "0:$want" "crun run starts the bundle too: $err"
crun --root "$CRUN_ROOT" delete -f "$ID2" 2>/dev/null
run_cmd roost export --store "$S" --format bundle "alpine:$TAG" "$TEST_TMP/bundle-alpine"
is "$(jq -c '[.process.args, .process.user.uid]' "$TEST_TMP/bundle-alpine/config.json")" '[["/bin/sh"],0]' \
        "an Alpine image's bundle runs its Cmd, /bin/sh, as root"
is "$(tree_hash "$TEST_TMP/bundle-alpine/rootfs")" "$(tree_hash "$TEST_TMP/umoci-bundle/rootfs")" \
        "... and its rootfs is the tree umoci unpacks from the OCI export"
mkdir "$TEST_TMP/empty"
run_cmd roost export --store "$S" --format bundle "alpine:$TAG" "$TEST_TMP/empty"
is "$rc:$(ls "$TEST_TMP/empty" | tr '\n' ' ')" "0:config.json rootfs " "an empty directory takes a bundle"

# ---- bad input: one line, the documented exit status, nothing left behind
leftovers() { ls -A "$TEST_TMP" | grep -c '\.roost-'; }
run_cmd roost export --store "$S" --format tar "alpine:$TAG" "$TEST_TMP/x.tar"
is "$rc:$err" "2:roost: export: unknown format 'tar'; use oci, rootfs or bundle" "an unknown format: exit 2, one line"
run_cmd roost export --store "$S" alpine:9.9 "$TEST_TMP/x.tar"
is "$rc:$err" "3:roost: export: alpine:9.9: no such image in the store" "a nonexistent image: exit 3, one line"
test ! -e "$TEST_TMP/x.tar"; ok $? "... and no file"
run_cmd roost export --store "$S" "alpine:$TAG"
is "$rc:$(wc -l <<<"$err")" "2:1" "a missing destination: exit 2, one line"
run_cmd roost export --store "$S" --format bundle "alpine:$TAG" -
is "$rc:$(wc -l <<<"$err")" "2:1" "a bundle to standard output: exit 2, one line"
run_cmd roost export --store "$S" --format bundle "alpine:$TAG" "$B"
is "$rc" 1 "an existing non-empty bundle directory is refused (exit 1)"
like "$err" "^roost: export: alpine:$TAG: .*/bundle is not empty" "... saying so"
is "$(jq -r '.process.args[0]' "$B/config.json")" sh "... and left as it was"
run_cmd roost export --store "$S" --format bundle "alpine:$TAG" "$F"
is "$rc:$(wc -l <<<"$err")" "1:1" "a file where the bundle would go is refused, one line"
# A read-only file system and a full one (a 256 KiB tmpfs). Both are
# mounted in a mount namespace of the test's own, never on the host, where
# another test (tests/launch.sh) compares the whole mount table. Each case
# prints one line there: "exit status|lines on stderr|first line|what is
# in the full file system|the old file's content".
RO=$TEST_TMP/ro FULL=$TEST_TMP/full
mkdir -p "$RO" "$FULL"
mapfile -t res < <(unshare -m --propagation private bash -c '
        S=$1 TAG=$2 RO=$3 FULL=$4
        mount --bind "$RO" "$RO" && mount -o remount,bind,ro "$RO" && mount -t tmpfs -o size=256k tmpfs "$FULL" ||
                exit 1
        echo old >"$FULL/x.tar"
        case1() {
                roost export --store "$S" "$@" >/dev/null 2>"$FULL.err"
                echo "$?|$(wc -l <"$FULL.err")|$(head -1 "$FULL.err")|$(ls -A "$FULL" | tr "\n" " ")|$(cat "$FULL/x.tar")"
        }
        case1 "alpine:$TAG" "$RO/x.tar"
        case1 --format bundle "alpine:$TAG" "$RO/b"
        case1 "alpine:$TAG" "$FULL/x.tar"
        case1 --format rootfs "alpine:$TAG" "$FULL/x.tar"
        case1 --format bundle "alpine:$TAG" "$FULL/b"
' sh "$S" "$TAG" "$RO" "$FULL")
is "${#res[@]}" 5 "the read-only and the full file system are mounted in a namespace of the test's own"
IFS='|' read -r rc n err listing old <<<"${res[0]:-}"
is "$rc:$n" "1:1" "an unwritable destination: exit 1, one line"
like "$err" "^roost: export: alpine:$TAG: writing $RO/x.tar: Read-only file system" "... naming it"
IFS='|' read -r rc n err listing old <<<"${res[1]:-}"
is "$rc:$n" "1:1" "... a bundle's too: $err"
IFS='|' read -r rc n err listing old <<<"${res[2]:-}"
is "$rc:$listing" "1:x.tar " "a full disk fails the export (exit 1), leaving no partial file: $err"
is "$old" old "... and the file that was there unchanged"
IFS='|' read -r rc n err listing old <<<"${res[3]:-}"
is "$rc:$listing:$old" "1:x.tar :old" "... for --format rootfs too: $err"
IFS='|' read -r rc n err listing old <<<"${res[4]:-}"
is "$rc:$listing" "1:x.tar " "... and a bundle's temporary is removed: $err"
is "$(leftovers):$(ls -A "$S/tmp")" "0:" "no temporary is left beside a destination or in the store"
# A damaged store: a layer blob changed in place.
D=$TEST_TMP/damaged
cp -a "$S" "$D"
flip_byte "$D/blobs/sha256/$LAYER" 1000
for fmt in oci rootfs bundle; do
        run_cmd roost export --store "$D" --format $fmt "alpine:$TAG" "$TEST_TMP/damaged-$fmt"
        is "$rc:$(wc -l <<<"$err")" "5:1" "--format $fmt of a damaged layer: exit 5, one line"
        test ! -e "$TEST_TMP/damaged-$fmt"; ok $? "... and nothing written"
done
like "$err" "no longer matches its digest; run roost verify" "... saying to run roost verify"

tap_done
