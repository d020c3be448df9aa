#!/bin/bash
# docker's habits in launch: -u NAME[:GROUP] read from the image's own
# /etc/passwd and /etc/group (never the host's, never through a symlink out
# of the tree), HOME and supplementary groups from them, -w DIR made when
# the image lacks it, and --read-only with volumes and -w on mount points
# the tree lacks, without writing the stored tree.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

launch_fixture
# The image's users differ from the host's: names the host does not have,
# and a nobody and a nogroup at other ids than Debian's 65534. Garbage
# lines on the way must be stepped over, not misread.
long=$(head -c 9000 /dev/zero | tr '\0' x)
# A line longer than launch reads at once, whose tail looks like an entry.
tail=$(head -c 4096 /dev/zero | tr '\0' z)tail:x:4401:4401::/:/bin/sh
cat >"$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
# not an entry
garbage without any colon
short:x:12
badid:x:notanumber:1::/:/bin/sh
huge:x:99999999999999999999:1::/:/bin/sh
neg:x:-5:1::/:/bin/sh
minusone:x:4294967295:4294967295::/:/bin/sh
${long}:x:7:7::/:/bin/sh
${tail}
nobody:x:4246:4247:nobody:/:/sbin/nologin
roostbox:x:4242:4343:box user:/home/box:/bin/sh
nohome:x:4244:4244
EOF
cat >"$ROOTFS/etc/group" <<EOF
root:x:0:root
garbage
wheel:x:10:root
nogroup:x:4247:
boxgrp:x:4343:
tools:x:4250:other,roostbox
staff:x:4251:roostbox
huge:x:99999999999999999999:roostbox
EOF
tree_hash() {
        (cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
                find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum
}
tree_before=$(tree_hash "$ROOTFS")
! getent passwd roostbox >/dev/null && ! getent passwd 4242 >/dev/null
ok $? "the host has no user roostbox nor uid 4242 (the ids below can only come from the image)"

# ---- -u NAME[:GROUP] through the image's files
ids='echo $(id -u) $(id -g) / $(id -G) / $HOME'
run_cmd L -u roostbox sh -c "$ids"
is "$rc:$out" "0:4242 4343 / 4343 4250 4251 / /home/box" \
        "-u NAME: uid, gid, member groups and HOME from the image's /etc/passwd and /etc/group"
run_cmd L -u nobody sh -c "$ids"
is "$out" "4246 4247 / 4247 / /" "-u nobody: the image's nobody, not the host's"
run_cmd L -u nobody:nogroup sh -c "$ids"
is "$out" "4246 4247 / 4247 / /" "-u nobody:nogroup: the image's group too"
run_cmd L -u roostbox:tools sh -c "$ids"
is "$out" "4242 4250 / 4250 / /home/box" "-u NAME:GROUP: that group only, as docker does"
run_cmd L -u 1000:wheel sh -c "$ids"
is "$out" "1000 10 / 10 / /" "-u UID:GROUP: a numeric user with a named group"
run_cmd L -u 4242 sh -c "$ids"
is "$out" "4242 4343 / 4343 4250 4251 / /home/box" "-u UID the image knows: its group and HOME"
run_cmd L -u 5000 sh -c "$ids"
is "$out" "5000 5000 / 5000 / /" "-u UID the image does not know: GID the same, HOME /"
run_cmd L -u 4242:77 sh -c "$ids"
is "$out" "4242 77 / 77 / /home/box" "-u UID:GID: both numbers"
run_cmd L -u nohome sh -c "$ids"
is "$out" "4244 4244 / 4244 / /" "an entry without a home field: HOME /"
run_cmd L -u roostbox -e HOME=/elsewhere sh -c 'echo $HOME'
is "$out" /elsewhere "-e HOME wins over the image's"
run_cmd L sh -c "$ids"
is "$out" "0 0 / 0 10 / /root" "no -u: root, with root's groups and HOME from the image"

run_cmd L -u nosuch true
is "$rc" 125 "an unknown user: 125"
is "$err" "launch: user nosuch: no such user in the image's /etc/passwd" "... and one line naming it"
run_cmd L -u roostbox:nosuch true
is "$rc:$err" "125:launch: group nosuch: no such group in the image's /etc/group" "an unknown group: 125 and one line"
for u in short badid huge neg garbage minusone tail; do
        run_cmd L -u "$u" true
        is "$rc:$err" "125:launch: user $u: no such user in the image's /etc/passwd" "a garbage line is no user: -u $u"
done
run_cmd L -u roostbox:huge true
is "$rc:$err" "125:launch: group huge: no such group in the image's /etc/group" "a group line with an id out of range is no group"

# ---- the image's files, not the host's, whatever their links say
mkdir -p "$TEST_TMP/host"
printf 'hostonly:x:4343:4343::/hostonly:/bin/sh\n' >"$TEST_TMP/host/passwd"
mkdir -p "$TEST_TMP/evil"
cp -a "$ROOTFS/." "$TEST_TMP/evil/"
EL() { launch --store "$STORE" --rootfs "$TEST_TMP/evil" "$@"; }
ln -sf "$TEST_TMP/host/passwd" "$TEST_TMP/evil/etc/passwd"
run_cmd EL -u hostonly true
is "$rc:$err" "125:launch: user hostonly: no such user in the image's /etc/passwd" \
        "an absolute symlink /etc/passwd out of the tree is not followed to the host's file"
ln -sf "../../../../../../../../../..$TEST_TMP/host/passwd" "$TEST_TMP/evil/etc/passwd"
run_cmd EL -u hostonly true
is "$rc:$err" "125:launch: user hostonly: no such user in the image's /etc/passwd" "... nor is a relative one climbing out with .."
ln -sf /etc/passwd "$TEST_TMP/evil/etc/passwd"
run_cmd EL -u daemon true
is "$rc:$err" "125:launch: user daemon: no such user in the image's /etc/passwd" "... and a link to /etc/passwd is the image's own (a loop here), not the host's"
cp "$ROOTFS/etc/passwd" "$TEST_TMP/evil/etc/passwd.real"
ln -sf passwd.real "$TEST_TMP/evil/etc/passwd"
run_cmd EL -u roostbox id -u
is "$rc:$out" "0:4242" "a link that stays in the tree is followed"
rm -f "$TEST_TMP/evil/etc/passwd" && mkfifo "$TEST_TMP/evil/etc/passwd"
run_cmd timeout 20 launch --store "$STORE" --rootfs "$TEST_TMP/evil" -u roostbox true
is "$rc:$err" "125:launch: user roostbox: no such user in the image's /etc/passwd" "a FIFO for /etc/passwd neither hangs nor is read"
rm -f "$TEST_TMP/evil/etc/passwd"
run_cmd EL -v "$TEST_TMP/host/passwd:/etc/passwd:ro" -u hostonly sh -c 'id -u; echo $HOME'
is "$rc:$(echo $out)" "0:4343 /hostonly" "a file bound on /etc/passwd with -v is the container's, and read"
# Through a volume, what /etc/passwd leads to is looked at before it is
# opened: a FIFO there is never opened, so its writer outside stays blocked.
mkfifo "$TEST_TMP/host/fifo"
ln -sf /vol/fifo "$TEST_TMP/evil/etc/passwd"
timeout 10 sh -c "echo 'fifo:x:4300:4300::/:/bin/sh' >'$TEST_TMP/host/fifo'" &
wpid=$!
run_cmd timeout 20 launch --store "$STORE" --rootfs "$TEST_TMP/evil" -v "$TEST_TMP/host:/vol" -u fifo true
is "$rc:$err" "125:launch: user fifo: no such user in the image's /etc/passwd" "a FIFO in a volume for /etc/passwd is no file of users"
wait "$wpid"
is "$?" 124 "... and was never opened (its writer outside stayed blocked)"
ln -sf /dev/zero "$TEST_TMP/evil/etc/passwd"
run_cmd timeout 20 launch --store "$STORE" --rootfs "$TEST_TMP/evil" -u zero true
is "$rc:$err" "125:launch: user zero: no such user in the image's /etc/passwd" "... nor is a device in /dev"
rm -f "$TEST_TMP/evil/etc/passwd"
{
        yes "filler:x:1:1:a line to fill the file up with:/:/bin/sh" | head -n 100000
        echo "late:x:4260:4260::/:/bin/sh"
} >"$TEST_TMP/evil/etc/passwd"
run_cmd timeout 20 launch --store "$STORE" --rootfs "$TEST_TMP/evil" -u late true
is "$rc:$err" "125:launch: user late: no such user in the image's /etc/passwd" "what lies past the read bound of a huge /etc/passwd is not read"

# ---- -w DIR the image lacks is made, as docker makes it: root's, 0755
run_cmd L -w /new/dir sh -c 'pwd; stat -c "%u %g %a" . ..'
is "$rc:$out" "0:$(printf '/new/dir\n0 0 755\n0 0 755')" "-w DIR that does not exist is made (root's, 0755) and entered"
run_cmd bash -c "umask 077; launch --store '$STORE' --rootfs '$ROOTFS' -u nobody -w /wdir/sub sh -c 'pwd; stat -c \"%u %a\" . ..; touch x 2>/dev/null || echo not-writable'"
is "$out" "$(printf '/wdir/sub\n0 755\n0 755\nnot-writable')" "... root's and 0755 for a -u user too, whatever the caller's umask"
run_cmd L -w /etc/alpine-release true
is "$rc:$err" "125:launch: working directory /etc/alpine-release: Not a directory" "-w on a file: 125 and one line"
ln -s /etc "$TEST_TMP/evil/etcl"
run_cmd EL -w /etcl/made true
[ "$rc" = 0 ] && [ ! -e /etc/made ]; ok $? "-w under a symlink to /etc is made in the tree, not on the host"

# ---- --read-only: volumes and -w on paths the tree lacks
mkdir -p "$TEST_TMP/vol"
echo host >"$TEST_TMP/vol/in"
run_cmd L --read-only -v "$TEST_TMP/vol:/newmount" cat /newmount/in
is "$rc:$out" "0:host" "--read-only with a volume on a new mount point runs"
# The root's line of the container's mount table: its options, its type.
root_mount() { awk '$5 == "/" { for (i = 7; $i != "-"; i++); print $6, $(i + 1) }' <<<"$1"; }
run_cmd L --read-only -v "$TEST_TMP/vol:/newmount" -v "$TEST_TMP/vol/in:/a/b/file:ro" \
        sh -c 'touch /x 2>/dev/null && echo root-written; mkdir /newmount/../y 2>/dev/null && echo root-written;
               echo back >/newmount/out && echo volume-written; cat /a/b/file; cat /proc/self/mountinfo'
is "$rc:$(head -2 <<<"$out")" "$(printf '0:volume-written\nhost')" \
        "... the root cannot be written, the volumes work, a file volume too"
like "$(root_mount "$out")" "^ro,nodev[^ ]* overlay$" "... and the root is read-only (a layer made read-only)"
is "$(cat "$TEST_TMP/vol/out" 2>/dev/null)" back "... and the volume took the write"
run_cmd L --read-only -w /newdir sh -c 'pwd; touch x 2>/dev/null || echo read-only'
is "$rc:$out" "$(printf '0:/newdir\nread-only')" "--read-only -w DIR the tree lacks: made, entered, read-only"
run_cmd L --read-only -v "$TEST_TMP/vol:/newmount" -w /newmount/sub sh -c 'pwd'
is "$rc:$out" "0:/newmount/sub" "-w inside a volume is made in the volume, as runc does"
[ -d "$TEST_TMP/vol/sub" ]; ok $? "... where the host sees it"
run_cmd L --read-only cat /proc/self/mountinfo
like "$(root_mount "$out")" "^ro,nodev[^ ]* [^o]" "--read-only with nothing to make is still the tree itself, bound read-only (no layer)"
mkdir -p "$TEST_TMP/rofree"
cp -a "$ROOTFS/." "$TEST_TMP/rofree/"
tap_at_exit 'chattr -i "$TEST_TMP/rofree" 2>/dev/null'
if chattr +i "$TEST_TMP/rofree" 2>/dev/null; then
        run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/rofree" --read-only -v "$TEST_TMP/vol:/m" -w /w true
        chattr -i "$TEST_TMP/rofree"
        is "$rc" 0 "--read-only with new mount points never tries to write the tree (it works on an immutable one)"
else
        skip "--read-only with new mount points works on an immutable tree" "chattr +i is refused here"
fi

# A command that may hold CAP_SYS_ADMIN could remount a bind of the tree
# writable: it gets the layer too, and its writes land in the scratch.
for o in --privileged "--cap-add SYS_ADMIN"; do
        run_cmd L --read-only $o sh -c 'mount -o remount,rw / 2>/dev/null; touch /remounted 2>/dev/null; echo done'
        [ "$rc:$out" = 0:done ] && [ ! -e "$ROOTFS/remounted" ]
        ok $? "--read-only $o: a remount of / never reaches the stored tree"
done

# ---- the stored tree, untouched
for p in new newmount newdir a work remounted; do
        [ ! -e "$ROOTFS/$p" ] || { ok 1 "nothing of /$p is in the tree"; continue; }
        ok 0 "nothing of /$p is in the tree"
done
is "$(tree_hash "$ROOTFS")" "$tree_before" "the stored tree is unchanged, byte for byte"
is "$(ls -A "$STORE/tmp" | wc -l)" 0 "no temporary is left in the store"

tap_done
