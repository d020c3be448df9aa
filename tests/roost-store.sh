#!/bin/bash
# roost images, rm, gc, verify, export and import against a real store.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"

S=$TEST_TMP/store S2=$TEST_TMP/store2
ARCH=$(uname -m); [ "$ARCH" = x86_64 ] || ARCH=aarch64
fixture_tarball "$TEST_TMP/rootfs.tar.gz" gz 3.99.1 || skip_all "cannot build the fixture rootfs"

run_cmd roost images --store "$S"
ok $rc "images on an empty store exits 0"
is "$(printf '%s\n' "$out" | wc -l)" 1 "empty store: header only"

sha=$(store-put put "$S" "$TEST_TMP/rootfs.tar.gz" alpine 3.99 "$ARCH" 3.99.1)
ok $? "a fixture image is stored"

run_cmd roost images --store "$S"
like "$out" "^alpine:3.99 +3.99.1 +$ARCH .* [0-9a-f]{12}  -$" "images shows reference, version, arch, short digest, and no signer (- : no verdict recorded)"
run_cmd roost images -q --store "$S"
is "$out" "alpine:3.99" "images -q prints references only"
run_cmd roost images --json --store "$S"
is "$(printf '%s' "$out" | jq -r '.[0].layers[0].digest')" "sha256:$sha" "images --json parses and carries the layer's full digest"
like "$(printf '%s' "$out" | jq -r '.[0].digest')" "^sha256:[0-9a-f]{64}$" "...and the image's"
is "$(printf '%s' "$out" | jq -r 'length')" 1 "images --json is an array of one"

run_cmd roost verify --store "$S"
ok $rc "verify passes on an intact store"
like "$out" "alpine:3.99 .*archive ok" "verify reports the image ok"

# export (an OCI archive: tests/export.sh), and import of the file roost's
# earlier export wrote (roost-image.json, then sha256/<hex>), made here
# from the store, into a second store with no server anywhere.
run_cmd roost export --store "$S" alpine:3.99 "$TEST_TMP/img.oci.tar"
ok $rc "export writes a file"
v1_export "$S" alpine 3.99 "$TEST_TMP/img.tar"
run_cmd roost import --store "$S2" "$TEST_TMP/img.tar"
ok $rc "import of the export succeeds"
run_cmd roost images -q --store "$S2"
is "$out" "alpine:3.99" "the imported image is listed in the second store"
run_cmd roost verify --store "$S2" alpine:3.99
ok $rc "the imported image verifies"
rm -rf "$S2"
roost import --store "$S2" - <"$TEST_TMP/img.tar" >/dev/null
is "$(roost images -q --store "$S2")" "alpine:3.99" "import - reads standard input"

# Today's export through a pipe into another store: the same image.
rm -rf "$S2"
run_cmd sh -c 'roost export --store "$1" alpine:3.99 - | roost import --store "$2" -' - "$S" "$S2"
is "$rc:$(ref_doc "$S2" alpine:3.99 | jq -r .digest)" "0:$(ref_doc "$S" alpine:3.99 | jq -r .digest)" \
        "roost export - | roost import - carries the image, its id unchanged"

# A tampered export: one byte of the archive changed.
cp "$TEST_TMP/img.tar" "$TEST_TMP/bad.tar"
flip_byte "$TEST_TMP/bad.tar" 4000
rm -rf "$S2"
run_cmd roost import --store "$S2" "$TEST_TMP/bad.tar"
is "$rc" 5 "a tampered export is refused with exit 5"
like "$err" "^roost: import: .*(sha512|sha256|checksum)" "the refusal names the failed check"
test ! -e "$S2"; ok $? "nothing of the tampered export is stored: the store it was to make is not left behind"
# The archive already stored: the export's own bytes are still checked,
# or a new reference would take its size and sha512 on trust.
rm -rf "$S2"
roost import --store "$S2" "$TEST_TMP/img.tar" >/dev/null
python3 - "$TEST_TMP/img.tar" "$TEST_TMP/lie.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as dst:
    for m in src.getmembers():
        data = src.extractfile(m).read()
        if m.name.endswith(".json"):
            ref = json.loads(data)
            ref["tag"], ref["sha512"] = "lie", "0" * 128
            data = json.dumps(ref).encode()
        elif m.name.startswith("sha256/"):
            data = data[:-1] + bytes([data[-1] ^ 1])
        m.size = len(data)
        dst.addfile(m, io.BytesIO(data))
