#!/bin/bash
# What a reference means among the stored images. A bare name in launch,
# unpack, verify and export is the newest image of that name stored for
# the architecture (by release version, else the last pulled), never the
# mirror's latest; an exact release matches whatever tag pulled it; rm of
# a bare name removes only an image that leaves no doubt; a pull that
# launch runs fails with launch's own lines and what to do. Then the
# product's story with Alpine's real 3.20.3, when its mirror copy is
# present: pull alpine 3.20, then launch alpine with no network at all.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
require_root
case $(uname -m) in
x86_64) ARCH=x86_64 OTHER=aarch64 ;;
aarch64) ARCH=aarch64 OTHER=x86_64 ;;
*) skip_all "no Alpine build named for $(uname -m) here" ;;
esac
for v in 3.99.2 3.98.5 3.100.0; do
        rootfs_tarball "$TEST_TMP/rootfs-$v.tar.gz" "$v" || skip_all "cannot build the fixture rootfs"
done

# Whatever reaches for a mirror here reaches one that cannot answer, at
# once: a test that passes proves nothing was pulled.
export ROOST_MIRROR=https://127.0.0.1:9/alpine ROOST_RETRIES=0
S=$TEST_TMP/store
# Pulled newest first: the most recently pulled (3.98) is not the newest,
# and another architecture holds a newer one still.
store-put put "$S" "$TEST_TMP/rootfs-3.99.2.tar.gz" alpine 3.99 "$ARCH" 3.99.2 >/dev/null &&
        sleep 1 &&
        store-put put "$S" "$TEST_TMP/rootfs-3.98.5.tar.gz" alpine 3.98 "$ARCH" 3.98.5 >/dev/null &&
        store-put put "$S" "$TEST_TMP/rootfs-3.100.0.tar.gz" alpine 3.100 "$OTHER" 3.100.0 >/dev/null ||
        skip_all "store-put failed"

run_cmd launch --store "$S" alpine cat /etc/alpine-release
is "$rc:$out" "0:3.99.2" "launch alpine runs the newest stored alpine, 3.99.2, without pulling"
like "$err" "unpacked alpine:3\\.99 " "... unpacking it first, as it was only pulled"
is "$(grep -c resolving <<<"$err")" 0 "... and never runs pull"
run_cmd unpack --store "$S" alpine
is "$rc" 0 "unpack alpine finds a stored image"
like "$out" "alpine:3\\.99 \\($ARCH\\) is already unpacked" "... the newest, 3.99"
run_cmd unpack --store "$S" alpine --to "$TEST_TMP/out"
is "$rc:$(cat "$TEST_TMP/out/etc/alpine-release" 2>/dev/null)" "0:3.99.2" "unpack alpine --to exports the newest"
run_cmd unpack --store "$S" --arch "$OTHER" alpine --to "$TEST_TMP/out-other"
is "$(cat "$TEST_TMP/out-other/etc/alpine-release" 2>/dev/null)" 3.100.0 "--arch chooses among that architecture's"
run_cmd roost verify --store "$S" alpine
is "$rc:$out" "0:alpine:3.99 ($ARCH): archive ok
alpine:3.99 ($ARCH): tree ok" "roost verify alpine checks the newest stored"
run_cmd roost export --store "$S" alpine "$TEST_TMP/alpine.tar"
m=$(tar -xOf "$TEST_TMP/alpine.tar" index.json 2>/dev/null | jq -r '.manifests[0].digest | sub("^sha256:"; "")')
is "$rc:$(tar -xOf "$TEST_TMP/alpine.tar" "blobs/sha256/$m" 2>/dev/null |
        jq -r '.annotations["org.opencontainers.image.version"]')" "0:3.99.2" \
        "roost export alpine writes the newest stored"

# An exact release: stored under its branch's tag, it is found all the same.
run_cmd launch --store "$S" alpine:3.98.5 cat /etc/alpine-release
is "$rc:$out" "0:3.98.5" "launch alpine:3.98.5 runs the image pulled as alpine:3.98"
is "$(grep -c resolving <<<"$err")" 0 "... without running pull"
run_cmd unpack --store "$S" alpine:3.99.2 --to "$TEST_TMP/out-exact"
is "$rc:$(cat "$TEST_TMP/out-exact/etc/alpine-release" 2>/dev/null)" "0:3.99.2" "unpack alpine:3.99.2 finds alpine:3.99"
run_cmd roost verify --store "$S" alpine:3.98.5
like "$rc:$out" "^0:alpine:3\\.98 \\($ARCH\\): archive ok" "roost verify alpine:3.98.5 checks alpine:3.98"
run_cmd unpack --store "$S" alpine:3.98.4
is "$rc" 3 "another release of the branch is not that image (exit 3)"

