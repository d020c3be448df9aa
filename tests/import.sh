#!/bin/bash
# roost import of what the container world writes: OCI layouts (umoci's
# directory, skopeo's and podman's oci-archive), docker-archives (skopeo's
# and podman's), root filesystem tarballs and roost's earlier export; and
# hostile or damaged inputs, each refused with one line, the documented exit
# code and no reference. Inputs are made here by the real tools, offline.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
for t in umoci skopeo jq python3; do
        command -v $t >/dev/null || skip_all "$t is not installed (.ci/packages lists it)"
done
[ "$(uname -m)" = x86_64 ] || skip_all "the platform cases are written for an x86_64 host"

T=$TEST_TMP
S=$T/store
HS=$T/hostile-store
ARCH=x86_64

# ---- the image: two layers made by umoci, the second whiting out a file ----
make_rootfs "$T/rootfs" 3.99.0 || skip_all "cannot build the fixture rootfs"
umoci init --layout "$T/lay" &&
        umoci new --image "$T/lay:base" &&
        umoci unpack --image "$T/lay:base" "$T/bundle" >/dev/null &&
        cp -a "$T/rootfs/." "$T/bundle/rootfs/" &&
        umoci repack --image "$T/lay:base" "$T/bundle" &&
        rm -rf "$T/bundle" &&
        umoci unpack --image "$T/lay:base" "$T/bundle" >/dev/null &&
        rm "$T/bundle/rootfs/etc/hostname" &&
        echo two >"$T/bundle/rootfs/etc/layer2" &&
        umoci repack --image "$T/lay:base" "$T/bundle" &&
        umoci config --image "$T/lay:base" --config.cmd /bin/sh
ok $? "umoci builds a two-layer image whose second layer whites out /etc/hostname"
rm -rf "$T/bundle"

skopeo_digest() { skopeo inspect "$1" | jq -r .Digest; }
# digest_of STORE NAME:TAG [ARCH]: the image id roost images --json shows.
digest_of() { ref_doc "$1" "$2" "${3:-}" | jq -r .digest; }
# refused WHAT RC ERR-REGEX: the last run_cmd failed with RC, one line
# matching ERR-REGEX, and the hostile store holds no reference.
refused() {
        is "$rc" "$2" "$1: exit $2"
        like "$err" "$3" "$1: says why"
        is "$(printf '%s\n' "$err" | grep -c .)" 1 "$1: in one line"
        is "$(roost images -q --store "$HS" 2>/dev/null)" "" "$1: leaves no reference"
}

LAYOUT_DIGEST=$(skopeo_digest "oci:$T/lay:base")
like "$LAYOUT_DIGEST" '^sha256:[0-9a-f]{64}$' "skopeo inspect reads the layout"

# ---- an OCI layout directory ----
run_cmd roost import --store "$S" "$T/lay"
refused "a layout whose image is named only by its tag, without NAME:TAG" 2 \
        "^roost: import: $T/lay: the image is named only by its tag 'base': give it a name, as NAME:TAG"
test ! -e "$S"; ok $? "... and makes no store"
run_cmd roost import --store "$S" "$T/lay" test/dir:1
is "$rc:$err" "0:" "a layout directory with NAME:TAG is imported"
like "$out" "^imported test/dir:1 \(x86_64, OCI layout, 2 layers\) $LAYOUT_DIGEST$" "... saying what it stored"
doc=$(ref_doc "$S" test/dir:1)
is "$(jq -r .digest <<<"$doc")" "$LAYOUT_DIGEST" "the image id is skopeo inspect's digest (manifest kept byte for byte)"
is "$(jq -r '.layers | length' <<<"$doc")" 2 "roost images --json shows its two layers"
is "$(jq -r .source <<<"$doc")" "file://$T/lay" "the source recorded is the directory imported"
cfg=$(jq -r .config <<<"$doc" | sed 's/^sha256://')
cmp -s "$S/blobs/sha256/$cfg" "$T/lay/blobs/sha256/$cfg"; ok $? "the config is stored byte for byte"

# ---- skopeo's oci-archive, as a file and through a pipe ----
skopeo copy -q "oci:$T/lay:base" "oci-archive:$T/oci.tar:base" &&
        skopeo copy -q "oci:$T/lay:base" "oci-archive:$T/oci-named.tar:example.org/team/two:1.0"
