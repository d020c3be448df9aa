#!/bin/bash
# launch's hardening, seen from inside the container: capability sets,
# no_new_privs, the seccomp filter (a static probe bind-mounted in makes the
# denied calls), masked and read-only /proc and /sys paths, and what
# --privileged, --cap-add/--cap-drop and --seccomp=unconfined change.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root

launch_fixture
SPROBE=$ROOST_BUILDDIR/tests/probe/seccomp-probe
PROBE=$ROOST_BUILDDIR/tests/probe/probe
[ -x "$SPROBE" ] || skip_all "tests/probe/seccomp-probe not built"
[ -x "$PROBE" ] || skip_all "tests/probe/probe not built"
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$2"; }

# docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
# SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
DEFAULT=00000000a80425fb

# ---- capabilities, no_new_privs, seccomp mode
run_cmd L cat /proc/self/status
is "$rc" 0 "a hardened container runs"
is "$(field CapBnd "$out")" $DEFAULT "bounding set: docker's default"
is "$(field CapPrm "$out")" $DEFAULT "permitted set: the same"
is "$(field CapEff "$out")" $DEFAULT "effective set: the same"
is "$(field CapInh "$out")" 0000000000000000 "inheritable set empty"
is "$(field CapAmb "$out")" 0000000000000000 "ambient set empty"
is "$(field NoNewPrivs "$out")" 1 "no_new_privs is set"
is "$(field Seccomp "$out")" 2 "a seccomp filter is loaded"

run_cmd L --cap-add NET_ADMIN --cap-drop chown cat /proc/self/status
is "$(field CapBnd "$out")" 00000000a80435fa "--cap-add NET_ADMIN --cap-drop chown adjust the set"
run_cmd L --cap-drop ALL --cap-add cap_kill cat /proc/self/status
is "$(field CapEff "$out")" 0000000000000020 "--cap-drop ALL --cap-add cap_kill leaves only KILL"
run_cmd L --cap-add NOT_A_CAP true
is "$rc" 125 "an unknown capability is refused"
like "$err" "NOT_A_CAP" "... naming it"

run_cmd L -u 65534 cat /proc/self/status
is "$(field CapEff "$out")" 0000000000000000 "-u 65534: no effective capabilities"
is "$(field Seccomp "$out")" 2 "-u 65534: the filter too"

host_bnd=$(field CapBnd "$(cat /proc/self/status)")
run_cmd L --privileged cat /proc/self/status
is "$(field CapBnd "$out")" "$host_bnd" "--privileged keeps every capability"
is "$(field NoNewPrivs "$out")" 0 "--privileged: no no_new_privs"
is "$(field Seccomp "$out")" 0 "--privileged: no filter"

run_cmd L --seccomp=unconfined cat /proc/self/status
is "$(field Seccomp "$out")" 0 "--seccomp=unconfined: no filter"
like "$err" "^launch: warning: --seccomp=unconfined" "--seccomp=unconfined says so, loudly"
is "$(field NoNewPrivs "$out")" 1 "... but still no_new_privs"
is "$(field CapBnd "$out")" $DEFAULT "... and the default capabilities"

# ---- PID 1 holds nothing of launch's: a process allowed to ptrace it
# reaches its descriptors through /proc/1/fd, and launch's store directory
# would be the host's. Fd 7 stands for one the caller leaked.
run_cmd L --cap-add SYS_PTRACE sh -c 'cd /proc/1/fd && for f in *; do [ "$f" -gt 2 ] && readlink "$f"; done; true' 7<"$STORE"
is "$rc" 0 "PID 1's descriptors listed (with SYS_PTRACE)"
is "$(grep -c -v -E '^(pipe|socket|anon_inode):' <<<"$out")" 0 "PID 1 holds only pipes past 0-2: $(echo $out)"