PY
run_cmd roost import --store "$S2" "$TEST_TMP/lie.tar"
is "$rc" 5 "an export whose archive is already stored is still checked (exit 5)"
is "$(roost images -q --store "$S2")" "alpine:3.99" "... and its reference is not added"
run_cmd roost import --store "$S2" /etc/passwd
is "$rc" 5 "a non-tar file is refused with exit 5"
like "$err" "^roost: import: /etc/passwd: not an image archive: .*expected .*the tar file that roost export writes, plain or compressed with gzip" \
        "...saying what it expected"
run_cmd roost import --store "$S2" "$TEST_TMP/missing.tar"
is "$rc:$err" "3:roost: import: $TEST_TMP/missing.tar: no such file" "a missing file exits 3, as for pull and unpack, naming it"
# A tar that is no export is a root filesystem, as docker import takes one
# (tests/import.sh): it needs the name to store it under.
run_cmd roost import --store "$S2" "$TEST_TMP/rootfs.tar.gz"
is "$rc" 2 "a tar that is not an export is a root filesystem: without NAME:TAG, exit 2"
like "$err" "root filesystem tarball.*give the image a name, as NAME:TAG" "...saying so"

# An export travels compressed as well: each compression libarchive reads.
for z in gzip xz zstd; do
        if ! command -v $z >/dev/null; then
                skip "an export compressed with $z is imported" "$z is not installed"
                continue
        fi
        $z -c "$TEST_TMP/img.tar" >"$TEST_TMP/img.tar.$z"
        rm -rf "$S2"
        run_cmd roost import --store "$S2" "$TEST_TMP/img.tar.$z"
        is "$rc:$(roost images -q --store "$S2")" "0:alpine:3.99" "an export compressed with $z is imported"
done
rm -rf "$S2"
gzip -c "$TEST_TMP/bad.tar" | roost import --store "$S2" - 2>/dev/null
is "$?" 5 "...and checked as a plain one: a tampered export, gzipped through a pipe, is refused"

# A command that fails (or only reads) in a store that did not exist leaves
# none behind, not even an empty skeleton of blobs/, refs/ and the rest.
N=$TEST_TMP/new/store
run_cmd roost import --store "$N" "$TEST_TMP/bad.tar"
test ! -e "$N"; ok $? "a failed import into a new store leaves no store (exit $rc)"
run_cmd launch --store "$N" --offline alpine:3.99 true
test ! -e "$N"; ok $? "nor does a failed launch (exit $rc)"
run_cmd pull --store "$N" --offline alpine 3.99
test ! -e "$N"; ok $? "nor a failed pull (exit $rc)"
run_cmd roost images --store "$N"
test ! -e "$N"; ok $? "nor a command that only reads (exit $rc)"
mkdir -p "$N"
run_cmd roost import --store "$N" "$TEST_TMP/bad.tar"
is "$(ls -A "$N")" "" "a folder given as the store stays, and as empty as it was"
run_cmd roost import --store "$N" "$TEST_TMP/img.tar"
is "$rc:$(roost images -q --store "$N")" "0:alpine:3.99" "a store that holds something stays"