ok $? "skopeo writes oci-archives"
is "$(skopeo_digest "oci-archive:$T/oci.tar")" "$LAYOUT_DIGEST" "skopeo's oci-archive has the layout's digest"
run_cmd roost import --store "$S" "$T/oci.tar" test/archive:1
is "$rc:$(digest_of "$S" test/archive:1)" "0:$LAYOUT_DIGEST" "an oci-archive is imported, with skopeo inspect's digest"
run_cmd roost import --store "$S" "$T/oci-named.tar"
is "$rc:$err" "0:" "an oci-archive whose ref.name is a full reference needs no NAME:TAG"
is "$(digest_of "$S" example.org/team/two:1.0)" "$LAYOUT_DIGEST" "... and is stored under it"
gzip -c "$T/oci.tar" >"$T/oci.tar.gz"
run_cmd sh -c "roost import --store '$S' - test/piped:1 <'$T/oci.tar.gz'"
is "$rc:$(digest_of "$S" test/piped:1)" "0:$LAYOUT_DIGEST" "a gzipped oci-archive through standard input"
is "$(ref_doc "$S" test/piped:1 | jq -r .source)" null "... records no source (there is no file)"
is "$(ls -A "$S/tmp")" "" "... and its spooled copy is gone from tmp/"

# ---- skopeo's docker-archive: manifest.json last, plain tar layers ----
skopeo copy -q "oci:$T/lay:base" "docker-archive:$T/docker.tar:test/docker:1.0"
ok $? "skopeo writes a docker-archive"
is "$(tar -tf "$T/docker.tar" | tail -n 2 | head -n 1)" manifest.json "... with manifest.json at its end"
run_cmd sh -c "roost import --store '$S' - <'$T/docker.tar'"
is "$rc:$err" "0:" "a docker-archive is imported from standard input"
doc=$(ref_doc "$S" docker.io/test/docker:1.0)
is "$(jq -r '.layers | length' <<<"$doc")" 2 "... under its RepoTags name, with two layers"
is "$(jq -r .config <<<"$doc")" "sha256:$(tar -xOf "$T/docker.tar" manifest.json | jq -r '.[0].Config' | sed 's/\.json$//')" \
        "... its config stored as it came"
manifest=$(jq -r .digest <<<"$doc" | sed 's/^sha256://')
is "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$S/blobs/sha256/$manifest")" \
        application/vnd.oci.image.layer.v1.tar "... in an OCI manifest naming its plain tar layers"

# ---- unpack: one tree per layer (whiteout as overlayfs's), and flattened ----
run_cmd unpack --store "$S" test/archive:1
is "$rc" 0 "unpack of the imported image: $err"
l1=$(ref_doc "$S" test/archive:1 | jq -r '.layers[0].digest' | sed 's/^sha256://')
l2=$(ref_doc "$S" test/archive:1 | jq -r '.layers[1].digest' | sed 's/^sha256://')
is "$(cat "$S/trees/$l1/rootfs/etc/alpine-release")" 3.99.0 "the bottom layer's tree has the files"
is "$(stat -c '%F %t:%T' "$S/trees/$l2/rootfs/etc/hostname" 2>&1)" "character special file 0:0" \
        "the top layer's tree has the whiteout as overlayfs's 0/0 device"
is "$(cat "$S/trees/$l2/rootfs/etc/layer2")" two "... and its own file"
run_cmd unpack "$S/blobs/sha256/$l1" "$S/blobs/sha256/$l2" "$T/flat"
is "$rc" 0 "the two stored layers flatten with unpack FILE... DIR: $err"
test ! -e "$T/flat/etc/hostname" && test -f "$T/flat/etc/layer2" && test -x "$T/flat/bin/busybox"
ok $? "... with the whiteout applied: /etc/hostname gone, /etc/layer2 and busybox there"

