#!/bin/bash
# Stacked lower layers (--rootfs repeated, top first), as an image's layers
# are stacked: an upper file hides the one below, a whiteout (a 0/0
# character device) hides a lower file, an opaque directory hides a lower
# directory's content; writes land in the discarded layer and no lower
# changes; --name keeps its layer and refuses another stack; --read-only
# stacks them with no upper layer. As root (trusted.overlay.opaque), then
# rootless (user.overlay.opaque, the layers owned by the unprivileged user).
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
command -v setfattr >/dev/null || skip_all "setfattr missing (apt-get install attr)"

tree_hash() {
        (cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
                find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}

# make_layers DIR OPAQUE_XATTR: DIR/base (the fixture tree), DIR/mid and
# DIR/top over it.
make_layers() {
        local d=$1 xattr=$2
        make_rootfs "$d/base" 3.99.0 || return 1
        mkdir -p "$d/base/usr/share/op" "$d/base/usr/share/kept"
        echo old >"$d/base/usr/share/op/old"
        echo kept >"$d/base/usr/share/kept/file"
        mkdir -p "$d/mid/etc" "$d/mid/usr/share/op" "$d/top/etc"
        echo mid >"$d/mid/etc/alpine-release"
        echo mid >"$d/mid/etc/motd"
        mknod "$d/mid/etc/os-release" c 0 0
        echo new >"$d/mid/usr/share/op/new"
        setfattr -n "$xattr" -v y "$d/mid/usr/share/op"
        echo top >"$d/top/etc/alpine-release"
}

# suite WHO: the checks, with LL running launch over the three layers as
# WHO, and L2 over two of them only (another stack).
suite() {
        local who=$1 d=$2 before
        before=$(for l in base mid top; do tree_hash "$d/$l"; done)

        run_cmd LL sh -c 'cat /etc/alpine-release /etc/motd'
        is "$rc:$out" "0:$(printf 'top\nmid')" "$who: the top layer's file hides the lower ones', a middle one's shows"
        run_cmd LL sh -c 'ls /etc/os-release 2>&1; ls /etc | grep -c "^os-release"; head -1 /etc/os-release.hardlink'
        is "$out" "$(printf 'ls: /etc/os-release: No such file or directory\n1\nNAME="Alpine Linux"')" \
                "$who: a whiteout hides the lower file (and only it: its hard link stays)"
        run_cmd LL sh -c 'ls /usr/share/op | tr "\n" " "; cat /usr/share/kept/file'
        is "$out" "new kept" "$who: an opaque directory hides the lower directory's content, and only it"
        run_cmd LL sh -c 'echo w >/etc/new && echo w2 >/etc/alpine-release && rm /etc/motd && \
                echo w3 >/usr/share/op/new && cat /etc/new /etc/alpine-release'
        is "$rc:$out" "0:$(printf 'w\nw2')" "$who: the container writes over the stack"
        is "$(for l in base mid top; do tree_hash "$d/$l"; done)" "$before" "$who: no lower layer changed"
        run_cmd LL cat /etc/new
        is "$rc" 1 "$who: the writes were discarded"

        run_cmd LL --name "keep-$who" sh -c 'echo kept >/root/note'
        is "$rc" 0 "$who: --name over a stack runs"
        run_cmd LL --name "keep-$who" sh -c 'cat /root/note /etc/alpine-release'
        is "$out" "$(printf 'kept\ntop')" "$who: --name keeps its layer over the same stack"
        run_cmd L2 --name "keep-$who" true
        is "$rc" 125 "$who: --name refuses another stack"
        like "$err" "^launch: container keep-$who was made on another tree \(.*/top:.*/mid:.*/base\)" \
                "$who: ... naming the stack it was made on"

        run_cmd LL --read-only sh -c 'cat /etc/alpine-release; ls /usr/share/op; touch /x 2>&1'
        like "$out" "^top" "$who: --read-only stacks the layers"
        like "$out" "Read-only file system" "$who: ... and nothing may write them"
        run_cmd LL --read-only --explain true
        like "$err" 'mount "overlay" on .*lowerdir=[^,]*/top:[^,]*/mid:[^,]*/base,?' \
                "$who: --read-only over several lowers is an overlay with no upper layer"
        run_cmd LL --explain true
        like "$err" "lower 1 of 3 \(top\): .*/top" "$who: --explain names every lower (top)"
        like "$err" "lower 3 of 3: .*/base" "$who: ... to the bottom one"
        like "$err" "lowerdir=[^,]*/top:[^,]*/mid:[^,]*/base,upperdir=" "$who: ... and the overlay stacks them, top first"
        is "$(for l in base mid top; do tree_hash "$d/$l"; done)" "$before" "$who: still no lower layer changed"
}

# ---- as root: trusted.overlay.opaque
R=$TEST_TMP/root
mkdir -p "$R/store"
make_layers "$R" trusted.overlay.opaque || skip_all "cannot build the fixture rootfs"
LL() { launch --store "$R/store" --rootfs "$R/top" --rootfs "$R/mid" --rootfs "$R/base" "$@"; }
L2() { launch --store "$R/store" --rootfs "$R/top" --rootfs "$R/base" "$@"; }
suite root "$R"
run_cmd launch --store "$R/store" --rootfs "$R/base" --rootfs "$R/store/tmp" true
is "$rc" 125 "a lower inside the store's tmp/ is refused"

# ---- rootless: user.overlay.opaque, the layers the user's own
if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        U=$TEST_TMP/user
        mkdir -p "$U/store"
        make_layers "$U" user.overlay.opaque
        chown -R "$TEST_USER:" "$U"
        LL() { as_test_user launch --store "$U/store" -q --rootfs "$U/top" --rootfs "$U/mid" --rootfs "$U/base" "$@"; }
        L2() { as_test_user launch --store "$U/store" -q --rootfs "$U/top" --rootfs "$U/base" "$@"; }
        suite rootless "$U"
else
        skip "rootless stacking" "no test user, or unprivileged user namespaces are disabled"
fi

tap_done
