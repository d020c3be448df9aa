#!/bin/bash
# Hostile archives (tests/unpack-hostile.py): each is unpacked next to a
# canary directory that must come out unchanged, contents, modes and times;
# a refused archive must exit 7 with one line naming the entry, and leave no
# target and no temporary behind. Run as root, then as an unprivileged user.
# Then privileged files: a directory of the user's choice gets no device
# node, set-id file or overlay attribute from an archive unless asked, and
# the store's private trees keep what a rootfs needs.
. "$ROOST_SRCDIR/tests/lib/tap.sh"

command -v python3 >/dev/null || skip_all "python3 missing (it builds the hostile archives)"

# snapshot DIR: a hash of everything about DIR that an escape could change.
snapshot() {
        (cd "$1" && find . -printf '%y %m %u %g %s %T@ %l %p\n' | sort &&
                find . -type f -exec sha256sum {} + | sort) | sha256sum | cut -d' ' -f1
}

make_canary() { # make_canary DIR
        mkdir -p "$1/sub"
        echo original >"$1/file"
        echo keep >"$1/sub/inner"
        chmod 640 "$1/file"
        ln -s file "$1/link"
        touch -d '2020-01-01' "$1/file" "$1/sub/inner" "$1/sub" "$1"
}

# A file system that takes user.* attributes, for the overlay case's
# control attribute.
user_xattrs=no
touch "$TEST_TMP/xattr-probe"
setfattr -n user.probe -v 1 "$TEST_TMP/xattr-probe" 2>/dev/null && user_xattrs=yes

# fails_as_other CMD...: CMD fails when run as another user than root, who
# unpacked.
fails_as_other() { ! as_test_user "$@" 2>/dev/null; }

# privileged_checks LABEL OUT: what tests/unpack-hostile.py's
# privileged-files case may leave in a directory of the user's choice.
privileged_checks() {
        local label=$1 o=$2 c=privileged-files
        is "$(find "$o" \( -type c -o -type b \) | wc -l)" 0 "$label: $c: no device node"
        is "$(find "$o" ! -type d -perm /6000 | wc -l)" 0 "$label: $c: no setuid or setgid file"
        is "$(stat -c %a "$o/setgid-dir" 2>/dev/null)" 2775 "$label: $c: a directory keeps its setgid bit"
        like "$err" "^unpack: warning: .*privileged-files.tar: not restored outside the store: 2 device nodes, the setuid/setgid bits of 1 file " \
                "$label: $c: one warning counts what was left out"
        is "$(printf '%s\n' "$err" | wc -l)" 1 "$label: $c: one line, not one per entry"
        [ "$label" = root ] || return 0
        if ! id -u "$TEST_USER" >/dev/null 2>&1; then
                skip "$label: $c: what another user can do" "the test user $TEST_USER cannot be created"
                return 0
        fi
        # What the review did after root's unpack: another user opened the
        # kernel log's node for writing and /dev/kvm's, and ran a
        # setuid-root binary as euid 0.
        check "$label: $c: another user cannot open the kernel log's node" \
                fails_as_other sh -c ': >"$1"' sh "$o/kmsg"
        check "$label: $c: another user cannot open /dev/kvm's node" fails_as_other sh -c ': <>"$1"' sh "$o/kvm"
        is "$(as_test_user "$o/id" -u 2>&1)" "$(id -u "$TEST_USER")" \
                "$label: $c: another user runs the setuid-root id as themself"
        is "$(as_test_user "$o/id" -g 2>&1)" "$(id -g "$TEST_USER")" "$label: $c: ... and keeps their own group"
}

# overlay_checks LABEL OUT: no trusted.overlay.* or user.overlay.*
# attribute, on the root, a directory or a file; user.keep is restored.
overlay_checks() {
        local label=$1 o=$2 c=overlay-xattrs
        is "$(getfattr -R -d -m '^(trusted|user)\.overlay\.' --absolute-names "$o" 2>/dev/null)" "" \
                "$label: $c: no overlay attribute restored"
        like "$err" "15 trusted\.\* or user\.overlay\.\* attributes ignored" "$label: $c: a warning counts them"
        if [ $user_xattrs = yes ]; then
                is "$(getfattr -n user.keep --only-values "$o" "$o/d" "$o/f" 2>/dev/null | tr -d '\n')" 111 \
                        "$label: $c: other attributes are still restored"
        else
                skip "$label: $c: other attributes are still restored" "the file system takes no user xattrs"
        fi
}