# ---- the imported image runs, stacked, and goes out again unchanged ----
# (launch gives every container its own /etc/hostname: the whiteout is
# seen in the flattened tree above, not here)
run_cmd launch --store "$S" -q test/archive:1 sh -c 'cat /etc/layer2 /etc/alpine-release'
is "$rc:$out" "0:$(printf 'two\n3.99.0')" "launch runs the imported two-layer image, its layers stacked"
run_cmd roost export --store "$S" test/archive:1 "$T/again.tar"
is "$rc:$(skopeo inspect "oci-archive:$T/again.tar" | jq -r .Digest)" "0:$(ref_doc "$S" test/archive:1 | jq -r .digest)" \
        "roost export gives it back with the same digest, as skopeo reads it"

# ---- podman save, from a private containers-storage ----
if command -v podman >/dev/null; then
        # In a private mount namespace whose /run and /var/lib are empty
        # tmpfs: podman writes /run/containers and /var/lib/containers/cache
        # whatever it is told, and tests beside this one run podman too.
        P() {
                unshare -m --propagation private sh -c \
                        'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib && exec "$@"' sh \
                        podman --root "$T/podman" --runroot "$T/podman-run" --storage-driver vfs \
                        --events-backend none --cgroup-manager cgroupfs --tmpdir "$T/podman-tmp" "$@"
        }
        mkdir -p "$T/podman-tmp"
        tap_at_exit "rm -rf '$T/podman' '$T/podman-run'"
        P load -q -i "$T/oci.tar" >/dev/null 2>"$T/podman.err" && P tag localhost/base:latest localhost/test/pod:2 &&
                P save -q --format oci-archive -o "$T/podman-oci.tar" localhost/test/pod:2 2>>"$T/podman.err" &&
                P save -q --format docker-archive -o "$T/podman-docker.tar" localhost/test/pod:2 2>>"$T/podman.err"
        ok $? "podman saves oci-archive and docker-archive from a private vfs store"
        [ -s "$T/podman.err" ] && tap_diag "podman: $(tail -3 "$T/podman.err")"
        run_cmd roost import --store "$S" "$T/podman-oci.tar"
        is "$rc:$err" "0:" "podman's oci-archive is imported"
        is "$(digest_of "$S" localhost/test/pod:2)" "$(skopeo_digest "oci-archive:$T/podman-oci.tar")" \
                "... under its ref.name, with skopeo inspect's digest"
        run_cmd roost import --store "$S" "$T/podman-docker.tar" test/pod-docker:2
        is "$rc:$(ref_doc "$S" test/pod-docker:2 | jq -r '.layers | length')" "0:2" \
                "podman's docker-archive is imported under the NAME:TAG given"
else
        for d in "podman saves" "podman's oci-archive" "... its digest" "podman's docker-archive"; do
                skip "$d" "podman is not installed"
        done
fi

# ---- platforms: a nested index of amd64 and arm64 ----
umoci config --image "$T/lay:base" --tag arm --architecture arm64 &&
        digests=$(python3 - "$T/lay" "$T/multi" <<'PY'
import hashlib, json, os, shutil, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
idx = json.load(open(f"{dst}/index.json"))
byname = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{dst}/blobs/sha256/{h}", "wb").write(data)
    return h
ms = []
for tag, arch in (("base", "amd64"), ("arm", "arm64")):
    m = dict(byname[tag]); del m["annotations"]
    m["platform"] = {"architecture": arch, "os": "linux"}
    ms.append(m)
nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": ms}).encode()
h = blob(nested)
# The store's own annotations in the input are not to be believed.
top = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": "sha256:" + h, "size": len(nested),
        "annotations": {"org.opencontainers.image.ref.name": "example.org/multi:1",
                        "roost.source": "https://mirror.example/verified", "roost.sha512": "0" * 128,
                        "roost.version": "9.9.9"}}]}
open(f"{dst}/index.json", "w").write(json.dumps(top))
print(byname["base"]["digest"], byname["arm"]["digest"])
PY
)
ok $? "a layout whose index.json names a nested index of amd64 and arm64"
read -r AMD ARM <<<"$digests"
tar -C "$T/multi" -cf "$T/multi.tar" .
run_cmd roost import --store "$S" "$T/multi.tar"
is "$rc:$(digest_of "$S" example.org/multi:1)" "0:$AMD" "the host's platform is chosen from a nested index"
doc=$(ref_doc "$S" example.org/multi:1)
is "$(jq -r '[.source, .sha512, .version] | join(" ")' <<<"$doc")" "file://$T/multi.tar  " \
        "roost.* annotations in the input are not believed: the source is the file, no sha512 or version"
