#!/bin/bash
# Full disks and bad media. A store on a small tmpfs (in a private mount
# namespace) fills up mid-pull, mid-unpack, mid-commit and mid-import; its
# tmp/ is made read-only (a read-only bind mount: root ignores modes), then
# a file; and write errors (EIO, ENOSPC) are injected into running commands
# (pull from a mirror and from a registry, unpack, commit, import) by
# tests/inject-eio, aimed at chosen calls, then at the Nth write-like call
# to a file of the store, N drawn at random (the seed printed;
# ROOST_DISKFULL_SEED replays a run, ROOST_DISKFULL_POINTS sets how many
# points per command, default 5). Each failure must be one line on stderr
# with exit 6, nothing half-published (no new reference, every blob matches
# its name, roost verify passes, gc leaves no temporary), and the same
# command succeeds once the space is back. docs/store.md says what each
# command does.
if [ -z "${ROOST_DISKFULL_NS:-}" ]; then
        # A private mount namespace: the tmpfs mounts are ours alone and go
        # with this script, whatever happens.
        if [ "$(id -u)" -eq 0 ] && unshare -m --propagation private true 2>/dev/null; then
                ROOST_DISKFULL_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
        fi
fi
. "$ROOST_SRCDIR/tests/lib/tap.sh" || exit 99
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
require_root
[ -n "${ROOST_DISKFULL_NS:-}" ] || skip_all "cannot make a private mount namespace"
have_alpine_mirror || skip_all "Alpine's mirror copy is not at $ALPINE_MIRROR_DIR"

# Alpine's files, signed here with a throwaway key (gpg only makes the
# fixture), so that every pull checks a signature: pull's verifier then runs
# beside the download, under the injected failures too.
www=$TEST_TMP/www
unset ROOST_ALLOW_UNSIGNED ROOST_TRUST
rel=alpine/v3.20/releases/x86_64
if command -v gpg >/dev/null && mkdir -p "$www/$rel" && cp "$ALPINE_MIRROR_DIR/$rel"/* "$www/$rel/" &&
        fixture_signing_key && fixture_sign "$www/$rel/alpine-minirootfs-3.20.3-x86_64.tar.gz"; then
        export ROOST_TRUST=$FIXTURE_KEY
        ok 0 "a copy of Alpine's 3.20 files, signed with a throwaway key"
else
        skip "a copy of Alpine's 3.20 files, signed with a throwaway key" "gpg is missing or failed: pulls go unsigned"
        www=$ALPINE_MIRROR_DIR
        unset ROOST_TRUST
        export ROOST_ALLOW_UNSIGNED=1
fi
nginx_start "$www" || skip_all "nginx could not start"

POINTS=${ROOST_DISKFULL_POINTS:-5}
SEED=${ROOST_DISKFULL_SEED:-$(( $(date +%s%N) % 1000000 ))}
RANDOM=$SEED
tap_diag "seed $SEED (ROOST_DISKFULL_SEED=$SEED replays it), $POINTS injection points per command"

# mount_tmpfs DIR SIZE: a tmpfs there, unmounted before TEST_TMP goes.
mount_tmpfs() {
        mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" roost-diskfull "$1" || return 1
        tap_at_exit "umount -l '$1'"
}
S=$TEST_TMP/store
mount_tmpfs "$S" 256m || skip_all "cannot mount a tmpfs"

# leave_free KB: the store's tmpfs shrunk to what it uses now plus KB.
leave_free() {
        local used
        used=$(df --output=used -k "$S" | tail -1)
        mount -o "remount,size=$((used + $1))k" "$S"
}
grow() { mount -o remount,size=256m "$S"; }

P() { pull --store "$1" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 -q alpine 3.20; }
refs() { roost --store "$1" images --json 2>/dev/null | jq -r '.[] | "\(.name):\(.tag)"' | sort | tr '\n' ' '; }

# bad_blobs STORE: the blobs whose bytes do not hash to their name.
bad_blobs() {
        local f
        for f in "$1"/blobs/sha256/*; do
                [ -f "$f" ] || continue
                [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] || printf '%s ' "${f##*/}"
        done
}

