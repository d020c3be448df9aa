#!/bin/bash
# Faithful: unpack makes exactly the tree GNU tar makes as root (types,
# modes with setuid/setgid/sticky, numeric owners, symlink targets, hardlinks
# sharing an inode, nanosecond mtimes, device numbers, contents, extended
# attributes and file capabilities), on a fixture built here and on Alpine's
# real minirootfs when the mirror is present: into the store, and into a
# directory when asked (--keep-devices --keep-setid); without them the same
# tree less its device nodes, set-id bits and file capability. As an
# unprivileged user the same tree comes out owned by the caller, without
# device nodes (skipped with a warning) and without privileged attributes.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

T=$TEST_TMP
# listing DIR [noowner]: everything tar is meant to restore, one line each.
listing() {
        (
                cd "$1" || exit 1
                if [ "${2:-}" = noowner ]; then
                        find . -printf '%y %m %s %T@ %l %p\n'
                else
                        find . -printf '%y %m %u %g %s %T@ %l %p\n'
                fi | sort
                find . \( -type c -o -type b \) -exec stat -c '%n %t:%T' {} + | sort
                find . -type f -exec sha256sum {} + | sort
        )
}
# hardlink groups: the sets of names that share an inode.
links() {
        (cd "$1" && find . -type f -links +1 -printf '%i %p\n' | sort -k2 |
                awk '{g[$1] = g[$1] " " $2} END {for (i in g) print g[i]}' | sort)
}
xattrs() { (cd "$1" && getfattr -h -R -d -m - --absolute-names . 2>/dev/null | grep -v '^$' ); }
xattrs_user() { (cd "$1" && getfattr -h -R -d -m '^user\.' --absolute-names . 2>/dev/null | grep -v '^$' ); }

# compare LABEL REF OUT: the full comparison, as root.
compare() {
        like "$(listing "$2" | head -3)" "^d " "$1: the reference listing is not empty"
        is "$(listing "$3")" "$(listing "$2")" "$1: types, modes, owners, sizes, mtimes, link targets, devices, contents"
        is "$(links "$3")" "$(links "$2")" "$1: hardlinks share inodes as tar's do"
        is "$(xattrs "$3")" "$(xattrs "$2")" "$1: extended attributes and capabilities"
}

# The fixture: busybox rootfs plus what a faithful unpack must keep.
R=$T/rootfs
make_rootfs "$R" 3.20.3 || skip_all "cannot build the fixture rootfs"
mknod "$R/dev/null" c 1 3 && mknod "$R/dev/sda" b 8 0 && mkfifo "$R/run/fifo" ||
        skip_all "cannot make device nodes here"
chmod 666 "$R/dev/null"
mkdir -p "$R/var/mail" "$R/ro/inner"
echo inner >"$R/ro/inner/file"
chmod 2775 "$R/var/mail" && chown 0:8 "$R/var/mail"
chmod 555 "$R/ro/inner" "$R/ro"
echo secret >"$R/etc/shadow" && chmod 640 "$R/etc/shadow" && chown 0:42 "$R/etc/shadow"
echo guest >"$R/home/guest-file" && chown 1234:5678 "$R/home/guest-file"
ln -s /nowhere "$R/home/dangling" && chown -h 1234:5678 "$R/home/dangling"
printf 'x' >"$R/etc/zero-mode" && chmod 000 "$R/etc/zero-mode"
cp "$R/bin/busybox" "$R/bin/ping"
have_caps=no
setcap cap_net_raw+ep "$R/bin/ping" 2>/dev/null && have_caps=yes
have_xattr=no
setfattr -n user.roost -v hello "$R/etc/hosts" 2>/dev/null && have_xattr=yes
# Names that are not UTF-8, long names and link targets (pax records), a
# sparse file.
touch "$R/home/"$'\xff\xfe' "$R/home/caf"$'\xc3\xa9'
long=$R/usr/share/$(printf 'd%.0s' {1..120})/$(printf 'e%.0s' {1..120})
mkdir -p "$long" && echo deep >"$long/file"
ln -s "${long#$R}/file" "$R/usr/share/long-link"
truncate -s 3M "$R/var/sparse" && echo tail >>"$R/var/sparse"
touch -h -d '2023-05-06 07:08:09.123456789' "$R/etc/hosts" "$R/home/dangling" "$R/ro/inner" "$R/ro" "$R"
tar -C "$R" --format=pax --sparse --xattrs --xattrs-include='*' --numeric-owner -czf "$T/fixture.tar.gz" .
tap_diag "file capabilities: $have_caps, user xattrs: $have_xattr"

