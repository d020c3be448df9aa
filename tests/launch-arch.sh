#!/bin/bash
# launch of another architecture's tree: Alpine's real aarch64 and armv7
# 3.20.3, as root and rootless, through Debian's qemu-user-static
# registered with binfmt_misc in the container's own user namespace, the
# host's binfmt_misc left as it was; --arch and --platform spellings; the
# missing interpreter; and the branches of kernels before 6.7, forced with
# ROOST_LAUNCH_NO_BINFMT_NS (they cannot happen on a newer one).
#
# The script runs in a mount namespace of its own where the host's
# binfmt_misc is mounted: a registration with the host's, had launch made
# one, would be listed there, and would go with that namespace at the
# latest.
if [ "$(id -u)" -eq 0 ] && [ -z "${ROOST_ARCH_TEST_NS:-}" ] && unshare -m --propagation private true 2>/dev/null; then
        ROOST_ARCH_TEST_NS=1 unshare -m --propagation private "$BASH" "$0" "$@"
        exit $?
fi
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
[ -n "${ROOST_ARCH_TEST_NS:-}" ] || skip_all "unshare -m is not available"
have_alpine_mirror || skip_all "no Alpine mirror at $ALPINE_MIRROR_DIR"
[ "$(uname -m)" = x86_64 ] || skip_all "aarch64 and armv7 are foreign only to an x86_64 host here ($(uname -m))"
[ -x /usr/bin/qemu-aarch64-static ] && [ -x /usr/bin/qemu-arm-static ] ||
        skip_all "qemu-user-static is not installed (apt-get install qemu-user-static)"
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
((kmaj > 6 || (kmaj == 6 && kmin >= 7))) || skip_all "binfmt_misc per user namespace needs Linux 6.7 ($(uname -r))"

BM=/proc/sys/fs/binfmt_misc
if [ "$(stat -f -c %T "$BM" 2>/dev/null)" != binfmt_misc ]; then
        mount -t binfmt_misc binfmt_misc "$BM" || skip_all "cannot mount the host's binfmt_misc"
fi
host_entries() { ls "$BM" | LC_ALL=C sort | tr '\n' ' '; }
before=$(host_entries)

REL=$ALPINE_MIRROR_DIR/alpine/v3.20/releases
MIRROR=file://$ALPINE_MIRROR_DIR/alpine
STORE=$TEST_TMP/store
mkdir -p "$STORE"
for a in aarch64 armv7; do
        unpack -q --keep-devices --keep-setid "$REL/$a/alpine-minirootfs-3.20.3-$a.tar.gz" "$TEST_TMP/$a" ||
                skip_all "cannot unpack the $a minirootfs"
done

# Root, a --rootfs tree: its architecture is read from its /bin/sh.
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/aarch64" sh -c 'uname -m; apk --version; cat /proc/self/uid_map'
is "$rc" 0 "root: an aarch64 tree runs on x86_64"
is "$(sed -n 1p <<<"$out")" aarch64 "... uname -m says aarch64"
like "$(sed -n 2p <<<"$out")" "^apk-tools .*compiled for aarch64" "... apk --version runs inside"
is "$(sed -n 3p <<<"$out" | tr -s ' ')" " 0 0 4294967295" "... in a user namespace mapping every id to itself"
is "$err" "launch: the tree is aarch64 (its /bin/sh): running it through qemu-aarch64-static" \
        "... saying in one line what it found, without --arch"
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/aarch64" stat -c '%u:%g %a' /etc/shadow /tmp
is "$out" "$(cd "$TEST_TMP/aarch64" && stat -c '%u:%g %a' etc/shadow tmp)" "... files keep their owners and modes"
run_cmd launch --store "$STORE" -q --rootfs "$TEST_TMP/armv7" sh -c 'uname -m; apk --version'
is "$rc:$(sed -n 1p <<<"$out")" 0:armv7l "root: an armv7 tree, uname -m armv7l"
like "$(sed -n 2p <<<"$out")" "compiled for armv7" "... apk --version runs inside"
is "$err" "" "... -q keeps the note quiet"

# --explain: the registration, the user namespace, Debian's magic and mask.
run_cmd launch --store "$STORE" --explain --arch aarch64 --rootfs "$TEST_TMP/aarch64" true
is "$rc" 0 "--explain --arch aarch64: runs"
like "$err" "explain: a user namespace for root too, for a binfmt_misc of the container's own" \
        "... says root gets a user namespace, and why"
like "$err" "explain: mount \"binfmt_misc\" on /proc/sys/fs/binfmt_misc: fsopen\\(\"binfmt_misc\"\\)" \
        "... shows binfmt_misc mounted in the container"