# ---- PID 1 and the command never run from launch's own file: a process
# allowed to ptrace PID 1 could otherwise open the host's launch binary
# through /proc/1/exe and write it (CVE-2019-5736), and "#!/proc/self/exe"
# would run it inside. Both are roost-init, from a sealed memfd.
host_exe=$(stat -L -c %d:%i "$(command -v launch)")
run_cmd L --cap-add SYS_PTRACE sh -c 'stat -L -c %d:%i /proc/1/exe; readlink /proc/1/exe
        (echo x >>/proc/1/exe) 2>/dev/null && echo wrote-append
        (echo x >/proc/self/fd/7) 2>/dev/null 7</proc/1/exe && echo wrote-reopened
        stat -L -c %d:%i /proc/1/exe; readlink /proc/self/exe'
first=$(sed -n 1p <<<"$out")
[ -n "$first" ] && [ "$first" != "$host_exe" ]
ok $? "/proc/1/exe is not the host's launch binary ($first, launch is $host_exe)"
like "$(sed -n 2p <<<"$out")" '^/memfd:roost-init' "... it is roost-init's memfd"
ok $(grep -q wrote <<<"$out"; echo $((!$?))) "... which cannot be written, appended or reopened for writing"
is "$(tail -n 2 <<<"$out" | head -n 1)" "$first" "... and is the same file afterwards"
printf '#!/proc/self/exe --help\n' >"$ROOTFS/selfexe"
chmod 755 "$ROOTFS/selfexe"
run_cmd L /selfexe
is "$rc" 125 "an image's \"#!/proc/self/exe\" command runs roost-init, which refuses"
like "$err" "only launch starts it" "... with its one line, not launch's help"
ok $(grep -q -i "usage\|--store" <<<"$out$err"; echo $((!$?))) "... nothing of launch ran"
rm -f "$ROOTFS/selfexe"
# PID 1 holds none of the caller's environment, nor launch's host paths in
# its command line or mappings.
run_cmd env ROOST_TEST_SECRET=hunter2 launch --store "$STORE" --rootfs "$ROOTFS" --cap-add SYS_PTRACE \
        sh -c 'wc -c </proc/1/environ; tr "\0" " " </proc/1/cmdline; echo; cat /proc/1/maps'
is "$(sed -n 1p <<<"$out" | tr -d ' ')" 0 "PID 1's environment is empty (the caller's secret is not in it)"
is "$(sed -n 2p <<<"$out" | sed 's/ *$//')" roost-init "PID 1's command line is roost-init alone"
is "$(sed 1,2d <<<"$out" | awk '$6 ~ /^\// && $6 !~ /^\/memfd:roost-init/' | wc -l)" 0 \
        "PID 1 maps no file but its memfd: $(sed 1,2d <<<"$out" | awk '{ print $6 }' | sort -u | tr '\n' ' ')"

# ---- PID 1 keeps no privilege the command lacks: with every capability
# and no filter, a command allowed to ptrace it could make it mount for it.
# PID 1 drops to KILL once the command runs; right after its execve PID 1
# may not have got there yet, but holds nothing beyond the command's set
# (and SETUID, SETGID, SETPCAP, which the command's set here has anyway).
run_cmd L --cap-add SYS_PTRACE sh -c 'grep CapEff /proc/1/status
        for _ in $(seq 100); do grep -q "CapEff:.*0000000000000020" /proc/1/status && break; sleep 0.02; done
        cat /proc/1/status'