# verify checks an unpacked tree against the manifest made when it was published
echo lib >"$TEST_TMP/fixture-rootfs-3.99.1/libfoo..so" # a name with "..", not a ".." component
store-put tree "$S" "$sha" "$TEST_TMP/fixture-rootfs-3.99.1"
ok $? "a tree is published for the image"
test -s "$S/trees/$sha/manifest.jsonl"; ok $? "publishing a tree records its manifest"
run_cmd roost verify --store "$S" alpine:3.99
ok $rc "verify passes on an intact tree"
like "$out" "alpine:3.99 .*tree ok" "verify reports the tree ok"
cp -a "$S" "$TEST_TMP/tree-damaged"
T=$TEST_TMP/tree-damaged/trees/$sha/rootfs
echo evil >>"$T/etc/passwd"; chmod 4755 "$T/bin/busybox"; rm "$T/etc/hostname"; touch "$T/etc/new"
ln -sf /etc "$T/var/empty-link"; rm -rf "$T/home" && ln -s /etc "$T/home"
run_cmd roost verify --store "$TEST_TMP/tree-damaged" alpine:3.99
is "$rc" 5 "verify exits 5 on a damaged tree"
like "$err" "tree: /etc/passwd: content changed" "a changed file is named"
like "$err" "tree: /bin/busybox: mode changed" "a changed mode is named"
like "$err" "tree: /etc/hostname: missing" "a removed file is named"
like "$err" "tree: /etc/new: unexpected" "an added file is named"
like "$err" "tree: /home: type changed" "a directory replaced by a symlink is named"
is "$(printf '%s\n' "$err" | grep -c "tree: /")" 6 "one line per damaged path"
like "$(printf '%s\n' "$err" | tail -n 1)" "^roost: verify: alpine:3.99: repair the tree from its archive with: roost unpack --force alpine:3.99$" \
        "... and one naming the repair"
is "$(printf '%s\n' "$err" | grep -c .)" 7 "... nothing else"
run_cmd unpack --store "$TEST_TMP/tree-damaged" alpine:3.99
like "$out" "already unpacked .*--force extracts it again" "unpack without --force leaves the tree, saying how to redo it"
coproc HOLD { store-put use "$TEST_TMP/tree-damaged" "$sha"; }
read -r line <&"${HOLD[0]}"
run_cmd unpack --store "$TEST_TMP/tree-damaged" --force alpine:3.99
is "$rc" 1 "unpack --force refuses a tree a running container uses"
like "$err" "in use by a running container" "... saying so"
exec {HOLD[1]}>&-; wait "$HOLD_PID" 2>/dev/null
run_cmd unpack --store "$TEST_TMP/tree-damaged" -q --force alpine:3.99
is "$rc:$err" "0:" "unpack --force repairs the tree from its archive"
run_cmd roost verify --store "$TEST_TMP/tree-damaged" alpine:3.99
is "$rc" 0 "... which then verifies: $err"
is "$(cat "$T/etc/hostname" 2>/dev/null)" "$(tar -xzOf "$TEST_TMP/rootfs.tar.gz" ./etc/hostname 2>/dev/null || tar -xzOf "$TEST_TMP/rootfs.tar.gz" etc/hostname)" \
        "... the removed file is back"
[ ! -e "$T/etc/new" ]; ok $? "... the added one gone"
is "$(ls "$TEST_TMP/tree-damaged/tmp" | wc -l)" 0 "... and the old tree is not left behind"

# verify finds a flipped byte in a stored blob
cp -a "$S" "$TEST_TMP/damaged"
chmod u+w "$TEST_TMP/damaged/blobs/sha256/$sha"
flip_byte "$TEST_TMP/damaged/blobs/sha256/$sha" 100
run_cmd roost verify --store "$TEST_TMP/damaged"
is "$rc" 5 "verify exits 5 on a damaged blob"
like "$err" "alpine:3.99: archive ${sha:0:12}: checksum mismatch" "verify names the damaged archive"
store-put tree "$TEST_TMP/damaged" "$sha" "$TEST_TMP/fixture-rootfs-3.99.1" 2>/dev/null
run_cmd unpack --store "$TEST_TMP/damaged" --force alpine:3.99
is "$rc" 5 "unpack --force will not repair from a damaged archive"
like "$err" "archive is damaged too" "... saying what to do instead: $err"