# temporaries STORE: what tmp/ and partial/ hold.
temporaries() { find "$1/tmp" "$1/partial" -mindepth 1 2>/dev/null | wc -l; }

# after_failure WHAT STORE REFS_BEFORE WANT: the checks after a command was
# refused; WANT is the reason its one line must give (grep -E).
after_failure() {
        local what=$1 st=$2 before=$3 want=$4
        is "$rc" 6 "$what: exit 6"
        is "$(grep -c '' <<<"$err")" 1 "$what: one line on stderr: $err"
        like "$err" "$want" "$what: ... saying why"
        is "$(refs "$st")" "$before" "$what: no reference was added or lost"
        is "$(bad_blobs "$st")" "" "$what: every blob matches its name"
        run_cmd roost --store "$st" verify
        is "$rc" 0 "$what: roost verify passes, on the full disk: $(tail -1 <<<"$err")"
        run_cmd roost --store "$st" gc -q
        is "$rc:$(temporaries "$st")" "0:0" "$what: gc, on the full disk, leaves no temporary"
}

ENOSPC_LINE='No space left on device$'

# ---- a full disk ----

leave_free 1500
run_cmd P "$S"
after_failure "pull mid-download" "$S" "" "^pull: .*$ENOSPC_LINE"
grow
run_cmd P "$S"
is "$rc:$err" "0:" "pull succeeds once the space is back"
# Again, and without gc in between: what was written is kept and resumed.
roost --store "$S" rm -q alpine:3.20 && roost --store "$S" gc -q
leave_free 1500
run_cmd P "$S"
is "$rc:$(store_partial_count "$S")" "6:1" "pull on a full disk again: exit 6, the partial download kept"
grow
run_cmd P "$S"
is "$rc:$err" "0:" "... and the next pull, the space back, succeeds"
is "$(tarball_gets "$NGINX_LOG" alpine-minirootfs-3.20.3-x86_64.tar.gz 206)" 1 "... resuming it with a range request"
tree=$(roost --store "$S" inspect alpine:3.20 | jq -r '.[0].Layers[0].Digest' | cut -d: -f2)

before=$(refs "$S")
leave_free 2000
run_cmd unpack --store "$S" -q alpine:3.20
after_failure "unpack mid-extraction" "$S" "$before" "^unpack: .*$ENOSPC_LINE"
is "$(ls "$S/trees")" "" "unpack: no tree was published"
grow
run_cmd unpack --store "$S" -q alpine:3.20
is "$rc:$err" "0:" "unpack succeeds once the space is back"
check "... and the tree is whole" test -x "$S/trees/$tree/rootfs/bin/busybox"

roost --store "$S" export alpine:3.20 "$TEST_TMP/alpine-rl.tar"
run_cmd launch --store "$S" -q --name big alpine:3.20 sh -c 'head -c 6000000 /dev/urandom >/big'
is "$rc:$err" "0:" "a named container writes 6 MB that gzip cannot shrink"
before=$(refs "$S")
leave_free 2000
run_cmd roost --store "$S" commit -q big big:1
after_failure "commit mid-layer" "$S" "$before" "^roost: .*$ENOSPC_LINE"
grow
run_cmd roost --store "$S" commit -q big big:1
is "$rc:$err" "0:" "commit succeeds once the space is back"

run_cmd roost --store "$S" export big:1 "$TEST_TMP/big.tar"
is "$rc" 0 "an export of the committed image, to import again"
roost --store "$S" rm -q big:1 && roost --store "$S" gc -q
before=$(refs "$S")
leave_free 2000
run_cmd roost --store "$S" import -q "$TEST_TMP/big.tar" big:2
after_failure "import mid-blob" "$S" "$before" "^roost: .*$ENOSPC_LINE"
run_cmd sh -c "cat '$TEST_TMP/big.tar' | roost --store '$S' import -q - big:2"
after_failure "import from a pipe, mid-copy into tmp/" "$S" "$before" \
        "^roost: import: keeping standard input in the store's tmp/: $ENOSPC_LINE"