first=$(sed -n 1p <<<"$out" | awk '{ print $2 }')
is "$(( (0x$first & ~0x$DEFAULT & ~(1 << 19)) ))" 0 "PID 1 holds no capability the command lacks, even at once ($first)"
out=$(sed 1d <<<"$out")
is "$(field CapEff "$out"):$(field CapPrm "$out")" 0000000000000020:0000000000000020 "PID 1 keeps only CAP_KILL"
is "$(field Seccomp "$out"):$(field NoNewPrivs "$out")" 2:1 "PID 1 runs under the filter, with no_new_privs"
run_cmd L cat /proc/1/environ
ok $((rc == 0)) "PID 1 is undumpable: without SYS_PTRACE its memory and environment stay closed"
# Made to execve by a command that may ptrace it, PID 1 must regain nothing:
# its bounding set is the command's, and no_new_privs holds even with no
# filter.
run_cmd L --seccomp=unconfined cat /proc/1/status
is "$(field CapBnd "$out"):$(field NoNewPrivs "$out")" "$DEFAULT:1" "PID 1's bounding set is the command's, with no_new_privs, filter or not"
for drop in "" "--cap-drop ALL"; do
        : >"$TEST_TMP/trap.out"
        # shellcheck disable=SC2086
        launch --store "$STORE" --rootfs "$ROOTFS" -u 65534 $drop \
                sh -c 'trap "echo got-TERM; exit 3" TERM; echo ready; sleep 5 & wait' >"$TEST_TMP/trap.out" &
        lpid=$!
        for _ in $(seq 50); do grep -q ready "$TEST_TMP/trap.out" && break; sleep 0.05; done
        kill -TERM "$lpid"
        wait "$lpid"
        is "$?" 3 "PID 1 still passes a signal on to a -u 65534 command${drop:+ ($drop)}: it kept CAP_KILL"
done

# ---- device nodes. With the device cgroup (every root launch here), /dev
# is docker's: a tmpfs whose six devices are made with mknod, and any other
# node made there opens nothing, the allow-list refusing it.
run_cmd L sh -c 'mknod /dev/k c 1 11 && echo made; echo x >/dev/k && echo opened'
is "$out" made "mknod in /dev works (CAP_MKNOD), as under docker ..."
like "$err" "Operation not permitted" "... but the node opens no device: the device cgroup refuses it"
run_cmd L sh -c 'head -c 3 /dev/zero | wc -c; echo x >/dev/null && head -c 2 /dev/urandom | wc -c'
is "$(echo $out)" "3 2" "/dev/zero, /dev/null and /dev/urandom (made with mknod) work"
# Without a device cgroup (a host that cannot make one), every file system
# the container can write is nodev, /dev included, and its devices are the
# host's own nodes, bound read-only.
NL() { ROOST_LAUNCH_NO_DEVICES=1 launch --store "$STORE" --rootfs "$ROOTFS" "$@"; }
run_cmd NL sh -c 'mknod /dev/k c 1 11 && echo made; echo x >/dev/k && echo opened'
is "$out" made "no device cgroup: mknod in /dev works ..."
like "$err" "Permission denied" "... but the node opens no device: /dev is nodev"
run_cmd NL sh -c 'head -c 3 /dev/zero | wc -c; echo x >/dev/null && head -c 2 /dev/urandom | wc -c'
is "$(echo $out)" "3 2" "... and /dev/zero, /dev/null and /dev/urandom (the host's nodes, bound) work"
mkdir -p "$TEST_TMP/dvol"
run_cmd L -v "$TEST_TMP/dvol:/vol" sh -c 'mknod /vol/k c 1 11 && echo x >/vol/k'
ok $((rc == 0)) "a node made in a volume opens no device"
rm -f "$TEST_TMP/dvol/k"
mknod "$ROOTFS/kmsg" c 1 11
run_cmd L sh -c 'echo x >/kmsg'
ok $((rc == 0)) "a node shipped in the image opens no device"
rm -f "$ROOTFS/kmsg"
run_cmd L --privileged sh -c 'mknod /dev/k c 1 3 && echo x >/dev/k && echo opened'
is "$out" opened "--privileged: a node made in /dev works"
# A kernel without mount_setattr (before 5.12) cannot bind the host's
# nodes read-only, so /dev falls back to mknod there and honours nodes:
# with the device cgroup that is as safe as above; without it, only a
# container that may make none is run.
OLDK=$ROOST_BUILDDIR/tests/probe/no-mount-setattr
run_cmd "$OLDK" launch --store "$STORE" --rootfs "$ROOTFS" sh -c 'echo x >/dev/null && wc -c </proc/keys'
is "$rc:$out" "0:0" "without mount_setattr, with the device cgroup, a container keeping CAP_MKNOD runs"
run_cmd "$OLDK" env ROOST_LAUNCH_NO_DEVICES=1 launch --store "$STORE" --rootfs "$ROOTFS" true
is "$rc:$(wc -l <<<"$err")" "125:1" "without mount_setattr or a device cgroup, a container keeping CAP_MKNOD is refused (125, one line)"
like "$err" "--cap-drop MKNOD" "... saying how to run it"
run_cmd "$OLDK" env ROOST_LAUNCH_NO_DEVICES=1 launch --store "$STORE" --rootfs "$ROOTFS" --cap-drop MKNOD \
        sh -c 'echo x >/dev/null && wc -c </proc/keys'
