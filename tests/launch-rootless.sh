#!/bin/bash
# launch without root: a user namespace mapping the caller to root inside,
# the same isolation otherwise. Run as the unprivileged test user.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_rootless

ROOTFS=$TEST_TMP/rootfs
STORE=$TEST_TMP/ustore
PROBE=$ROOST_BUILDDIR/tests/probe/probe
make_rootfs "$ROOTFS" 3.99.0 || skip_all "cannot build the fixture rootfs"
printf 'toor:x:0:0:toor:/toorhome:/bin/sh\nroostbox:x:4242:4242::/:/bin/sh\n' >>"$ROOTFS/etc/passwd"
# A rootless tree is owned by its user (as a rootless unpack leaves it):
# files of unmapped owners could be read but never copied up.
chown -R "$TEST_USER:" "$ROOTFS"
mkdir -p "$STORE" && chown "$TEST_USER" "$STORE"
UL() { as_test_user launch --store "$STORE" --rootfs "$ROOTFS" "$@"; }

run_cmd UL sh -c 'id -u; cat /proc/self/uid_map | tr -s " "; echo $$; hostname'
is "$rc" 0 "an unprivileged user can launch"
is "$(sed -n 1p <<<"$out")" 0 "the caller is root inside"
is "$(sed -n 2p <<<"$out")" " 0 $(id -u "$TEST_USER") 1" "... and only the caller is mapped"
like "$err" "^launch: .*mapping only uid" "... and launch says so, on one line"
is "$(sed -n 3p <<<"$out")" 2 "its own PID namespace"
is "$(sed -n 4p <<<"$out")" roost "its own hostname"
# The range it suggests is free: no entry of /etc/subuid or /etc/subgid
# overlaps it.
range=$(sed -n 's/.*--add-subuids \([0-9]*\)-\([0-9]*\) .*/\1 \2/p' <<<"$err")
read -r lo hi <<<"$range"
[ -n "$lo" ] && awk -F: -v lo="$lo" -v hi="$hi" 'NF >= 3 && $2 <= hi && lo < $2 + $3 { bad = 1 } END { exit bad }' \
        /etc/subuid /etc/subgid 2>/dev/null
ok $? "... suggesting a range nobody has ($range)"
run_cmd UL true
is "$err" "" "... once per store: the next launch says nothing"
mkdir -p "$STORE-q" && chown "$TEST_USER" "$STORE-q"
run_cmd as_test_user launch --store "$STORE-q" --rootfs "$ROOTFS" -q true
is "$rc:$err" "0:" "-q keeps that note quiet, even in a new store"
run_cmd UL sh -c 'echo x >/etc/new && cat /etc/new'
is "$out" x "the overlay is writable without root"
[ ! -e "$ROOTFS/etc/new" ]; ok $? "... and the tree is not written"
touch "$TEST_TMP/marker"
run_cmd UL --privileged -v "$PROBE:/probe:ro" /probe escape "$TEST_TMP/marker"
is "$out" inside "the chroot escape stays inside without root too"
run_cmd UL -v "$PROBE:/probe:ro" /probe fds
is "$(echo $out)" "0 1 2" "only fds 0, 1 and 2 inside"
run_cmd UL sh -c 'ls /dev | tr "\n" " "; cat /dev/null; echo ok'
like "$out" "null" "/dev has its devices (bound from the host)"
run_cmd UL --net host sh -c 'ls /sys/class/net | wc -l'
is "$out" "$(ls /sys/class/net | wc -l)" "--net host works without root (host /sys bound read-only)"
run_cmd UL stat -f -c '%b %S' /
read -r blocks bsize <<<"$out"
mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
((blocks * bsize / 1024 <= 1048576 && blocks * bsize / 1024 <= mem_kib / 4)); ok $? "the layer is bounded without root too ($((blocks * bsize / 1024)) KiB)"
run_cmd UL --layer-size 4m sh -c 'dd if=/dev/zero of=/big bs=1M count=8 2>&1; exit 3'
is "$rc" 3 "--layer-size 4m without root: the command's status"
like "$out" "No space left on device" "... and a write past it fails with ENOSPC"
run_cmd UL sh -c 'exit 42'
is "$rc" 42 "the exit status passes through"
run_cmd UL -u 1000 true
is "$rc" 125 "a user that is not mapped: 125"
like "$err" "not mapped in the user namespace" "... saying why"
# -u NAME reads the image's /etc/passwd without root too: toor is 0 there,
# and no user of the host.
run_cmd UL -u toor sh -c 'id -u; echo $HOME'
is "$rc:$(echo $out)" "0:0 /toorhome" "-u NAME without root: the image's entry, its HOME"
run_cmd UL -q -u nosuch true
is "$rc:$err" "125:launch: user nosuch: no such user in the image's /etc/passwd" "... an unknown name: 125, one line"
run_cmd UL -q -u roostbox id -u
if [ "$(wc -l <<<"$(UL -q cat /proc/self/uid_map)")" -gt 1 ]; then
        is "$rc:$out" "0:4242" "-u NAME for a mapped uid runs as the image's uid"
else
        is "$rc" 125 "-u NAME for a uid not mapped: 125"
        like "$err" "^launch: (group|user) 4242: .*not mapped in the user namespace" "... the image's uid, saying it is not mapped"
fi
mkdir -p "$TEST_TMP/uvol" && chown "$TEST_USER" "$TEST_TMP/uvol"
run_cmd UL --read-only -v "$TEST_TMP/uvol:/newmount" -w /newdir sh -c 'pwd; touch /newmount/x && echo vol; touch /y 2>/dev/null || echo ro'
is "$rc:$(echo $out)" "0:/newdir vol ro" "--read-only with a new mount point and -w DIR works without root"
[ ! -e "$ROOTFS/newmount" ] && [ ! -e "$ROOTFS/newdir" ]; ok $? "... and the tree is not written"
# A user /etc/passwd does not know (LDAP, sssd): launch asks getent in a
# process of its own, never NSS in its own (it is linked statically, and
# the host's NSS modules crash a static program), and without $HOME it
# says where the store cannot be.
stranger=$(awk -F: '{ u[$3] = 1 } END { for (i = 4242; u[i]; i++); print i }' /etc/passwd)
chown -R "$stranger:$stranger" "$ROOTFS" && mkdir -p "$TEST_TMP/sstore" && chown "$stranger" "$TEST_TMP/sstore"
run_cmd setpriv --reuid="$stranger" --regid="$stranger" --clear-groups \
        launch --store "$TEST_TMP/sstore" --rootfs "$ROOTFS" id -u
is "$rc:$out" "0:0" "a uid missing from /etc/passwd can launch"
run_cmd setpriv --reuid="$stranger" --regid="$stranger" --clear-groups env -u HOME -u XDG_DATA_HOME -u ROOST_STORE \
        launch --rootfs "$ROOTFS" true
is "$rc" 125 "... and without \$HOME and a store: 125"
like "$err" "^launch: finding the store" "... saying so"
chown -R "$TEST_USER:" "$ROOTFS"

run_cmd UL --name mine sh -c 'echo kept >/note'
run_cmd UL --name mine cat /note
is "$out" kept "--name works without root"
is "$(ls "$STORE/tmp" | wc -l)" 0 "nothing left in the store's tmp"
tap_done