run_cmd roost import --store "$S" --arch aarch64 "$T/multi.tar"
is "$rc:$(digest_of "$S" example.org/multi:1 aarch64)" "0:$ARM" "--arch aarch64 takes the arm64 manifest"
is "$(ref_doc "$S" example.org/multi:1 aarch64 | jq -r .arch)" aarch64 "... recorded as aarch64, beside x86_64"
run_cmd roost import --store "$HS" --arch armv7 "$T/multi.tar"
refused "a platform the index does not have" 3 "no image for armv7 in it \(it has: x86_64, aarch64\)"
run_cmd roost import --store "$HS" --arch aarch64 "$T/oci.tar" x:1
refused "--arch naming another platform than a single image's" 3 "no image for aarch64 in it \(it has: x86_64\)"

# ---- a root filesystem tarball, as docker import takes it ----
fixture_tarball "$T/rootfs.tar.gz" gz 3.99.0 && fixture_tarball "$T/rootfs.tar" none 3.99.0
run_cmd roost import --store "$HS" "$T/rootfs.tar.gz"
refused "a rootfs tarball without NAME:TAG" 2 "a root filesystem tarball .*give the image a name, as NAME:TAG"
run_cmd roost import --store "$S" "$T/rootfs.tar.gz" test/rootfs:1
is "$rc:$err" "0:" "a gzip rootfs tarball with NAME:TAG is imported"
doc=$(ref_doc "$S" test/rootfs:1)
is "$(jq -r '.layers[0].digest' <<<"$doc")" "sha256:$(sha256sum <"$T/rootfs.tar.gz" | cut -d' ' -f1)" \
        "... its one layer is the file itself"
cfg=$(jq -r .config <<<"$doc" | sed 's/^sha256://')
is "$(jq -c '[.architecture, .config.Env, .config.Cmd]' "$S/blobs/sha256/$cfg")" \
        "[\"amd64\",[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],null]" "... its config: the platform, PATH, no Cmd (docker import's)"
run_cmd roost import --store "$S" --arch aarch64 "$T/rootfs.tar" test/rootfs:1
is "$rc:$(ref_doc "$S" test/rootfs:1 aarch64 | jq -r '.layers[0].digest')" "0:sha256:$(sha256sum <"$T/rootfs.tar" | cut -d' ' -f1)" \
        "a plain tar rootfs for --arch aarch64 is stored as it is"
run_cmd roost import --store "$S" "$T/rootfs.tar.gz" test/rootfs-again:1
is "$(digest_of "$S" test/rootfs-again:1)" "$(digest_of "$S" test/rootfs:1)" "the same tarball imported again is the same image"
run_cmd unpack --store "$S" test/rootfs:1
is "$rc:$(cat "$S/trees/$(ref_doc "$S" test/rootfs:1 | jq -r '.layers[0].digest' | sed 's/^sha256://')/rootfs/etc/alpine-release")" \
        "0:3.99.0" "... and unpacks"

# ---- roost's earlier export still imports ----
sha=$(store-put put "$T/old-store" "$T/rootfs.tar.gz" alpine 3.99 "$ARCH" 3.99.0) &&
        v1_export "$T/old-store" alpine 3.99 "$T/export.tar"
ok $? "an export in roost's earlier format is made"
run_cmd roost import --store "$S" "$T/export.tar"
is "$rc:$(ref_doc "$S" alpine:3.99 | jq -r '[.version, .sha256] | join(" ")')" "0:3.99.0 $sha" \
        "roost's export imports as before, its reference with it"
like "$out" "roost export, 1 layer" "... recognised as one"

# ---- damaged, tampered and hostile inputs ----
# layout_copy NAME: a copy of the layout to damage; LAYERS: its base
# manifest's layer digests.
layout_copy() { rm -rf "$T/$1"; cp -a "$T/lay" "$T/$1"; }
M=$(echo "$LAYOUT_DIGEST" | sed 's/^sha256://')
L1=$(jq -r '.layers[0].digest' "$T/lay/blobs/sha256/$M" | sed 's/^sha256://')