is "$rc:$out" "0:0" "... and with --cap-drop MKNOD it runs, /dev and the masks in place"
# What masks /proc's files is the host's own /dev/null, and without a
# device cgroup so are /dev's nodes: bound read-only, their mode and owner
# are out of the container's reach. The chmod asks for the mode they have,
# so that nothing changes even if it works.
mode=$(stat -c %a /dev/null)
run_cmd NL sh -c "chmod $mode /dev/null; chmod $mode /proc/keys; chown 0:0 /dev/zero; echo x >/dev/null && echo written"
is "$(grep -c 'Read-only file system' <<<"$err"):$out" "3:written" "the host's /dev/null and /dev/zero, bound read-only, cannot be chmod'ed or chown'ed, yet written to"
run_cmd L sh -c "chmod $mode /proc/keys"
like "$err" "Read-only file system" "with the device cgroup too, the host's /dev/null over /proc/keys keeps its mode"
# A device given as a volume is the one node the caller passed: it works,
# read-only for its mode and owner, as -v's other binds do not.
run_cmd L -v /dev/zero:/zz sh -c "head -c 4 /zz | wc -c; chmod $(stat -c %a /dev/zero) /zz"
is "$out" 4 "a device node given with -v opens (no nodev on it) ..."
like "$err" "Read-only file system" "... bound read-only, so its host node's mode stays out of reach"

# ---- the device cgroup: CAP_SYS_ADMIN can mount a devtmpfs, where the
# kernel makes every device's node, and no nodev of launch's covers it:
# only the allow-list keeps the host's disks shut. Checked with the BPF
# program on the unified hierarchy (launch's choice wherever there is one)
# and with the v1 devices controller (ROOST_LAUNCH_DEVICES_V1). The disk:
# a block device the host itself may open (a CI sandbox may refuse some),
# the root file system's first; opened for reading only.
blk=
for name in $(sed -n 's/^DEVNAME=//p' "/sys/dev/block/$(stat -c %Hd:%Ld /)/uevent" 2>/dev/null) \
        $(ls /sys/class/block 2>/dev/null); do
        if [ -b "/dev/$name" ] && dd if="/dev/$name" of=/dev/null count=0 2>/dev/null; then
                blk=$name
                break
        fi