mkdir "$T/ref"
tar -C "$T/ref" --xattrs --xattrs-include='*' --numeric-owner -xpzf "$T/fixture.tar.gz"
run_cmd unpack -q --keep-devices --keep-setid "$T/fixture.tar.gz" "$T/out"
is "$rc" 0 "fixture: unpacks as root"
is "$err" "" "fixture: no warning as root"
compare fixture "$T/ref" "$T/out"
if [ $have_caps = yes ]; then
        like "$(getcap "$T/out/bin/ping")" "cap_net_raw[=+]ep" "fixture: the file capability is restored"
        like "$(xattrs "$T/ref")" "security.capability" "fixture: the xattr comparison sees capabilities"
else
        skip "fixture: file capability" "setcap unavailable here"
fi
if [ $have_xattr = yes ]; then
        is "$(getfattr -n user.roost --only-values "$T/out/etc/hosts" 2>/dev/null)" hello "fixture: the user xattr is restored"
else
        skip "fixture: user xattr" "the file system takes no user xattrs"
fi
is "$(stat -c %a "$T/out/usr/bin/suid-probe")" 4755 "fixture: setuid kept"
is "$(stat -c '%F %t:%T' "$T/out/dev/sda")" "block special file 8:0" "fixture: block device with its numbers"
check "fixture: the sparse file stays sparse" test "$(du -k "$T/out/var/sparse" | cut -f1)" -lt 1024

# By default a directory of the user's choice gets the same tree less what
# would hand another user root's privileges.
run_cmd unpack -q "$T/fixture.tar.gz" "$T/plain"
is "$rc" 0 "fixture, no --keep-*: unpacks"
plain() { grep -av '^[cb] \|^\./dev/\(null\|sda\) ' | sed 's/^f 4755 /f 755 /' | sort; }
is "$(listing "$T/plain" | sort)" "$(listing "$T/ref" | plain)" \
        "fixture, no --keep-*: the same tree without devices and setuid bit (a directory keeps its setgid)"
# getfattr's listing without the capability (and the header of a file left
# with no attribute).
nocap() { awk '/^# file: /{h = $0; next} /^security\.capability=/{next} {if (h != "") print h; h = ""; print}'; }
if [ $have_caps = yes ]; then
        is "$(xattrs "$T/plain")" "$(xattrs "$T/ref" | nocap)" \
                "fixture, no --keep-*: the same attributes but the file capability"
        caps=", 1 file capability"
else
        skip "fixture, no --keep-*: file capability" "setcap unavailable here"
        caps=
fi
like "$err" "^unpack: warning: .*: not restored outside the store: 2 device nodes, the setuid/setgid bits of 1 file$caps \(" \
        "fixture, no --keep-*: one warning counts what was left out"

# Through the store, the same tree.
S=$T/store
sha=$(store-put put "$S" "$T/fixture.tar.gz" alpine 3.20 x86_64 3.20)
unpack -q --store "$S" --arch x86_64 alpine:3.20
compare "fixture via the store" "$T/ref" "$S/trees/$sha/rootfs"

if have_alpine_mirror; then
        A=$ALPINE_MIRROR_DIR/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz
        mkdir "$T/aref"
        tar -C "$T/aref" --xattrs --xattrs-include='*' --numeric-owner -xpzf "$A"
        run_cmd unpack -q "$A" "$T/aout"
        is "$rc" 0 "Alpine minirootfs: unpacks"
        is "$err" "" "Alpine minirootfs: no device node or set-id file, so nothing left out"
        compare "Alpine minirootfs" "$T/aref" "$T/aout"
        is "$(stat -c '%a %u:%g' "$T/aout/etc/shadow")" "640 0:42" "Alpine minirootfs: /etc/shadow keeps its group and mode"
        for comp in xz zst bz2; do
                gzip -dc "$A" | case $comp in xz) xz -T1 -0 ;; zst) zstd -q -1 ;; bz2) bzip2 -1 ;; esac >"$T/alpine.$comp"
                unpack -q "$T/alpine.$comp" "$T/aout-$comp"
                is "$(listing "$T/aout-$comp")" "$(listing "$T/aref")" "Alpine minirootfs as $comp: the same tree"
        done