grow
run_cmd roost --store "$S" import -q "$TEST_TMP/big.tar" big:2
is "$rc:$err" "0:" "import succeeds once the space is back"

# export writes outside the store: a full destination is exit 1, as
# docs/exchange.md says, and leaves nothing there.
O=$TEST_TMP/out
mount_tmpfs "$O" 1m || skip_all "cannot mount a tmpfs"
run_cmd roost --store "$S" export alpine:3.20 "$O/alpine.tar"
is "$rc:$(grep -c '' <<<"$err")" "1:1" "export to a full disk: exit 1, one line: $err"
is "$(ls -A "$O")" "" "... and leaves nothing there"

# Without root, commit writes its layer from a user namespace mapped as
# launch's: the same line and exit status when the disk fills up.
R=$TEST_TMP/rootless
RL() { as_test_user env ${ROOST_TRUST:+ROOST_TRUST="$ROOST_TRUST"} "$@"; }
if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        mount_tmpfs "$R" 256m && chown "$TEST_USER:" "$R" && chmod 0755 "$R" &&
                RL roost --store "$R/store" import -q "$TEST_TMP/alpine-rl.tar" alpine:3.20 &&
                RL launch --store "$R/store" -q --name big alpine:3.20 sh -c 'head -c 3000000 /dev/urandom >/big'
        is "$?" 0 "rootless: a store of the test user's on a tmpfs, and a container that wrote 3 MB"
        before=$(refs "$R/store")
        used=$(df --output=used -k "$R" | tail -1)
        mount -o "remount,size=$((used + 1000))k" "$R"
        run_cmd RL roost --store "$R/store" commit -q big big:1
        after_failure "rootless commit mid-layer" "$R/store" "$before" "^roost: .*$ENOSPC_LINE"
        mount -o remount,size=256m "$R"
        run_cmd RL roost --store "$R/store" commit -q big big:1
        is "$rc:$err" "0:" "rootless commit succeeds once the space is back"
        RL roost --store "$R/store" rm -q --container big
else
        skip "rootless commit on a full disk" "no test user, or unprivileged user namespaces are disabled"
fi

# ---- an unwritable tmp/ ----

mount --bind "$S/tmp" "$S/tmp" && mount -o remount,bind,ro "$S/tmp"
is "$?" 0 "tmp/ made read-only"
before=$(refs "$S")
RO_LINE='[Rr]ead-only file system$'
run_cmd unpack --store "$S" -q --force alpine:3.20
after_failure "unpack --force, tmp/ read-only" "$S" "$before" "^unpack: .*$RO_LINE"
check "... and the tree is still whole" test -x "$S/trees/$tree/rootfs/bin/busybox"
run_cmd roost --store "$S" commit -q big big:3
after_failure "commit, tmp/ read-only" "$S" "$before" "^roost: .*$RO_LINE"
# import of a file writes its blobs to partial/, as pull does, and needs no
# tmp/; from a pipe, it keeps the archive in tmp/ to read it twice.
roost --store "$S" rm -q big:2 && roost --store "$S" gc -q
before=$(refs "$S")
run_cmd sh -c "cat '$TEST_TMP/big.tar' | roost --store '$S' import -q - big:5"
after_failure "import from a pipe, tmp/ read-only" "$S" "$before" "^roost: .*$RO_LINE"
run_cmd roost --store "$S" import -q "$TEST_TMP/big.tar" big:4
is "$rc:$err:$(bad_blobs "$S")" "0::" "import of a file needs no tmp/: it stores the image whole"
umount "$S/tmp"
run_cmd roost --store "$S" commit -q big big:3
is "$rc:$err" "0:" "commit succeeds once tmp/ is writable again"