done
opens() { # opens OUT PATH...: what the probe said of each PATH, on one line
        local p
        for p in "${@:2}"; do printf '%s ' "$(field "$p" "$(sed 's/ /: /' <<<"$1")")"; done
}
LP() { L -v "$PROBE:/probe:ro" "$@"; }
for mode in v2 v1; do
        if [ "$mode" = v1 ]; then export ROOST_LAUNCH_DEVICES_V1=1; else unset ROOST_LAUNCH_DEVICES_V1; fi
        run_cmd L --explain true
        said=$err
        shared=$(sed -n 's/^explain: the container.s device cgroup: \([^ ]*\) (.*/\1/p' <<<"$said")
        case $mode:$said in
        v1:*"device cgroup: "*"/roost/dev/shared (devices controller, v1)"*) here=true ;;
        v2:*"device cgroup: "*"/roost/dev/shared (a BPF device program"*) here=true ;;
        *) here=false ;;
        esac
        # The attack, whatever the host has: refused outright, or its
        # disk opens nothing.
        if [ -z "$blk" ]; then
                skip "$mode: a devtmpfs's disk opens nothing" "no block device the host may open"
        else
                run_cmd LP --cap-add SYS_ADMIN --cap-drop MKNOD sh -c "/probe mount devtmpfs /tmp/d &&
                        /probe open /tmp/d/$blk /tmp/d/null /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/ptmx"
                if ! $here && [ "$rc" = 125 ]; then
                        like "$err" "^launch: a container keeping CAP_SYS_ADMIN needs a device cgroup" \
                                "$mode: none can be made here: --cap-add SYS_ADMIN is refused, with one line"
                else
                        is "$(field mount "$(sed 's/ /: /' <<<"$out")")" OK "$mode: --cap-add SYS_ADMIN mounts a devtmpfs inside"
                        is "$(opens "$out" "/tmp/d/$blk")" "EPERM " \
                                "$mode: ... but the host's disk there ($blk) opens nothing, even read-only: EPERM"
                        is "$(opens "$out" /tmp/d/null /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/ptmx)" \
                                "OK OK OK OK OK OK OK " "$mode: ... while null (there too), zero, full, random, urandom and ptmx open"
                fi
        fi
        if ! $here; then
                # Not for the kernel refusing the program itself (the
                # verifier: EINVAL, EACCES), which launch would otherwise
                # hide behind its fallback.
                if [ "$mode" = v2 ]; then
                        ! grep -Eq "loading the device program: (Invalid argument|Permission denied)" <<<"$said"
                        ok $? "v2: the kernel takes launch's device program where it has cgroup2"
                fi
                skip "$mode device cgroup" "this host has none of that kind (${shared:-none}): $(grep -m1 'no .*device' <<<"$said")"
                continue
        fi
        ok 0 "$mode: a default launch joins the device cgroup launches share, $shared"
        if [ -n "$blk" ]; then
                run_cmd LP --cap-add SYS_ADMIN -v "/dev/$blk:/dev/vol" sh -c "/probe open /dev/vol; /probe mount devtmpfs /tmp/d && /probe open /tmp/d/$blk"
                is "$(opens "$out" /dev/vol "/tmp/d/$blk")" "OK OK " "$mode: a device given with -v is on the list (its node in a devtmpfs too)"
        fi
        # Under a runtime whose filter refuses clone3 (docker's), the child
        # cannot be born in its cgroup2: launch moves it there instead.
        if [ "$mode" = v2 ] && [ -n "$blk" ]; then
                run_cmd "$ROOST_BUILDDIR/tests/probe/no-clone3" launch --store "$STORE" --rootfs "$ROOTFS" -v "$PROBE:/probe:ro" \
                        --cap-add SYS_ADMIN sh -c "/probe mount devtmpfs /tmp/d && /probe open /tmp/d/$blk /dev/null"
                is "$(opens "$out" "/tmp/d/$blk" /dev/null)" "EPERM OK " "v2 without clone3: the child is moved into its cgroup, the disk still shut"
                run_cmd "$ROOST_BUILDDIR/tests/probe/no-clone3" launch --store "$STORE" --rootfs "$ROOTFS" true
                is "$rc" 0 "v2 without clone3: a default launch joins the shared cgroup that way too"
        fi
        run_cmd L --cap-add SYS_ADMIN --explain true
        own=$(sed -n 's/^explain: mkdir("\(.*\)") — the container.s cgroup.*/\1/p' <<<"$err")
        like "$own" "/roost/roost-[0-9]+/container$" "$mode: with CAP_SYS_ADMIN, a device cgroup of the launch's own, below its list"
        [ -n "$own" ] && [ ! -e "${own%/container}" ]
        ok $? "$mode: ... removed with all below it when the launch ends"
        if [ "$mode" = v1 ]; then
                run_cmd L --cap-add SYS_ADMIN sh -c 'mkdir /tmp/cg && mount -t cgroup -o devices none /tmp/cg &&
                        grep -c . /tmp/cg/devices.list && echo a >/tmp/cg/devices.allow && echo widened'
                is "$out" 10 "v1: a container keeping CAP_SYS_ADMIN sees its own cgroup's list, and cannot widen it"
        fi
