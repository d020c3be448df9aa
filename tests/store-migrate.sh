#!/bin/bash
# A store in roost's earlier layout (refs/<arch>/<name>:<tag>, one archive
# per reference), built here from a store of today's by taking its images
# apart, is migrated in place on first use: nothing downloaded or extracted
# again, nothing lost; a read-only one is refused with one line.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
require_root

www=$TEST_TMP/www S=$TEST_TMP/store
fixture_tarball "$TEST_TMP/3.99.0.tar.gz" gz 3.99.0 && make_mirror "$www" 3.99.0 "$TEST_TMP/3.99.0.tar.gz" >/dev/null ||
        skip_all "cannot build the fixture mirror"
nginx_start "$www" || skip_all "cannot start nginx"
pull --store "$S" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" -q alpine:3.99 && unpack --store "$S" -q alpine:3.99
ok $? "an image pulled and unpacked"
layer=$(sha256sum "$TEST_TMP/3.99.0.tar.gz" | cut -d' ' -f1)
new_image=$(ref_doc "$S" alpine:3.99 | jq -r .digest)

# The earlier layout: the archive, its tree, and a reference naming it.
make_old() {
        rm -rf "$1/tags" "$1/layers"
        for b in "$1"/blobs/sha256/*; do [ "$(basename "$b")" = "$layer" ] || rm -f "$b"; done
        mkdir -p "$1/refs/$(uname -m)"
        cat >"$1/refs/$(uname -m)/alpine:3.99" <<JSON
{"schema": 1, "name": "alpine", "tag": "3.99", "arch": "$(uname -m)", "version": "3.99.0",
 "source": "https://mirror.example/alpine/v3.99/releases/$(uname -m)/alpine-minirootfs-3.99.0-$(uname -m).tar.gz",
 "sha256": "$layer", "size": $(stat -c %s "$TEST_TMP/3.99.0.tar.gz"), "created": "2026-01-02T03:04:05Z"}
JSON
}
make_old "$S"
tree_ino=$(stat -c %i "$S/trees/$layer/rootfs/etc/alpine-release")

run_cmd launch --store "$S" --offline alpine:3.99 true
is "$rc" 125 "launch, which links no hashing, refuses a store in the earlier layout"
like "$err" "earlier layout.*roost images" "...saying which command migrates it"
test -d "$S/refs"; ok $? "...and leaves it as it was"

run_cmd roost --store "$S" images
is "$rc" 0 "roost images on it succeeds"
like "$out" "^alpine:3.99 +3.99.0 " "...listing the image"
test ! -e "$S/refs"; ok $? "refs/ is gone"
is "$(ref_doc "$S" alpine:3.99 | jq -r '.layers[0].digest')" "sha256:$layer" "the image's one layer is the old archive"
is "$(stat -c %i "$S/trees/$layer/rootfs/etc/alpine-release")" "$tree_ino" "the tree was not extracted again"
is "$(ref_doc "$S" alpine:3.99 | jq -r .source)" \
        "https://mirror.example/alpine/v3.99/releases/$(uname -m)/alpine-minirootfs-3.99.0-$(uname -m).tar.gz" \
        "the reference's source is kept"
is "$(ref_doc "$S" alpine:3.99 | jq -r .created)" "2026-01-02T03:04:05Z" "...and when it was pulled"
[ "$(ref_doc "$S" alpine:3.99 | jq -r .digest)" != "$new_image" ]
ok $? "the migrated image's date is the old pull's, so its digest is not a fresh pull's"
run_cmd launch --store "$S" --offline alpine:3.99 cat /etc/alpine-release
is "$rc:$out" "0:3.99.0" "launch runs the migrated image offline"
run_cmd roost --store "$S" verify
is "$rc" 0 "roost verify passes"
run_cmd roost --store "$S" gc
like "$out" "removed 0 blobs, 0 trees" "gc finds nothing unreferenced"

# Cut short: refs/ still there beside half-written tags/; done again whole.
make_old "$S"
mkdir -p "$S/tags/alpine" && echo '{' >"$S/tags/alpine/3.99"
run_cmd unpack --store "$S" -q alpine:3.99
is "$rc" 0 "a migration cut short is done again by the next command (unpack)"
test ! -e "$S/refs" && [ "$(ref_doc "$S" alpine:3.99 | jq -r '.layers[0].digest')" = "sha256:$layer" ]
ok $? "...whole"
run_cmd pull --store "$S" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" -q --refresh alpine:3.99
is "$rc:$(ref_doc "$S" alpine:3.99 | jq -r .digest)" "0:$new_image" "pull --refresh gives the canonical image"
is "$(stat -c %i "$S/trees/$layer/rootfs/etc/alpine-release")" "$tree_ino" "...on the same tree"

# Read-only: refused with one line, nothing written.
make_old "$S"
mkdir "$TEST_TMP/ro"
if mount --bind "$S" "$TEST_TMP/ro" && mount -o remount,bind,ro "$TEST_TMP/ro"; then
        tap_at_exit "umount '$TEST_TMP/ro'"
        run_cmd roost --store "$TEST_TMP/ro" images
        is "$rc" 6 "an old store on a read-only medium is refused (exit 6)"
        like "$err" "earlier layout and cannot be written to migrate it" "...with one line saying how to migrate it"
        is "$(printf '%s\n' "$err" | wc -l)" 1 "...one line"
else
        for i in 1 2 3; do skip "old store on a read-only medium ($i)" "a read-only bind mount cannot be made here"; done
fi
tap_done
