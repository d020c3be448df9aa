#!/bin/bash
# The hardening without root, as the unprivileged test user: the same
# capability sets (in the user namespace), no_new_privs, filter and masks;
# devices refused by the kernel without a device cgroup;
# limits refused with one clear line when the user may not make cgroups;
# subordinate id ranges; and Alpine's real tree pulled, unpacked and
# launched by the user.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
require_rootless

ROOTFS=$TEST_TMP/rootfs
STORE=$TEST_TMP/ustore
SPROBE=$TEST_TMP/seccomp-probe
make_rootfs "$ROOTFS" 3.99.0 || skip_all "cannot build the fixture rootfs"
[ -x "$ROOST_BUILDDIR/tests/probe/seccomp-probe" ] || skip_all "tests/probe/seccomp-probe not built"
[ -x "$ROOST_BUILDDIR/tests/probe/probe" ] || skip_all "tests/probe/probe not built"
cp "$ROOST_BUILDDIR/tests/probe/seccomp-probe" "$SPROBE"
PROBE=$TEST_TMP/probe
cp "$ROOST_BUILDDIR/tests/probe/probe" "$PROBE"
chown -R "$TEST_USER:" "$ROOTFS"
mkdir -p "$STORE" && chown "$TEST_USER" "$STORE"
UL() { as_test_user launch --store "$STORE" --rootfs "$ROOTFS" "$@"; }
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"; }

run_cmd UL cat /proc/self/status
is "$rc" 0 "an unprivileged user launches a hardened container"
is "$(field CapBnd "$out")" 00000000a80425fb "rootless: docker's default bounding set"
is "$(field CapEff "$out")" 00000000a80425fb "rootless: the same effective set"
is "$(field NoNewPrivs "$out")" 1 "rootless: no_new_privs"
is "$(field Seccomp "$out")" 2 "rootless: the seccomp filter"

run_cmd UL -v "$SPROBE:/sp:ro" /sp
p=$(sed 's/ /: /' <<<"$out")
for call in mount unshare_user keyctl tiocsti socket_alg io_uring_setup personality_exec_norandom; do
        is "$(field "$call" "$p")" EPERM "rootless: $call is denied"
done
if [ "$(field i386_unshare "$p")" = NOI386 ]; then
        skip "rootless: i386_unshare is denied" "this kernel has no i386 entry point (int 0x80 raises SIGSEGV)"
else
        is "$(field i386_unshare "$p")" EPERM "rootless: i386_unshare is denied"
fi
is "$(field clone3 "$p")" ENOSYS "rootless: clone3 ENOSYS"

run_cmd UL sh -c 'wc -c </proc/keys; ls -A /proc/acpi | wc -l; echo x >/proc/sys/kernel/hostname'
is "$(echo $out)" "0 0" "rootless: /proc/keys and /proc/acpi masked"
like "$err" "Read-only file system" "rootless: /proc/sys read-only"

run_cmd UL --net host sh -c 'ls -A /sys/firmware | wc -l; grep -c " /sys/firmware .* tmpfs " /proc/self/mountinfo'
is "$(echo $out)" "0 1" "rootless --net host (the host's /sys bound in): /sys/firmware masked"

# ---- devices: no device cgroup without root, and none needed: in a user
# namespace the kernel refuses mknod of a device node and the mount of a
# devtmpfs, even to a container given CAP_SYS_ADMIN (which the filter
# then lets mount).
run_cmd UL --cap-add SYS_ADMIN --explain -v "$PROBE:/probe:ro" sh -c \
        '/probe mknod /tmp/null c 1 3; /probe mknod /tmp/disk b 7 0; /probe mount devtmpfs /tmp/d; /probe mount tmpfs /tmp/t'
is "$(echo $out)" "mknod EPERM mknod EPERM mount EPERM mount OK" \
        "rootless --cap-add SYS_ADMIN: mknod of a char or block device and a devtmpfs refused (a tmpfs mounts)"
like "$err" "explain: no device cgroup: in a user namespace the kernel refuses mknod and devtmpfs" "... and no device cgroup made, --explain says why"

for opt in "--memory 32M" "--pids 16" "--cpus 0.5"; do
        # shellcheck disable=SC2086
        run_cmd UL $opt true
        is "$rc" 125 "rootless $opt without a delegated cgroup: refused (125)"
        like "$err" "resource limits need a cgroup this user may manage" "... with one clear line"
done