layout_copy flipped
chmod u+w "$T/flipped/blobs/sha256/$L1"
flip_byte "$T/flipped/blobs/sha256/$L1" 200
run_cmd roost import --store "$HS" "$T/flipped" t:1
refused "a layout with a blob whose bytes do not match its name" 5 "layer 1 does not hash to sha256:${L1:0:12}"
tar -C "$T/flipped" -cf "$T/flipped.tar" .
run_cmd roost import --store "$HS" "$T/flipped.tar" t:1
refused "an archive with a blob whose bytes do not match its name" 5 "tampered or damaged"

head -c $(($(stat -c %s "$T/oci.tar") / 2)) "$T/oci.tar" >"$T/truncated.tar"
run_cmd roost import --store "$HS" "$T/truncated.tar" t:1
refused "a truncated oci-archive" 5 "truncated|cut short|reading"
head -c $(($(stat -c %s "$T/docker.tar") - 3000)) "$T/docker.tar" | roost import --store "$HS" - t:1 >/dev/null 2>"$T/err"
rc=$? err=$(cat "$T/err")
refused "a truncated docker-archive through a pipe" 5 "."

layout_copy missing
rm -f "$T/missing/blobs/sha256/$L1"
run_cmd roost import --store "$HS" "$T/missing" t:1
refused "a manifest naming a missing blob" 5 "the manifest names layer 1 \(sha256:${L1:0:12}…\), which is not in it"
roost import --store "$T/fresh" "$T/missing" t:1 2>/dev/null
test ! -e "$T/fresh"; ok $? "... refused before anything is stored: not even the store is made"

python3 - "$T/oci.tar" "$T/dotdot.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    m = tarfile.TarInfo("blobs/sha256/../../x"); m.size = 2
    dst.addfile(m, io.BytesIO(b"x\n"))
PY
python3 - "$T/oci.tar" "$T/twice.tar" "$L1" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    m = tarfile.TarInfo("./blobs/sha256/" + sys.argv[3]); m.size = 5
    dst.addfile(m, io.BytesIO(b"evil\n"))
PY
run_cmd roost import --store "$HS" "$T/twice.tar" t:1
refused "an archive holding a layer twice, the second copy other bytes" 5 "blobs/sha256/${L1:0:12}.* is in the archive twice"
python3 - "$T/oci.tar" "$T/index-twice.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    m = tarfile.TarInfo("index.json"); data = b'{"schemaVersion":2,"manifests":[]}'; m.size = len(data)
    dst.addfile(m, io.BytesIO(data))
PY
run_cmd roost import --store "$HS" "$T/index-twice.tar" t:1
refused "an archive holding index.json twice" 5 "index.json is in the archive twice"
run_cmd roost import --store "$HS" "$T/dotdot.tar" t:1
refused "an archive entry blobs/sha256/../../x" 5 "entry 'blobs/sha256/../../x' would leave the archive"
python3 - "$T/docker.tar" "$T/docker-dotdot.tar" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as src, tarfile.open(sys.argv[2], "w") as dst:
    for m in src.getmembers():
        data = src.extractfile(m).read() if m.isfile() else None
        if m.name == "manifest.json":
            doc = json.loads(data); doc[0]["Layers"][0] = "../../etc/passwd"; data = json.dumps(doc).encode()
            m.size = len(data)
        dst.addfile(m, io.BytesIO(data) if data is not None else None)
PY
run_cmd roost import --store "$HS" "$T/docker-dotdot.tar" t:1
refused "a docker-archive whose manifest.json names ../../etc/passwd" 5 "'../../etc/passwd', outside the archive"
layout_copy escape
rm -f "$T/escape/blobs/sha256/$L1" && ln -s /etc/passwd "$T/escape/blobs/sha256/$L1"
run_cmd roost import --store "$HS" "$T/escape" t:1
refused "a layout whose blob is a symlink out of it" 5 "leads out of the layout"