# rm refuses an image a running container uses
coproc HOLD { store-put use "$S" "$sha"; }
read -r line <&"${HOLD[0]}"
run_cmd roost rm --store "$S" alpine:3.99
is "$rc" 1 "rm of an image in use is refused"
like "$err" "used by a running container" "the refusal says why"
# Another tag of the same layers goes: the layer in use stays, held by
# alpine:3.99 (found by tests/soak.sh, whose imports of a running image
# could never be removed).
run_cmd roost tag --store "$S" alpine:3.99 alpine:other
run_cmd roost rm --store "$S" alpine:other
is "$rc" 0 "rm of another tag of the layers in use is allowed ($err)"
like "$out" "removed alpine:other .*1 of its 1 layers stay" "... and says the layer stays"
run_cmd roost rm --store "$S" alpine:3.99
is "$rc" 1 "... while the last reference to them is still refused"
mkdir -p "$S/tags/broken" && printf '{not json' >"$S/tags/broken/1"
run_cmd roost rm --store "$S" alpine:3.99
like "$err" "used by a running container \(and tags/broken/1, which might hold its layer, could not be read\); stop it first$" \
        "... naming a reference that could not be read, which might have kept the layer"
rm -rf "$S/tags/broken"
exec {HOLD[1]}>&-; wait "$HOLD_PID" 2>/dev/null

run_cmd roost rm --store "$S" alpine:nope
is "$rc" 3 "rm of an unknown image exits 3"
run_cmd roost rm --store "$S" '../etc'
is "$rc" 2 "rm of an invalid name exits 2"

# A reference that cannot be read: gc removes nothing (the archive it
# names would look unreferenced), images and verify say so, rm removes it.
mkdir -p "$S/tags/broken" && printf '{not json' >"$S/tags/broken/1"
run_cmd roost gc --store "$S"
is "$rc" 6 "gc refuses to run past an unreadable reference (exit 6)"
like "$err" "tags/broken/1 cannot be read.*roost rm NAME:TAG$" "... naming it, and the rm that removes it"
test -f "$S/blobs/sha256/$sha"; ok $? "... and removes nothing"
run_cmd roost images --store "$S"
like "$err" "tags/broken/1 cannot be read" "images warns about it"
run_cmd roost verify --store "$S"
is "$rc" 5 "verify counts it as damage"
run_cmd roost rm --store "$S" broken:1
is "$rc:$out" "0:removed broken:1 ($ARCH), which could not be read" "rm removes an unreadable reference"
# What roost never writes there (a directory, a symlink, a name no
# reference has) is no reference: it does not stop gc.
mkdir -p "$S/tags/x/dir" && ln -s /etc/passwd "$S/tags/x/link" && echo '{' >"$S/tags/x/Bad Name" && mkdir "$S/tags/Bad%Name"
run_cmd roost gc --store "$S" -q
is "$rc" 0 "a directory, a symlink or an invalid name under tags/ does not stop gc"
rm -rf "$S/tags/x" "$S/tags/Bad%Name"

# gc: abandoned temporaries and partials go; referenced blobs stay
mkdir -p "$S/tmp/999999999.deadbeef/rootfs" && touch "$S/partial/$(printf '%064d' 0)"
echo '{' >"$S/tags/alpine/.3.99.Xk2Jq9.tmp" # a reference's write cut short
run_cmd roost gc --store "$S"
ok $rc "gc exits 0"
like "$out" "removed 0 blobs, 0 trees, 1 partial downloads, 2 temporaries, [0-9]+ cgroups" "gc reports what it removed"
test ! -e "$S/tags/alpine/.3.99.Xk2Jq9.tmp"; ok $? "gc removes a reference's leftover temporary"
test -f "$S/blobs/sha256/$sha"; ok $? "gc keeps a referenced blob"
run_cmd roost rm --store "$S" alpine:3.99
ok $rc "rm removes the reference"
test -f "$S/blobs/sha256/$sha"; ok $? "rm without --prune leaves the blob for gc"
run_cmd roost gc --store "$S"
like "$out" "removed 4 blobs, 1 trees" "gc removes the unreferenced image (archive, config, manifest, index) and tree"
test ! -e "$S/blobs/sha256/$sha"; ok $? "the blob is gone"
tap_done
