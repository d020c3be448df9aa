#!/bin/bash
# OCI layers (docs/unpack.md, "Layers and whiteouts"), built by
# tests/unpack-layers.py: `unpack FILE... DIR` flattens a stack applying its
# whiteouts; each layer extracted alone as an overlay tree
# (tests/unpack-layer, UNPACK_WHITEOUT_OVERLAY) and stacked by a real
# overlay mount shows the same tree. Hostile layers are refused with exit 7
# and one line, leave nothing behind, and a canary directory beside the
# target stays unchanged. As root, then as an unprivileged user.
. "$ROOST_SRCDIR/tests/lib/tap.sh"

command -v python3 >/dev/null || skip_all "python3 missing (it builds the layers)"

# snapshot DIR: a hash of everything about DIR that an escape could change.
snapshot() {
        (cd "$1" && find . -printf '%y %m %s %T@ %l %p\n' | sort &&
                find . -type f -exec sha256sum {} + | sort) | sha256sum | cut -d' ' -f1
}

# tree DIR: names, types and contents, as the flattened tree and the
# overlay must agree on them.
tree() {
        (cd "$1" && find . -mindepth 1 -printf '%p %y\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

make_canary() {
        mkdir -p "$1/sub"
        echo original >"$1/file"
        echo keep >"$1/sub/inner"
        touch -d '2020-01-01' "$1/file" "$1/sub/inner" "$1/sub" "$1"
}

image_want='./etc d
./etc/d d
./etc/keep f
./etc/new f
./mixed d
./mixed/upper f
./opq d
./opq/new f
./own d
./own/x f
./todir d
./todir/again f
./tofile f'

# flatten_checks LABEL STACK OUT: what the good stacks must give.
flatten_checks() {
        local label=$1 s=$2 o=$3
        is "$(find "$o" -name '.wh.*' | wc -l)" 0 "$label: $s: no marker is made as a file"
        case $s in
        image)
                is "$(cd "$o" && find . -mindepth 1 -printf '%p %y\n' | sort)" "$image_want" \
                        "$label: $s: whiteouts removed what the layers below put there, and only that"
                is "$(cat "$o/tofile" "$o/etc/keep")" "now a filek" "$label: $s: the files hold their layer's data"
                is "$(getfattr -d -m '^(trusted|user)\.overlay\.' --absolute-names "$o/etc/d" 2>/dev/null)" "" \
                        "$label: $s: no overlay attribute from the archive"
                ;;
        root-opaque)
                is "$(cd "$o" && find . -mindepth 1 -printf '%p %y\n' | sort | tr '\n' ' ')" "./after d ./first f " \
                        "$label: $s: an opaque root keeps only the layer's own entries"
                ;;
        whiteout-nowhere)
                is "$(find "$o/nodir" | wc -l)" 1 "$label: $s: the marker's directory is made, empty"
                ;;
        empty-layer)
                is "$(cd "$o" && find . -mindepth 1 | wc -l)" 18 "$label: $s: the layer below is whole"
                ;;
        esac
}

# battery LABEL RUNNER...: flatten every stack with RUNNER unpack ...
battery() {
        local label=$1; shift
        local base=$TEST_TMP/$label s n expect overlay
        mkdir -p "$base/layers"
        make_canary "$base/canary"
        python3 "$ROOST_SRCDIR/tests/unpack-layers.py" "$base/layers" "$base/canary" ||
                { ok 1 "$label: building the layers"; return; }
        [ "$label" = root ] || chown -R "$TEST_USER" "$base"
        local before
        before=$(snapshot "$base/canary")
        while read -r s n expect overlay; do
                rm -rf "$base/t"
                mkdir "$base/t"
                [ "$label" = root ] || chown "$TEST_USER" "$base/t"
                local files=() i
                for ((i = 0; i < n; i++)); do files+=("$base/layers/$s.$i.tar"); done
                run_cmd "$@" unpack -q "${files[@]}" "$base/t/out"
                is "$(snapshot "$base/canary")" "$before" "$label: $s: canary unchanged"
                if [ "$expect" = refuse ]; then
                        is "$rc" 7 "$label: $s: refused with exit 7"
                        like "$err" "^unpack: .*$s\.1\.tar: entry '.*': .+" "$label: $s: one line naming the layer and the entry"
                        is "$(printf '%s\n' "$err" | wc -l)" 1 "$label: $s: exactly one line"
                        is "$(ls -A "$base/t")" "" "$label: $s: no target and no temporary left"
                else
                        is "$rc" 0 "$label: $s: flattened"
                        if [ "$s" = image ]; then
                                like "$err" "^unpack: warning: .*image\.2\.tar: 2 trusted\.\* or user\.overlay\.\* attributes ignored$" \
                                        "$label: $s: one warning counts the overlay attributes left out"
                        else
                                is "$err" "" "$label: $s: nothing to say"
                        fi
                        flatten_checks "$label" "$s" "$base/t/out"
                fi
        done <"$base/layers/stacks"
}

ensure_test_user || true
battery root env
L=$TEST_TMP/root/layers

run_cmd unpack -q "$L/image.0.tar" "$L/hardlink-below.1.tar" "$TEST_TMP/hl"
like "$err" "hardlink target 'etc/keep' is not in this layer before it \(a layer's hardlinks may not point into the layers below\)" \
        "a hardlink into the layers below: the line says why"