# ---- a user with subordinate ids: a range through newuidmap/newgidmap
RUSER=roost-test-sub
if ! id -u "$RUSER" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/var/tmp/$RUSER" --shell /bin/sh "$RUSER" 2>/dev/null
fi
if id -u "$RUSER" >/dev/null 2>&1 && command -v newuidmap >/dev/null; then
        grep -q "^$RUSER:" /etc/subuid 2>/dev/null || usermod --add-subuids 300000-365535 "$RUSER"
        grep -q "^$RUSER:" /etc/subgid 2>/dev/null || usermod --add-subgids 300000-365535 "$RUSER"
        sub=$(awk -F: -v u="$RUSER" '$1 == u { print $2; exit }' /etc/subuid)
        RROOT=$TEST_TMP/rootfs-sub
        cp -a "$ROOTFS" "$RROOT" && chown -R "$RUSER:" "$RROOT"
        mkdir -p "$TEST_TMP/rstore" "$TEST_TMP/rout" && chown "$RUSER" "$TEST_TMP/rstore" "$TEST_TMP/rout"
        run_cmd setpriv --reuid="$RUSER" --regid="$RUSER" --init-groups --reset-env env PATH="$PATH" \
                launch --store "$TEST_TMP/rstore" --rootfs "$RROOT" -v "$TEST_TMP/rout:/out" \
                sh -c 'cat /proc/self/uid_map | tr -s " " | tr "\n" ";"; echo; touch /out/f && chown 1000:1000 /out/f && echo chowned'
        is "$(sed -n 1p <<<"$out")" " 0 $(id -u "$RUSER") 1; 1 $sub 65536;" "subordinate ids: 0 is the user, 1..65536 the range"
        is "$(sed -n 2p <<<"$out")" chowned "root inside may give a file to uid 1000"
        is "$(stat -c %u "$TEST_TMP/rout/f" 2>/dev/null)" $((sub + 999)) "... which the host sees as the user's subordinate id"
        # A named layer with files of a subordinate id: the user alone may
        # not delete them, roost rm --container (in a mapped namespace) may.
        RL() { setpriv --reuid="$RUSER" --regid="$RUSER" --init-groups --reset-env env PATH="$PATH" "$@"; }
        run_cmd RL launch --store "$TEST_TMP/rstore" --rootfs "$RROOT" --name kept \
                sh -c 'mkdir -p /d/e && touch /d/e/f && chown -R 1000:1000 /d && chmod 700 /d/e'
        up=$TEST_TMP/rstore/containers/kept/upper
        is "$rc:$(stat -c %u "$up/d" 2>/dev/null)" "0:$((sub + 999))" "a named layer holds a subordinate id's files"
        run_cmd RL rm -rf "$up/d"
        ok $((rc == 0)) "... which the user alone cannot delete"
        run_cmd RL roost rm --store "$TEST_TMP/rstore" --container kept
        is "$rc:$out" "0:removed container kept" "roost rm --container removes it without root"
        test ! -e "$TEST_TMP/rstore/containers/kept"; ok $? "... all of it"
else
        skip "subordinate ids" "cannot create $RUSER or no newuidmap"
fi

# ---- Alpine's real minirootfs, pulled (over HTTPS from a local mirror),
# unpacked and launched by the user, into the user's own store
if ! have_alpine_mirror; then
        skip "Alpine rootless pull-unpack-launch" "no Alpine mirror at $ALPINE_MIRROR_DIR"
elif pull --help 2>/dev/null | grep -q "not implemented"; then
        skip "Alpine rootless pull-unpack-launch" "pull is not built in this tree yet"
elif ! nginx_start "$ALPINE_MIRROR_DIR"; then
        skip "Alpine rootless pull-unpack-launch" "cannot start nginx"
else
        PSTORE=$TEST_TMP/pstore
        OUT=$TEST_TMP/out
        mkdir -p "$PSTORE" "$OUT" && chown "$TEST_USER" "$PSTORE" "$OUT"
        chmod a+r "$NGINX_CA"
        run_cmd as_test_user launch --store "$PSTORE" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" -q \
                -v "$OUT:/out" alpine:3.20 \
                sh -c 'id -u; cat /etc/alpine-release; grep Seccomp: /proc/self/status; touch /out/made-inside'
        is "$rc" 0 "Alpine rootless: pull, unpack and launch as the user"
        is "$(sed -n 1p <<<"$out")" 0 "Alpine rootless: id -u is 0 inside"
        is "$(sed -n 2p <<<"$out")" 3.20.3 "Alpine rootless: its own release"
        like "$(sed -n 3p <<<"$out")" "Seccomp:[[:space:]]+2" "Alpine rootless: hardened"
        is "$(stat -c %U "$OUT/made-inside" 2>/dev/null)" "$TEST_USER" "the host sees the user's uid on the container's files"
        is "$(stat -c %U "$PSTORE/trees" 2>/dev/null)" "$TEST_USER" "the store is the user's own"
fi
tap_done