# A pull that launch runs fails in launch's words, and says what to do.
run_cmd launch -q --store "$S" alpine:3.97 true
is "$rc" 125 "launch of an image the dead mirror cannot give: 125"
is "$(grep -vc '^launch: ' <<<"$err")" 0 "... every line of it (-q: no progress) is launch's, none pull's"
like "$(tail -1 <<<"$err")" "^launch: alpine:3\\.97 could not be pulled\\..*--mirror file://.*ROOST_MIRROR.*--offline" \
        "... the last says what to do without the network"
like "$(tail -1 <<<"$err")" "stored for $ARCH, newest first: alpine:3\\.99 \\(3\\.99\\.2\\), alpine:3\\.98 \\(3\\.98\\.5\\)" \
        "... and names the stored images it could have meant, newest first"
run_cmd launch --store "$S" --offline alpine:3.97 true
is "$rc" 125 "launch --offline of an image not stored: 125"
like "$err" "^launch: alpine:3\\.97 \\($ARCH\\) is not stored" "... launch's line says which"
like "$(tail -1 <<<"$err")" "^launch: --offline runs only stored images.*stored for $ARCH, newest first: alpine:3\\.99 " \
        "... and the next the images that would run"
run_cmd launch --store "$TEST_TMP/empty" --offline alpine true
like "$(tail -1 <<<"$err")" "^launch: .*no alpine is stored for $ARCH" "with none stored, it says so"

# rm: a bare name removes only the one image it can mean.
run_cmd roost rm --store "$S" alpine
is "$rc" 2 "roost rm alpine with two stored: exit 2"
like "$err" "^roost: rm: alpine means 2 images for $ARCH: alpine:3\\.99 \\(3\\.99\\.2\\), alpine:3\\.98 \\(3\\.98\\.5\\); nothing removed" \
        "... it lists them"
is "$(roost images -q --store "$S" | sort | tr '\n' ' ')" "alpine:3.100 alpine:3.98 alpine:3.99 " "... and removes nothing"
roost rm -q --store "$S" alpine:3.98
run_cmd roost rm --store "$S" alpine
is "$rc:$out" "0:removed alpine:3.99 ($ARCH)" "with one stored for the architecture, rm alpine removes it"
is "$(roost images -q --store "$S")" "alpine:3.100" "... and only it"
run_cmd roost rm --store "$S" alpine
is "$rc" 3 "with none stored, rm alpine: exit 3"

# The product's story, offline: pull alpine 3.20, then launch alpine.
if ! have_alpine_mirror; then
        skip "pull alpine 3.20, then launch alpine offline" "no Alpine mirror at $ALPINE_MIRROR_DIR"
elif ! unshare --net true 2>/dev/null; then
        skip "pull alpine 3.20, then launch alpine offline" "unshare --net is not available"
else
        AS=$TEST_TMP/astore
        run_cmd pull --store "$AS" --mirror "file://$ALPINE_MIRROR_DIR/alpine" -q alpine 3.20
        is "$rc" 0 "pull alpine 3.20 from the mirror's copy"
        # No network at all (a namespace of its own with nothing in it), and
        # no mirror named: what launch needs must come from the store.
        run_cmd env -u ROOST_MIRROR unshare --net launch --store "$AS" alpine cat /etc/alpine-release
        is "$rc:$out" "0:3.20.3" "then launch alpine, with no network and no mirror, runs Alpine 3.20.3"
        is "$(grep -c resolving <<<"$err")" 0 "... and never runs pull"
        run_cmd unshare --net launch --store "$AS" alpine:3.20.3 cat /etc/alpine-release
        is "$rc:$out" "0:3.20.3" "launch alpine:3.20.3 runs the image pulled as alpine:3.20, offline"
fi
tap_done