done
unset ROOST_LAUNCH_DEVICES_V1
run_cmd L --privileged --explain -v "$PROBE:/probe:ro" sh -c "/probe mount devtmpfs /tmp/d && /probe open /tmp/d/${blk:-null}"
is "$(opens "$out" "/tmp/d/${blk:-null}")" "OK " "--privileged: no device cgroup, every device opens (docker's choice)"
like "$err" "no device cgroup: --privileged" "... and --explain says so"

# ---- the filter, call by call (the probe's arguments are harmless when a
# call is allowed: bad flags, bad fds, missing paths, /dev/null)
run_cmd L -v "$SPROBE:/sp:ro" /sp
is "$rc" 0 "the seccomp probe runs"
probe=$(sed 's/ /: /' <<<"$out")
for call in kexec_load reboot finit_module swapoff clock_settime keyctl bpf perf_event_open \
        userfaultfd mount umount2 pivot_root setns unshare unshare_user clone_newns \
        open_by_handle_at tiocsti tiocsti_high_bits tioclinux socket_alg socket_vsock \
        process_vm_readv x32_unshare io_uring_setup io_uring_enter io_uring_register \
        personality_exec_norandom personality_bsd personality_high_bits; do
        is "$(field "$call" "$probe")" EPERM "$call is denied with EPERM"
done
# docker's personality list passes: PER_LINUX, PER_LINUX32|UNAME26, the query
for call in personality_linux personality_linux32_uname26 personality_query personality_query_long; do
        is "$(field "$call" "$probe")" OK "$call passes"
done
# Where the kernel has no int 0x80 entry (the probe says NOI386), there is
# no i386 way in to check.
noi386="this kernel has no i386 entry point (int 0x80 raises SIGSEGV)"
i386=$(field i386_unshare "$probe")
if [ "$i386" = NOI386 ]; then
        skip "i386_unshare is denied with EPERM" "$noi386"
        skip "i386 socket(AF_VSOCK) is denied with EPERM" "$noi386"
        skip "an i386 socket through socketcall passes (32-bit musl)" "$noi386"
else
        is "$i386" EPERM "i386_unshare is denied with EPERM"
        is "$(field i386_socket_vsock "$probe")" EPERM "i386 socket(AF_VSOCK) is denied with EPERM"
        is "$(field i386_socketcall_unix "$probe")" OK "an i386 socket through socketcall passes (32-bit musl)"
fi
is "$(field clone3 "$probe")" ENOSYS "clone3 fails with ENOSYS (the C library falls back to clone)"
is "$(field getpid "$probe")" OK "ordinary calls pass"
is "$(field socket_inet "$probe")" OK "an inet socket passes"

run_cmd L --cap-add SYS_ADMIN -v "$SPROBE:/sp:ro" /sp
p=$(sed 's/ /: /' <<<"$out")
is "$(field unshare "$p")" OK "--cap-add SYS_ADMIN lets unshare through, as docker does"
is "$(field kexec_load "$p")" EPERM "... but not kexec_load"
run_cmd L --privileged -v "$SPROBE:/sp:ro" /sp
p=$(sed 's/ /: /' <<<"$out")
is "$(field mount "$p")" ENOENT "--privileged: mount reaches the kernel"
is "$(field tiocsti "$p")" ENOTTY "--privileged: TIOCSTI reaches the kernel"
is "$(field personality_exec_norandom "$p")" OK "--privileged: any personality"
if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
        is "$(field io_uring_setup "$p")" EFAULT "--privileged: io_uring_setup reaches the kernel"
else
        skip "--privileged: io_uring_setup reaches the kernel" "the host disables io_uring (kernel.io_uring_disabled)"
fi

# ---- file handles ("shocker"): with CAP_DAC_READ_SEARCH, a volume's mount
# opens a handle made for any directory of the file system under it, here
# the volume's parent, which holds a file the container must not see.
# docker's profile allows it with that capability; here the filter refuses
# it whatever the capabilities, and only --seccomp=unconfined (or
# --privileged) lets it through.
mkdir -p "$TEST_TMP/hvol"
echo outside-the-volume >"$TEST_TMP/shocker-secret"
if ! handle=$("$SPROBE" handle "$TEST_TMP"); then
        skip "open_by_handle_at is refused with CAP_DAC_READ_SEARCH" "$TEST_TMP's file system makes no handles ($handle)"