reg=$(sed -n 's/^explain: write("register", "\([^"]*\)").*/\1/p' <<<"$err")
like "$reg" "^:qemu-aarch64:M::.*:/usr/bin/qemu-aarch64-static:[OP]*F" "... and the registration, with F ($reg)"
[ "$(grep -n 'binfmt_misc' <<<"$err" | tail -1 | cut -d: -f1)" -lt "$(grep -n 'pivot_root' <<<"$err" | head -1 | cut -d: -f1)" ]
ok $? "... before pivot_root, while the host's interpreter can be reached"
if [ -f /usr/share/binfmts/qemu-aarch64 ]; then
        IFS=: read -r _ _ _ _ magic mask _ <<<"$reg"
        is "$magic:$mask" "$(awk '$1 == "magic" || $1 == "mask" { printf "%s%s", sep, $2; sep = ":" }' /usr/share/binfmts/qemu-aarch64)" \
                "... with Debian's own magic and mask"
else
        skip "... with Debian's own magic and mask" "no /usr/share/binfmts/qemu-aarch64"
fi
# Every other architecture's registration too: the aarch64 tree does not
# run then, but launch says what it registered.
bytes() { printf '%b' "$1" | od -An -tx1 | tr -d ' \n'; }
for a in armv7:arm armhf:arm riscv64:riscv64 ppc64le:ppc64le s390x:s390x loongarch64:loongarch64; do
        q=${a#*:} a=${a%%:*}
        if [ ! -f "/usr/share/binfmts/qemu-$q" ] || [ ! -x "/usr/bin/qemu-$q-static" ]; then
                skip "$a: Debian's magic and mask" "no qemu-$q in qemu-user-static here"
                continue
        fi
        run_cmd launch --store "$STORE" --explain --arch "$a" --rootfs "$TEST_TMP/aarch64" true
        IFS=: read -r _ name _ _ magic mask interp _ <<<"$(sed -n 's/^explain: write("register", "\([^"]*\)").*/\1/p' <<<"$err")"
        is "$name $(bytes "$magic") $(bytes "$mask") $interp" \
                "qemu-$q $(bytes "$(awk '$1 == "magic" { print $2 }' "/usr/share/binfmts/qemu-$q")") $(bytes "$(awk '$1 == "mask" { print $2 }' "/usr/share/binfmts/qemu-$q")") /usr/bin/qemu-$q-static" \
                "$a: Debian's magic and mask, qemu-$q-static"
done
run_cmd launch --store "$STORE" --arch aarch64 --rootfs "$TEST_TMP/aarch64" sh -c \
        "sed -n 1,2p $BM/qemu-aarch64; echo -1 >$BM/qemu-aarch64 || echo refused"
is "$out" "$(printf 'enabled\ninterpreter /usr/bin/qemu-aarch64-static\nrefused')" \
        "the container sees its own registration, read-only"

# Images: pulled for another architecture, found by its reference.
run_cmd launch --store "$STORE" --mirror "$MIRROR" -q --arch linux/arm64 alpine:3.20 uname -m
is "$rc:$out" 0:aarch64 "--arch linux/arm64: pulls, unpacks and runs Alpine's aarch64 image"
run_cmd launch --store "$STORE" --offline alpine:3.20 uname -m
is "$rc:$out" 0:aarch64 "without --arch, the image stored for aarch64 only runs"
is "$err" "launch: alpine:3.20 is stored for aarch64, not for this host's x86_64: running that one (launch --arch x86_64 alpine:3.20 pulls the host's)" \
        "... saying so in one line"
run_cmd launch --store "$STORE" --mirror "$MIRROR" -q --platform linux/arm/v7 alpine:3.20 sh -c 'uname -m; apk --version'
is "$rc:$(sed -n 1p <<<"$out")" 0:armv7l "--platform linux/arm/v7: Alpine's armv7 image"
like "$(sed -n 2p <<<"$out")" "compiled for armv7" "... apk --version runs inside"
run_cmd launch --store "$STORE" --offline alpine:3.20 true
is "$rc:$(grep -c . <<<"$err")" 125:1 "stored for two other architectures: 125, one line"
like "$err" "for aarch64, armv7: choose one with --arch" "... naming them"

# The host's own architecture: no binfmt_misc, no user namespace for root.
NS=$TEST_TMP/nstore
mkdir -p "$NS"
make_rootfs "$TEST_TMP/fixture" || skip_all "cannot build the fixture rootfs"
run_cmd launch --store "$NS" --mirror "$MIRROR" -q --explain --platform linux/amd64 alpine:3.20 uname -m
is "$rc:$out" 0:x86_64 "--platform linux/amd64: the host's own image, x86_64"
is "$(grep -ciE 'binfmt|qemu|CLONE_NEWUSER' <<<"$err")" 0 "... with no binfmt_misc, qemu or user namespace"
run_cmd launch --store "$NS" --explain --rootfs "$TEST_TMP/fixture" true
is "$rc:$(grep -ciE 'binfmt|qemu|CLONE_NEWUSER' <<<"$err")" 0:0 "a --rootfs tree of the host's: the same"

# The spellings, and what is refused.
for p in aarch64 linux/arm64/v8; do
        run_cmd launch --store "$STORE" --offline --arch "$p" alpine:3.20 uname -m
        is "$rc:$out" 0:aarch64 "--arch $p"
done
for p in armv7 linux/arm/v7; do
        run_cmd launch --store "$STORE" --offline --platform "$p" alpine:3.20 uname -m
        is "$rc:$out" 0:armv7l "--platform $p"
done
for p in linux/mips sparc linux/arm/v9 ../x; do
        run_cmd launch --store "$STORE" --offline --platform "$p" alpine:3.20 true
        is "$rc:$(grep -c . <<<"$err")" 125:1 "a bad platform ($p): 125, one line"
done
like "$err" "^launch: --arch '../x': not an architecture Alpine builds for" "... saying what is taken"

# qemu-user-static missing: one line naming the package, 125.
mkdir -p "$TEST_TMP/noqemu"
run_cmd env ROOST_QEMU_DIR="$TEST_TMP/noqemu" launch --store "$STORE" --offline --arch aarch64 alpine:3.20 true
is "$rc:$(grep -c . <<<"$err")" 125:1 "the interpreter missing: 125, one line"
like "$err" "qemu-aarch64-static, not found in .*noqemu: install the package qemu-user-static" "... naming the package"

# Rootless: the test user's own trees and store.
if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        # The user's own: a rootless unpack leaves its trees so.
        UT=$TEST_TMP/u US=$TEST_TMP/u/store
        mkdir -p "$US" && chown "$TEST_USER" "$UT" "$US"
        for a in aarch64 armv7; do
                as_test_user unpack -q "$REL/$a/alpine-minirootfs-3.20.3-$a.tar.gz" "$UT/$a"
                run_cmd as_test_user launch --store "$US" -q --rootfs "$UT/$a" sh -c \
                        'uname -m; apk --version; echo w >/etc/w && cat /etc/w'
                want=$a
                [ "$a" = armv7 ] && want=armv7l
                is "$rc:$(sed -n 1p <<<"$out")" "0:$want" "rootless: an $a tree runs, uname -m $want"
                like "$(sed -n 2p <<<"$out")" "compiled for $a" "... apk --version runs inside"
                is "$(sed -n 3p <<<"$out")" w "... its overlay is writable"
        done
else
        skip "rootless aarch64 and armv7" "the test user cannot make a user namespace"
fi

is "$(host_entries)" "$before" "nothing was registered with the host's binfmt_misc ($before)"

# A kernel before 6.7, forced: root registers with the host's binfmt_misc,
# once, in one line; the test removes what launch registered, and only that.
if [ -e "$BM/qemu-aarch64" ]; then
        skip "the host's registration, before 6.7" "the host has qemu-aarch64 registered already"
else
        tap_at_exit "[ -e $BM/qemu-aarch64 ] && echo -1 >$BM/qemu-aarch64"
        run_cmd env ROOST_LAUNCH_NO_BINFMT_NS=1 launch --store "$STORE" --offline --arch aarch64 alpine:3.20 \
                readlink /proc/self/ns/user
        is "$rc" 0 "before 6.7, as root: the aarch64 image runs"
        is "$out" "$(readlink /proc/self/ns/user)" "... in no user namespace of its own"
        is "$(grep -c . <<<"$err")" 1 "... saying in one line"
        like "$err" "registered qemu-aarch64 with the host's binfmt_misc .*echo -1 > $BM/qemu-aarch64 removes it" \
                "... that it registered qemu-aarch64 with the host's, and how to remove it"
        like "$(cat "$BM/qemu-aarch64" 2>/dev/null | tr '\n' ' ')" "^enabled interpreter /usr/bin/qemu-aarch64-static flags: [OP]*F" \
                "... which is there, with F"
        run_cmd env ROOST_LAUNCH_NO_BINFMT_NS=1 launch --store "$STORE" --offline --arch aarch64 alpine:3.20 uname -m
        is "$rc:$out:$err" "0:aarch64:" "... the next launch uses it, silently"
        if [ -n "${US:-}" ]; then
                run_cmd as_test_user env ROOST_LAUNCH_NO_BINFMT_NS=1 launch --store "$US" -q \
                        --rootfs "$UT/aarch64" uname -m
                is "$rc:$out" 0:aarch64 "before 6.7, rootless: the host's registration serves"
        fi
        echo -1 >"$BM/qemu-aarch64"
        [ ! -e "$BM/qemu-aarch64" ]; ok $? "... and the test removed it"
        if [ -n "${US:-}" ]; then
                run_cmd as_test_user env ROOST_LAUNCH_NO_BINFMT_NS=1 launch --store "$US" \
                        --rootfs "$UT/aarch64" uname -m
                is "$rc:$(grep -vc 'tree is aarch64' <<<"$err")" 125:1 \
                        "before 6.7, rootless, none registered: 125, one line"
                like "$err" "without root only the host can do that on this kernel" "... saying why and what to do"
        fi
fi
is "$(host_entries)" "$before" "the host's binfmt_misc is as it was"
tap_done
