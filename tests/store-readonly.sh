#!/bin/bash
# A store on a read-only medium (a USB stick, an NFS export, a CI cache
# mounted read-only) serves reads: images, verify, export, unpack --to and
# launch of an unpacked image work; the commands that must write say so in
# one line and change nothing.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

S=$TEST_TMP/store RO=$TEST_TMP/ro
ARCH=$(uname -m); [ "$ARCH" = x86_64 ] || ARCH=aarch64
fixture_tarball "$TEST_TMP/rootfs.tar.gz" gz 3.99.1 && fixture_tarball "$TEST_TMP/other.tar.gz" gz 3.99.2 ||
        skip_all "cannot build the fixture rootfs"
store-put put "$S" "$TEST_TMP/rootfs.tar.gz" alpine 3.99 "$ARCH" 3.99.1 >/dev/null &&
        store-put put "$S" "$TEST_TMP/other.tar.gz" other 1 "$ARCH" 3.99.2 >/dev/null &&
        unpack --store "$S" -q alpine:3.99
ok $? "a store with an unpacked image"

# The same store, read-only, as a medium mounted so would be.
mkdir -p "$RO"
mount --bind "$S" "$RO" && mount -o remount,bind,ro "$RO" || skip_all "cannot make a read-only bind mount"
tap_at_exit 'umount "$RO" 2>/dev/null'
before=$(cd "$S" && find . -printf '%p %s %T@\n' | LC_ALL=C sort | sha256sum)

run_cmd roost images -q --store "$RO"
is "$rc:$(echo $out)" "0:alpine:3.99 other:1" "images lists a read-only store"
run_cmd roost verify --store "$RO" alpine:3.99
is "$rc" 0 "verify checks a read-only store: $err"
like "$out" "tree ok" "... its unpacked tree too"
run_cmd roost export --store "$RO" alpine:3.99 "$TEST_TMP/img.tar"
is "$rc" 0 "export reads a read-only store: $err"
run_cmd unpack --store "$RO" -q alpine:3.99 --to "$TEST_TMP/out"
is "$rc:$(cat "$TEST_TMP/out/etc/alpine-release" 2>/dev/null)" 0:3.99.1 "unpack --to extracts from a read-only store: $err"
run_cmd unpack --store "$RO" alpine:3.99
is "$rc" 0 "unpack of an image already unpacked there has nothing to write"
run_cmd launch --store "$RO" --offline alpine:3.99 cat /etc/alpine-release
is "$rc:$out" 0:3.99.1 "launch runs an unpacked image from a read-only store: $err"
run_cmd launch --store "$RO" --offline alpine:3.99 sh -c 'echo x >/etc/new && cat /etc/new'
is "$out" x "... with its writable layer elsewhere"

for cmd in "roost rm --store $RO alpine:3.99" "roost gc --store $RO" "roost import --store $RO $TEST_TMP/img.tar" \
        "unpack --store $RO other:1" "pull --store $RO --mirror file://$TEST_TMP/nomirror alpine:3.98"; do
        run_cmd $cmd
        ok $((rc == 0)) "${cmd%% --store*} ${cmd##* }: refused on a read-only store (exit $rc)"
        is "$(wc -l <<<"$err")" 1 "... in one line"
        like "$err" "read-only" "... saying the store is read-only: $err"
done
run_cmd launch --store "$RO" --offline --name kept alpine:3.99 true
is "$rc" 125 "launch --name: refused, its layer would live in the store"
like "$err" "^launch: .*read-only" "... saying why: $err"
is "$(cd "$S" && find . -printf '%p %s %T@\n' | LC_ALL=C sort | sha256sum)" "$before" "the store is unchanged"
tap_done
