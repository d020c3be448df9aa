#!/bin/bash
# Hostile archives (tests/unpack-hostile.py): each is unpacked next to a
# canary directory that must come out unchanged, contents, modes and times;
# a refused archive must exit 7 with one line naming the entry, and leave no
# target and no temporary behind. Run as root, then as an unprivileged user.
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
                        esac
                fi
        done <"$base/archives/cases"
}

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

if ! ensure_test_user; then
        skip "unprivileged battery" "the test user $TEST_USER cannot be created"
elif ! as_test_user test -x "$(command -v unpack)"; then
        skip "unprivileged battery" "$TEST_USER cannot run the build tree's unpack (a directory above it is not readable)"
else
        battery user as_test_user
fi
tap_done