run_cmd unpack -q "$L/image.1.tar" "$TEST_TMP/keep"
is "$rc" 0 "one FILE is a plain tarball"
check "... whose .wh. entries are ordinary files" test -f "$TEST_TMP/keep/etc/.wh.gone"
run_cmd unpack -q "$L/image.0.tar" - "$TEST_TMP/stdin"
is "$rc" 2 "standard input is not one of several layers"
run_cmd unpack -q "$L/image.0.tar" "$TEST_TMP/nothere.tar" "$TEST_TMP/missing"
is "$rc" 3 "a missing layer: exit 3"
check "... and nothing made" test ! -e "$TEST_TMP/missing"
run_cmd unpack -q --max-entries 20 "$L/image.0.tar" "$L/image.1.tar" "$TEST_TMP/limit"
is "$rc" 7 "--max-entries counts the layers together"

# The same stacks as overlay trees, one per layer. overlay_stack LABEL
# RUNNER...: extract with RUNNER unpack-layer, refusals as for flattening
# (the top layer alone, which is what an overlay tree holds).
overlay_battery() {
        local label=$1; shift
        local base=$TEST_TMP/$label s n expect overlay before
        before=$(snapshot "$base/canary")
        while read -r s n expect overlay; do
                rm -rf "$base/ov"
                mkdir "$base/ov"
                [ "$label" = root ] || chown "$TEST_USER" "$base/ov"
                run_cmd "$@" unpack-layer $xattrs "$base/layers/$s.$((n - 1)).tar" "$base/ov/top"
                is "$(snapshot "$base/canary")" "$before" "$label overlay: $s: canary unchanged"
                if [ "$overlay" = refuse ]; then
                        is "$rc" 7 "$label overlay: $s: refused with exit 7"
                else
                        is "$rc" 0 "$label overlay: $s: extracted"
                        is "$(find "$base/ov" -name '.wh.*' | wc -l)" 0 "$label overlay: $s: no marker is made as a file"
                fi
        done <"$base/layers/stacks"
}

# mount_stack LABEL TOP... : lowerdir option of the overlay trees of a
# stack, top first.
lowerdirs() { local IFS=:; echo "$*"; }

xattrs=
overlay_battery root env
ov=$TEST_TMP/root/ovl
mkdir -p "$ov"
for i in 0 1 2; do unpack-layer "$L/image.$i.tar" "$ov/$i"; done
is "$(stat -c '%F %t:%T %a' "$ov/1/etc/gone" 2>&1)" "character special file 0:0 0" \
        "overlay: a whiteout is a 0/0 character device, mode 0"
is "$(getfattr --absolute-names -n trusted.overlay.opaque --only-values "$ov/1/opq" 2>&1)" y \
        "overlay: .wh..wh..opq makes its directory opaque"
is "$(getfattr --absolute-names -n trusted.overlay.opaque --only-values "$ov/2/todir" 2>&1)" y \
        "overlay: a directory after its own whiteout is opaque"
is "$(getfattr -d -m '^(trusted|user)\.overlay\.' --absolute-names "$ov/2/etc/d" 2>/dev/null)" "" \
        "overlay: no overlay attribute from the archive"
unpack-layer "$L/root-opaque.1.tar" "$ov/ropq"
is "$(getfattr --absolute-names -n trusted.overlay.opaque --only-values "$ov/ropq" 2>&1)" y \
        "overlay: an opaque root is marked on the tree's root"
# The overlay of the layer trees shows what flattening gives: names, types
# and contents. mount_compare LABEL OVERLAY-TREES FLAT RUNNER...
compare_mounted() {
        local label=$1 trees=$2 flat=$3; shift 3
        local got want
        want=$(tree "$flat")
        got=$("$@" sh -c '
                m=$1/m; mkdir -p "$m" &&
                mount -t overlay roost-test -o "$2lowerdir=$1/2:$1/1:$1/0" "$m" || exit 99
                cd "$m" && find . -mindepth 1 -printf "%p %y\n" | sort && find . -type f -exec sha256sum {} + | sort
                cd / && umount "$m"' sh "$trees" "$opts")
        if [ $? -eq 99 ] || [ -z "$got" ]; then
                skip "$label: the overlay of the layer trees shows what flattening gives" "overlayfs cannot be mounted here"
        else
                is "$got" "$want" "$label: the overlay of the layer trees shows what flattening gives"
        fi
}
unpack -q "$L/image.0.tar" "$L/image.1.tar" "$L/image.2.tar" "$TEST_TMP/flat"
opts=
compare_mounted root "$ov" "$TEST_TMP/flat" env

if ! ensure_test_user; then
        skip "unprivileged" "the test user $TEST_USER cannot be created"
elif ! as_test_user test -x "$(command -v unpack)"; then
        skip "unprivileged" "$TEST_USER cannot run the build tree's unpack (a directory above it is not readable)"
else
        battery user as_test_user
        xattrs=--user-xattrs
        overlay_battery user as_test_user
        U=$TEST_TMP/user
        mkdir "$U/ovl"
        chown "$TEST_USER" "$U/ovl"
        for i in 0 1 2; do as_test_user unpack-layer --user-xattrs "$U/layers/image.$i.tar" "$U/ovl/$i"; done
        is "$(stat -c '%F %t:%T %U' "$U/ovl/1/etc/gone" 2>&1)" "character special file 0:0 $TEST_USER" \
                "user overlay: a whiteout is a 0/0 node, the user's"
        is "$(getfattr --absolute-names -n user.overlay.opaque --only-values "$U/ovl/1/opq" 2>&1)" y \
                "user overlay: .wh..wh..opq sets user.overlay.opaque"
        as_test_user unpack -q "$U/layers/image.0.tar" "$U/layers/image.1.tar" "$U/layers/image.2.tar" "$U/flat"
        if as_test_user unshare --user --map-root-user --mount true 2>/dev/null; then
                opts=userxattr,
                compare_mounted user "$U/ovl" "$U/flat" as_test_user unshare --user --map-root-user --mount
        else
                skip "user: the overlay of the layer trees shows what flattening gives" "no user namespaces here"
        fi
fi
tap_done
