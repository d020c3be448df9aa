#!/bin/bash
# pull Alpine's real 3.20.3 minirootfs from a copy of its mirror, served by
# nginx, and from the same folder as a file:// mirror. Its latest-stable is
# a plain file naming the branch, which pull must read.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
have_alpine_mirror || skip_all "Alpine's mirror copy is not at $ALPINE_MIRROR_DIR"

sha256=d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c
sha512=9d5405f61f8a6ebc02461ba75346fbf1a63a4eab8510a0158dd321cee0c4dafe28c2a3d2cb7c3d75e2a8130dae0c3c92382f5b6adeea309eafc97621c5bf6400
nginx_start "$ALPINE_MIRROR_DIR" || skip_all "nginx could not start"
store=$TEST_TMP/store
P() { pull --store "$store" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 "$@"; }

# The copy holds Alpine's files but no .asc: none could be had here. By
# default pull refuses it; the rest of this script lets it in unsigned.
run_cmd env -u ROOST_ALLOW_UNSIGNED pull --store "$store" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" \
        --arch x86_64 alpine 3.20
is "$rc" 5 "the copy serves no signature: refused by default (exit 5)"
like "$err" "^pull: alpine-minirootfs-3.20.3-x86_64.tar.gz: the mirror serves no signature \\(.*\\.asc: HTTP 404\\); refused \\(--allow-unsigned" "...one line saying so"
export ROOST_ALLOW_UNSIGNED=1

run_cmd P alpine 3.20 --json
is "$rc" 0 "pull alpine 3.20 from Alpine's own files"
is "$(echo "$out" | jq -r '[.version,.layers[0].digest,.sha512,.size] | join(" ")')" "3.20.3 sha256:$sha256 $sha512 3490290" \
        "resolves to 3.20.3 with Alpine's published digests and size"
is "$(echo "$out" | jq -r '[.verdict, .signer // "-"] | join(" ")')" "unsigned -" "...recorded as unsigned"
is "$(sha256sum "$store/blobs/sha256/$sha256" | cut -d' ' -f1)" "$sha256" "the stored blob is Alpine's tarball"

run_cmd P alpine:3.20.3
is "$rc" 0 "pull alpine:3.20.3"
is "$(grep -c 'alpine-minirootfs-3.20.3-x86_64.tar.gz HTTP' "$NGINX_LOG")" 1 "...downloads nothing more: the blob is stored"

run_cmd P alpine
is "$rc:$(ref_doc "$store" alpine:latest-stable x86_64 | jq -r .version)" "0:3.20.3" \
        "a bare 'pull alpine' reads latest-stable as a file naming the branch"

run_cmd pull --store "$TEST_TMP/s-file" --mirror "file://$ALPINE_MIRROR_DIR/alpine" --arch x86_64 --json alpine latest-stable
is "$rc:$(echo "$out" | jq -r '.layers[0].digest')" "0:sha256:$sha256" "the same folder works as a file:// mirror"
tap_done