# tmp/ a file: the store cannot be opened to write, and nothing is touched.
before=$(refs "$S")
rmdir "$S/tmp" && : >"$S/tmp"
run_cmd unpack --store "$S" -q --force alpine:3.20
is "$rc:$(grep -c '' <<<"$err")" "6:1" "unpack, tmp/ a file: exit 6, one line: $err"
run_cmd roost --store "$S" commit -q big big:5
is "$rc:$(grep -c '' <<<"$err")" "6:1" "commit, tmp/ a file: exit 6, one line: $err"
rm "$S/tmp" && mkdir -m 0700 "$S/tmp"
is "$(refs "$S"):$(bad_blobs "$S")" "$before:" "... and nothing was added, lost or damaged"
check "... and the tree is still whole" test -x "$S/trees/$tree/rootfs/bin/busybox"

# ---- write errors injected into running commands ----

# Each command has its own store below I: pull and import into a store that
# holds nothing yet, so that they write whole blobs; commit after its
# container wrote more, so that each commit makes a new layer.
I=$TEST_TMP/inject
mount_tmpfs "$I" 256m || skip_all "cannot mount a tmpfs"
P "$I/main" && roost --store "$I/main" export alpine:3.20 "$TEST_TMP/alpine.tar" ||
        skip_all "cannot set up the stores for injection"
inj_prep() {
        case $1 in
        pull) rm -rf "$I/pull" ;;
        registry) rm -rf "$I/reg" ;;
        import) rm -rf "$I/imp" ;;
        commit) launch --store "$I/main" -q --name box alpine:3.20 sh -c 'head -c 100000 /dev/urandom >/file' ;;
        esac
}
inj_store() {
        case $1 in pull) echo "$I/pull" ;; registry) echo "$I/reg" ;; import) echo "$I/imp" ;; *) echo "$I/main" ;; esac
}
inj_cmd() {
        case $1 in
        pull) P "$I/pull" ;;
        registry) pull --store "$I/reg" --cacert "$REGISTRY_CA" -q "$REGISTRY/test/img:1" ;;
        unpack) unpack --store "$I/main" -q --force alpine:3.20 ;;
        commit) roost --store "$I/main" commit -q box "box:$2" ;;
        import) roost --store "$I/imp" import -q "$TEST_TMP/alpine.tar" "imp:$2" ;;
        esac
}
# A registry's image of three layers, for pull's other source: several
# blobs, each of its own download.
registry_image() {
        local img=$TEST_TMP/img i
        registry_start >/dev/null 2>&1 || return 1
        mkdir -p "$img"
        for i in 1 2 3; do
                head -c 100000 /dev/urandom >"$img/f$i" && tar -C "$img" -czf "$img/l$i.tar.gz" "f$i" || return 1
        done
        make_oci_image "$img/layout" 1 amd64 "$img/l1.tar.gz" "$img/l2.tar.gz" "$img/l3.tar.gz" &&
                skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" "oci:$img/layout:1" "docker://$REGISTRY/test/img:1"
}
commands="pull unpack commit import"
if [ "$(uname -m)" = x86_64 ] && command -v skopeo >/dev/null && registry_image; then
        commands="pull registry unpack commit import"
else
        skip "injections into a pull from a registry" "docker-registry or skopeo is missing, or this is not x86_64"
fi
export I NGINX_URL NGINX_CA TEST_TMP REGISTRY REGISTRY_CA
LOG=$TEST_TMP/inject.log
# inj WHICH TAG INJECT-EIO-OPTIONS...: the command, its writes failed as asked.
inj() {
        local c=$1 t=$2
        shift 2
        run_cmd inject-eio --log "$LOG" "$@" "$I" -- bash -c "$(declare -f P inj_cmd); inj_cmd $c $t"
}