else
        shock() { L "$@" -v "$TEST_TMP/hvol:/vol" -v "$SPROBE:/sp:ro" /sp shocker /vol "$handle" shocker-secret; }
        run_cmd shock --cap-add DAC_READ_SEARCH
        p=$(sed 's/ /: /' <<<"$out")
        is "$(field name_to_handle_at "$p")" OK "--cap-add DAC_READ_SEARCH: name_to_handle_at passes, as in docker"
        is "$(field open_by_handle_at "$p")" EPERM "... but open_by_handle_at is refused by the filter"
        is "$(field escaped "$p")" "" "... and nothing outside the volume is read"
        run_cmd shock --cap-add DAC_READ_SEARCH --seccomp=unconfined
        p=$(sed 's/ /: /' <<<"$out")
        is "$(field open_by_handle_at "$p"):$(field escaped "$p")" OK:outside-the-volume \
                "--seccomp=unconfined: the kernel opens it, and the volume's parent is read (what the filter stops)"
        run_cmd shock --seccomp=unconfined
        p=$(sed 's/ /: /' <<<"$out")
        is "$(field open_by_handle_at "$p")" EPERM "without the capability the kernel refuses it itself"
fi

# ---- masked and read-only paths
run_cmd L sh -c 'wc -c </proc/keys; ls -A /proc/acpi | wc -l; ls -A /sys/firmware | wc -l'
is "$(echo $out)" "0 0 0" "/proc/keys reads as /dev/null; /proc/acpi and /sys/firmware are empty"
run_cmd L cat /proc/self/mountinfo
mi=$(awk '{ for (i = 7; $i != "-"; i++); print $5, $6, $(i + 1) }' <<<"$out")
like "$mi" '^/proc/acpi ro,[^ ]* tmpfs$' "/proc/acpi is a read-only tmpfs"
like "$mi" '^/sys/firmware ro,[^ ]* tmpfs$' "/sys/firmware is a read-only tmpfs"
like "$mi" '^/proc/sys ro,[^ ]* proc$' "/proc/sys is read-only"
like "$mi" '^/proc/irq ro,[^ ]* proc$' "/proc/irq is read-only"
like "$mi" '^/proc rw,nosuid,nodev,noexec' "/proc is nosuid,nodev,noexec"
run_cmd L sh -c 'echo evil >/proc/sys/kernel/hostname'
like "$err" "Read-only file system" "a sysctl cannot be written"
run_cmd L sh -c 'echo 1 >/sys/kernel/profiling'
like "$err" "Read-only file system" "/sys cannot be written"
run_cmd L mount -t tmpfs none /mnt
[ "$rc" -ne 0 ]; ok $? "mount is denied inside"
run_cmd L --privileged sh -c 'wc -c </proc/keys; grep -c " /proc/acpi " /proc/self/mountinfo'
is "$(echo $out)" "$(wc -c </proc/keys) 0" "--privileged: nothing masked"

# ---- a hostile image: /proc a symlink to the host's. Refused before
# anything is mounted (the masks' own checks are in tests/unit/test-sandbox).
cp -a "$ROOTFS" "$TEST_TMP/hostile"
rm -rf "$TEST_TMP/hostile/proc" && ln -s /proc "$TEST_TMP/hostile/proc"
# (only this test's paths are counted: tests beside it mount and unmount
# on the host too)
mounts_before=$(grep -cF "$TEST_TMP" /proc/self/mountinfo)
run_cmd launch --store "$STORE" --rootfs "$TEST_TMP/hostile" cat /proc/self/status
is "$rc" 125 "a rootfs whose /proc is a symlink is refused"
like "$err" "proc" "... naming /proc"
is "$(grep -cF "$TEST_TMP" /proc/self/mountinfo)" "$mounts_before" "... and nothing is mounted on the host"
[ -f /proc/keys ] && ! grep -q " /proc/keys " /proc/self/mountinfo
ok $? "... the host's /proc/keys untouched"
tap_done