else
        skip "Alpine minirootfs" "the mirror is absent ($ALPINE_MIRROR_DIR)"
fi

# Unprivileged: owners become the caller, device nodes are skipped with a
# warning, everything else is kept.
if ! ensure_test_user; then
        skip "unprivileged fidelity" "the test user $TEST_USER cannot be created"
elif ! as_test_user test -x "$(command -v unpack)"; then
        skip "unprivileged fidelity" "$TEST_USER cannot run the build tree's unpack (a directory above it is not readable)"
else
        U=$T/user
        mkdir "$U"
        chown "$TEST_USER" "$U"
        run_cmd as_test_user unpack -q --keep-devices --keep-setid "$T/fixture.tar.gz" "$U/out"
        is "$rc" 0 "unprivileged: the fixture unpacks"
        like "$err" "dev/null': device node skipped" "unprivileged: a warning names the skipped device"
        is "$(printf '%s\n' "$err" | grep -c 'device node skipped')" 2 "unprivileged: both devices, and only them, skipped"
        strip() { grep -v '^[cb] \|^\./dev/\(null\|sda\) '; }
        is "$(listing "$U/out" noowner | strip)" "$(listing "$T/ref" noowner | strip)" \
                "unprivileged: the same tree without devices (modes incl. setuid, times, links, contents)"
        is "$(links "$U/out")" "$(links "$T/ref")" "unprivileged: hardlinks kept"
        uid=$(id -u "$TEST_USER")
        is "$(find "$U/out" ! -uid "$uid" | wc -l)" 0 "unprivileged: everything belongs to the caller"
        if [ $have_xattr = yes ]; then
                is "$(xattrs_user "$U/out")" "$(xattrs_user "$T/ref")" "unprivileged: user xattrs restored"
        else
                skip "unprivileged: user xattrs" "the file system takes no user xattrs"
        fi
        US=$U/store
        as_test_user store-put put "$US" "$T/fixture.tar.gz" alpine 3.20 x86_64 3.20 >/dev/null
        run_cmd as_test_user unpack --store "$US" --arch x86_64 alpine:3.20
        is "$rc" 0 "unprivileged: unpacks into its own store"
        # A directory of mode 000: its owner cannot list it, and the tree's
        # manifest leaves its contents out rather than failing the tree.
        python3 - "$U/secret.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("secret/"); d.type = tarfile.DIRTYPE; d.mode = 0
    f = tarfile.TarInfo("secret/key"); f.size = 3; f.mode = 0o600
    t.addfile(f, io.BytesIO(b"key")); t.addfile(d)
PY
        chown "$TEST_USER" "$U/secret.tar"
        as_test_user store-put put "$US" "$U/secret.tar" secret 1 x86_64 1 >/dev/null
        run_cmd as_test_user unpack --store "$US" --arch x86_64 secret:1
        is "$rc" 0 "unprivileged: a tree with a mode-000 directory unpacks into the store"
        run_cmd as_test_user roost verify --store "$US" --arch x86_64 secret:1
        is "$rc" 0 "... and verifies"
        if have_alpine_mirror; then
                run_cmd as_test_user unpack -q "$A" "$U/aout"
                is "$rc" 0 "unprivileged: the Alpine minirootfs unpacks"
                is "$(listing "$U/aout" noowner)" "$(listing "$T/aref" noowner)" "unprivileged: the same Alpine tree"
        fi
fi

# A directory named twice: the last entry's mode wins, the root's too.
python3 - "$T/twice.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for name, mode in (("./", 0o700), ("d/", 0o700), ("d/x", 0o644), ("d/", 0o751), ("./", 0o755)):
        ti = tarfile.TarInfo(name); ti.mode = mode; ti.mtime = 1700000000
        if name.endswith("/"):
            ti.type = tarfile.DIRTYPE; t.addfile(ti)
        else:
            ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))
PY
run_cmd unpack -q "$T/twice.tar" "$T/twice"
is "$rc:$(stat -c %a "$T/twice" "$T/twice/d" 2>/dev/null | tr '\n' ' ')" "0:755 751 " "a directory named twice takes the last entry's mode"
tap_done