# Aimed: an I/O error on import's first write into the store.
inj_prep import
inj import 0 --errno EIO --after 1
is "$rc:$(grep -c '' <<<"$err")" "6:1" "import, EIO on its first write: exit 6, one line: $err"
is "$(refs "$I/imp")" "" "... and no reference"
# Aimed: the flush of commit's new tree fails. The image is stored whole and
# referenced; its tree is not, and commit says so and how to make it.
inj_prep commit
inj commit 0 --errno ENOSPC --syscall syncfs --after 1
is "$rc:$(grep -c '' <<<"$err")" "6:1" "commit, ENOSPC flushing the new tree: exit 6, one line"
like "$err" "^roost: commit: box:0 is stored, but unpacking its new layer failed \(.*No space left on device\); run roost unpack box:0$" \
        "... saying the image is stored and how to unpack it"
run_cmd unpack --store "$I/main" -q box:0
is "$rc:$err" "0:" "... which then works"

# At random: the Nth write-like call to the store fails, N drawn among as
# many as a plain run makes; EIO or ENOSPC, from then on or that call only.
n=0
for c in $commands; do
        inj_prep "$c"
        inj "$c" count
        calls=$(cut -d' ' -f2 "$LOG")
        tap_diag "$c: $calls write-like calls to the store"
        [ "$calls" -gt 0 ] || { ok 1 "$c: inject-eio saw its writes"; continue; }
        bad=0
        for _ in $(seq "$POINTS"); do
                n=$((n + 1))
                at=$((RANDOM % calls + 1)) e=EIO once=
                [ $((RANDOM % 2)) -eq 0 ] && e=ENOSPC
                [ $((RANDOM % 2)) -eq 0 ] && once=--once
                st=$(inj_store "$c")
                inj_prep "$c"
                before=$(refs "$st")
                inj "$c" "$n" --errno "$e" --after "$at" $once
                first=$(cut -d' ' -f6- "$LOG")
                what="$c, $e at call $at${once:+ (once)} ($first): exit $rc"
                # A failed call may change nothing that matters (the flush of
                # a directory that holds only locks): exit 0 is then right,
                # as long as what was stored is whole.
                if [ "$rc" -ne 0 ] || [ -n "$err" ]; then
                        [ "$rc" -eq 6 ] && [ "$(grep -c '' <<<"$err")" -eq 1 ] || {
                                bad=$((bad + 1)); tap_diag "$what, stderr: $err"; }
                        # A reference appears on a failure only when it was in
                        # place already: the flush of tags/NAME after its rename
                        # failed, or the tree after the image was stored.
                        case $first:$err in
                        "fsync $st/tags/"*/.*) same=1 ;;
                        "fsync $st/tags/"*:* | *:*" is stored, but "*) same= ;;
                        *) same=1 ;;
                        esac
                        [ -z "$same" ] || [ "$(refs "$st")" = "$before" ] || {
                                bad=$((bad + 1)); tap_diag "$what: the references changed: $(refs "$st")"; }
                fi
                b=$(bad_blobs "$st")
                [ -z "$b" ] || { bad=$((bad + 1)); tap_diag "$what: blobs that do not match their name: $b"; }
                run_cmd inj_cmd "$c" "$n"
                [ "$rc" -eq 0 ] || { bad=$((bad + 1)); tap_diag "$what: the plain command then fails: $err"; }
                run_cmd roost --store "$st" verify
                [ "$rc" -eq 0 ] || { bad=$((bad + 1)); tap_diag "$what: verify then fails: $err"; }
        done
        is "$bad" 0 "$c: $POINTS injected write failures, each one line and exit 6, nothing half-published, the next run succeeds"
done
for st in "$I/main" "$I/pull" "$I/imp"; do
        run_cmd roost --store "$st" gc -q
        is "$rc:$(temporaries "$st")" "0:0" "gc leaves no temporary in ${st#"$I"/} after the injections"
done
tap_done