# battery LABEL RUNNER...: the whole list, unpacking with RUNNER unpack ...
battery() {
        local label=$1; shift
        local base=$TEST_TMP/$label c expect
        mkdir -p "$base/archives"
        make_canary "$base/canary"
        python3 "$ROOST_SRCDIR/tests/unpack-hostile.py" "$base/archives" "$base/canary" ||
                { ok 1 "$label: building the hostile archives"; return; }
        [ "$label" = root ] || chown -R "$TEST_USER" "$base"
        local before
        before=$(snapshot "$base/canary")
        while read -r c expect; do
                rm -rf "$base/t"
                mkdir "$base/t"
                [ "$label" = root ] || chown "$TEST_USER" "$base/t"
                run_cmd "$@" unpack -q "$base/archives/$c.tar" "$base/t/out"
                is "$(snapshot "$base/canary")" "$before" "$label: $c: canary unchanged"
                if [ "$expect" = refuse ]; then
                        is "$rc" 7 "$label: $c: refused with exit 7"
                        like "$err" "^unpack: .*entry '.*': .+" "$label: $c: one line naming the entry"
                        is "$(printf '%s\n' "$err" | wc -l)" 1 "$label: $c: exactly one line"
                        is "$(ls -A "$base/t")" "" "$label: $c: no target and no temporary left"
                else
                        is "$rc" 0 "$label: $c: extracted"
                        case $c in
                        symlink-then-file | symlink-relative-then-file)
                                check "$label: $c: the symlink was replaced by a file" \
                                        test -f "$base/t/out/f" -a ! -L "$base/t/out/f"
                                is "$(cat "$base/t/out/f")" pwned "$label: $c: the file holds the archive's data"
                                ;;
                        hardlink-to-symlink)
                                check "$label: $c: the symlink is still a symlink" test -L "$base/t/out/s"
                                check "$label: $c: the link became a file" test -f "$base/t/out/h" -a ! -L "$base/t/out/h"
                                ;;
                        privileged-files) privileged_checks "$label" "$base/t/out" ;;
                        overlay-xattrs) overlay_checks "$label" "$base/t/out" ;;
                        esac
                fi
        done <"$base/archives/cases"
}

ensure_test_user || true
battery root env

# The store path: a hostile blob leaves no tree and no temporary.
python3 - "$TEST_TMP/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name, data in (("etc/ok", b"ok"), ("../../../escape", b"x")):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
PY
store=$TEST_TMP/store
store-put put "$store" "$TEST_TMP/evil.tar" evil 1 x86_64 1 >/dev/null
run_cmd unpack --store "$store" --arch x86_64 evil:1
is "$rc" 7 "store: a hostile image is refused with exit 7"
like "$err" "^unpack: unpacking evil:1: .*entry '../../../escape': '..' component" "store: the message names the entry"
is "$(ls -A "$store/trees" 2>/dev/null)" "" "store: no tree published"
is "$(ls -A "$store/tmp" 2>/dev/null)" "" "store: no temporary left"

# Asked for, the privileged files are made (where they are out of other
# users' reach is then the caller's business: a 0700 parent).
A=$TEST_TMP/root/archives
run_cmd unpack -q --keep-devices --keep-setid "$A/privileged-files.tar" "$TEST_TMP/kept"
is "$rc:$err" 0: "--keep-devices --keep-setid: extracted, nothing left out"
is "$(stat -c '%F %t:%T' "$TEST_TMP/kept/kmsg" 2>&1)" "character special file 1:b" "--keep-devices: the node is made"
is "$(stat -c %a "$TEST_TMP/kept/id" 2>&1)" 6755 "--keep-setid: the set-id bits are kept"
is "$(getfattr -R -d -m '^(trusted|user)\.overlay\.' --absolute-names "$TEST_TMP/kept" 2>/dev/null)" "" \
        "no option brings overlay attributes back"

# The store keeps everything a rootfs needs (setuid busybox, nodes): no
# other user reaches into it. Overlay attributes stay out there too: launch
# stacks its trees as overlay layers.
priv=$store/trees/$(store-put put "$store" "$A/privileged-files.tar" priv 1 x86_64 1)/rootfs
ovl=$store/trees/$(store-put put "$store" "$A/overlay-xattrs.tar" ovl 1 x86_64 1)/rootfs
run_cmd unpack -q --store "$store" --arch x86_64 priv:1
is "$rc:$err" 0: "store: the privileged files unpack, nothing left out"
is "$(stat -c '%F %t:%T' "$priv/kvm" 2>&1)" "character special file a:e8" "store: the device node is made"
is "$(stat -c %a "$priv/id" 2>&1)" 6755 "store: the set-id bits are kept"
if id -u "$TEST_USER" >/dev/null 2>&1; then
        check "store: another user cannot reach the tree" fails_as_other test -e "$priv/id"
else
        skip "store: another user cannot reach the tree" "the test user $TEST_USER cannot be created"
fi
run_cmd unpack -q --store "$store" --arch x86_64 ovl:1
is "$rc" 0 "store: the overlay attributes' archive unpacks"
is "$(getfattr -R -d -m '^(trusted|user)\.overlay\.' --absolute-names "$ovl" 2>/dev/null)" "" \
        "store: no overlay attribute restored"

if ! ensure_test_user; then
        skip "unprivileged battery" "the test user $TEST_USER cannot be created"
elif ! as_test_user test -x "$(command -v unpack)"; then
        skip "unprivileged battery" "$TEST_USER cannot run the build tree's unpack (a directory above it is not readable)"
else
        battery user as_test_user
fi
tap_done