layout_copy huge
python3 - "$T/huge/index.json" <<'PY'
import json, sys
idx = json.load(open(sys.argv[1]))
idx["annotations"] = {"pad": "x" * (5 << 20)}
open(sys.argv[1], "w").write(json.dumps(idx))
PY
run_cmd roost import --store "$HS" "$T/huge" t:1
refused "a 5 MiB index.json in a layout" 5 "index.json is [0-9]+ bytes, more than the 4 MiB"
tar -C "$T/huge" -cf "$T/huge.tar" .
run_cmd roost import --store "$HS" "$T/huge.tar" t:1
refused "... and in an archive" 5 "index.json is [0-9]+ bytes, more than the 4 MiB"

# retype NAME JQ-FILTER: a copy of the layout whose base manifest is
# rewritten by JQ-FILTER (and index.json pointed at the new one).
retype() {
        layout_copy "$1"
        local new size
        jq -c "$2" "$T/lay/blobs/sha256/$M" >"$T/$1/m.json" || return 1
        new=$(sha256sum <"$T/$1/m.json" | cut -d' ' -f1) size=$(stat -c %s "$T/$1/m.json")
        mv "$T/$1/m.json" "$T/$1/blobs/sha256/$new"
        jq -c --arg d "sha256:$new" --argjson s "$size" '.manifests[0].digest = $d | .manifests[0].size = $s' \
                "$T/lay/index.json" >"$T/$1/index.json"
}
retype zstd '.layers[1].mediaType = "application/vnd.oci.image.layer.v1.tar+zstd"'
run_cmd roost import --store "$HS" "$T/zstd" t:1
refused "a zstd layer" 1 "layer 2 is zstd-compressed .*roost stores gzip and plain tar layers"
retype foreign '.layers[0].mediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"'
run_cmd roost import --store "$HS" "$T/foreign" t:1
refused "a foreign layer" 1 "layer 1 is a foreign layer"
retype unknown '.layers[0].mediaType = "application/x-roost-test"'
run_cmd roost import --store "$HS" "$T/unknown" t:1
refused "an unknown layer media type" 1 "media type application/x-roost-test, which roost does not store"
retype short '.layers[0].size -= 1'
run_cmd roost import --store "$HS" "$T/short" t:1
refused "a descriptor whose size is not the blob's" 5 "its descriptor says"
python3 - "$T/lay" "$T/diffid" "$M" <<'PY'
import hashlib, json, shutil, sys
src, dst, m = sys.argv[1:]
shutil.copytree(src, dst)
def put(data):
    h = hashlib.sha256(data).hexdigest(); open(f"{dst}/blobs/sha256/{h}", "wb").write(data); return h, len(data)
man = json.load(open(f"{src}/blobs/sha256/{m}"))
cfg = json.load(open(f"{src}/blobs/sha256/{man['config']['digest'][7:]}"))
cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
h, n = put(json.dumps(cfg).encode()); man["config"]["digest"], man["config"]["size"] = "sha256:" + h, n
h, n = put(json.dumps(man).encode())
idx = json.load(open(f"{src}/index.json")); idx["manifests"][0]["digest"], idx["manifests"][0]["size"] = "sha256:" + h, n
open(f"{dst}/index.json", "w").write(json.dumps(idx))
PY
run_cmd roost import --store "$HS" "$T/diffid" t:1
refused "a config whose diff_id is not its layer's" 5 "layer 2 unpacks to sha256:.*the config's diff_id says sha256:000000"

run_cmd roost import --store "$HS" "$T/rootfs" t:1
refused "a directory that is no OCI layout" 5 "not an OCI image layout"
run_cmd roost import --store "$HS" "$T/nothing-here.tar" t:1
refused "a file that does not exist" 3 "$T/nothing-here.tar: no such file"
run_cmd roost import --store "$HS" "$T/oci.tar" 'Bad Name'
is "$rc" 2 "an invalid NAME:TAG is a usage error"

# What failed left the store as good as it was: it verifies, and gc
# collects what the failures stored before they were refused.
if [ -e "$HS" ]; then
        run_cmd roost verify --store "$HS"
        is "$rc" 0 "the store the refusals used verifies: $err"
        run_cmd roost gc --store "$HS"
        is "$rc" 0 "... and gc collects what they left: $out"
else
        ok 0 "the refusals left no store at all"
        ok 0 "... so there is nothing for gc"
fi
run_cmd roost verify --store "$S"
is "$rc" 0 "every image imported verifies: $err"
tap_done
