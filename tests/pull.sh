#!/bin/bash
# pull against nginx on loopback: resolution (branch, exact, unindexed
# point release, edge, latest-stable, bare, --arch), output, the second pull
# that downloads nothing, and every refusal: unknown version, bad input,
# tampered tarball or checksum file, bad index, wrong sizes, untrusted
# certificate, https-to-http redirect.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"

www=$TEST_TMP/www
pull_fixture_mirror "$www" || skip_all "could not build the fixture mirror"

# Broken copies of the mirror, each under its own prefix.
mkbad() { mkdir -p "$www/$1" && cp -a "$www/alpine" "$www/$1/"; }
bad_file() { echo "$www/$1/alpine/v3.99/releases/x86_64/alpine-minirootfs-3.99.2-x86_64.tar.gz"; }
mkbad tampered
flip_byte "$(bad_file tampered)" 5000
mkbad badsum
f=$(bad_file badsum)
echo "0000000000000000000000000000000000000000000000000000000000000000  $(basename "$f")" >"$f.sha256"
mkbad badyaml
printf -- '---\n- flavor: alpine-minirootfs\n  version: [3.99.2\n' >"$www/badyaml/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad nosha
sed -i '/flavor: alpine-minirootfs/,/sha512/{/sha256:/d}' "$www/nosha/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad noshabadsum # no sha256 in the index, and a wrong one in the .sha256
cp "$www/nosha/alpine/v3.99/releases/x86_64/latest-releases.yaml" "$www/noshabadsum/alpine/v3.99/releases/x86_64/"
cp "$(bad_file badsum).sha256" "$(bad_file noshabadsum).sha256"
mkbad nosumatall # no sha256 anywhere
cp "$www/nosha/alpine/v3.99/releases/x86_64/latest-releases.yaml" "$www/nosumatall/alpine/v3.99/releases/x86_64/"
rm "$(bad_file nosumatall).sha256"
mkbad bigger # the index promises more bytes than the server has
size=$(stat -c %s "$(bad_file bigger)")
sed -i "s/size: $size\$/size: $((size + 10))/" "$www/bigger/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad smaller # ...or fewer
sed -i "s/size: $size\$/size: $((size - 10))/" "$www/smaller/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad gone
rm "$(bad_file gone)"
mkbad otherbranch # v3.99's index offering a release of another branch
sed -i 's/version: 3.99.2$/version: 4.0.0/' "$www/otherbranch/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad badsha512 # a sha512 that is not the release's
sed -i "/flavor: alpine-minirootfs/,/sha512/{s/sha512: .*/sha512: $(printf '0%.0s' $(seq 128))/}" \
        "$www/badsha512/alpine/v3.99/releases/x86_64/latest-releases.yaml"
mkbad evilname
sed -i 's|file: alpine-minirootfs-3.99.2-x86_64.tar.gz|file: ../../../../etc/passwd|' \
        "$www/evilname/alpine/v3.99/releases/x86_64/latest-releases.yaml"

nginx_start "$www" '
        location /to-http/ { rewrite ^/to-http/(.*)$ http://127.0.0.1:$server_port/$1 redirect; }
        location /moved/ { rewrite ^/moved/(.*)$ https://127.0.0.1:$server_port/$1 redirect; }' ||
        skip_all "nginx could not start"

store=$TEST_TMP/store
P() { pull --store "$store" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 "$@"; }
ref_field() { ref_doc "$store" "$1" "${3:-x86_64}" | jq -r ".$2"; }
sha() { sha256_of "$(release_file "$www" "$@")"; }

# --- resolution ---
run_cmd P alpine 3.99
is "$rc" 0 "pull alpine 3.99 succeeds"
is "$(ref_field alpine:3.99 version)" 3.99.2 "a branch resolves to its newest release, wherever the index lists it"
is "$(ref_field alpine:3.99 sha256)" "$(sha 3.99.2)" "the reference names the minirootfs's digest, not another flavor's"
is "$(ref_field alpine:3.99 sha512)" "$(sha512sum "$(release_file "$www" 3.99.2)" | cut -d' ' -f1)" "the reference records the sha512"
is "$(sha256_of "$store/blobs/sha256/$(sha 3.99.2)")" "$(sha 3.99.2)" "the stored blob is the release, byte for byte"
like "$out" "reference: alpine:3.99 \\(x86_64\\)" "the result names the reference"
like "$out" "version: +3.99.2" "the result names the version"
like "$out" "layer: +sha256:$(sha 3.99.2)" "the result names the layer's digest, the release's"
like "$out" "image: +sha256:[0-9a-f]{64}" "...and the image's"
like "$out" "size: +$(stat -c %s "$(release_file "$www" 3.99.2)") bytes" "the result names the size"
like "$err" "downloading alpine-minirootfs-3.99.2-x86_64.tar.gz" "without a terminal, one line per step"
is "$(stat -c %a "$store/blobs/sha256/$(sha 3.99.2)")" 444 "the stored blob is read-only"

run_cmd P alpine:3.99.1
is "$rc:$(ref_field alpine:3.99.1 version)" "0:3.99.1" "alpine:3.99.1 picks that exact release"
is "$(ref_field alpine:3.99.1 sha256)" "$(sha 3.99.1)" "...and its digest"

run_cmd P alpine 3.98.4
is "$rc:$(ref_field alpine:3.98.4 version)" "0:3.98.4" "an older point release the index no longer lists is found beside it"
is "$(ref_field alpine:3.98.4 sha256)" "$(sha 3.98.4)" "...verified against its .sha256"
is "$(ref_field alpine:3.98.4 sha512)" "$(sha512sum "$(release_file "$www" 3.98.4)" | cut -d' ' -f1)" "...and its .sha512"

run_cmd P alpine edge
is "$rc:$(ref_field alpine:edge sha256)" "0:$(sha edge)" "pull alpine edge"
like "$(ref_field alpine:edge source)" "/alpine/edge/releases/x86_64/" "edge comes from the edge folder"

run_cmd P alpine latest-stable
is "$rc:$(ref_field alpine:latest-stable version)" "0:3.99.2" "latest-stable follows the mirror's latest-stable link"

run_cmd P alpine
is "$rc" 0 "a bare 'pull alpine' succeeds"
is "$(ref_field alpine:latest-stable version)" 3.99.2 "...as alpine:latest-stable"

run_cmd P --arch aarch64 alpine 3.99 --json
is "$rc" 0 "--arch aarch64"
is "$(echo "$out" | jq -r .arch):$(echo "$out" | jq -r '.layers[0].digest')" "aarch64:sha256:$(sha 3.99.2 aarch64)" "--arch picks that architecture's file, and --json prints one object"
check "the reference is stored per architecture" store_has_ref "$store" alpine:3.99 aarch64

run_cmd P alpine 3.99 --json
is "$rc" 0 "--json exits 0"
is "$(echo "$out" | jq -r '[.name,.tag,.arch,.version,.layers[0].digest,.size] | join(" ")')" \
        "alpine 3.99 x86_64 3.99.2 sha256:$(sha 3.99.2) $(stat -c %s "$(release_file "$www" 3.99.2)")" "--json: name, tag, arch, version, digest, size"
is "$err" "" "--json prints no progress"

# --- the second pull downloads nothing ---
gets=$(tarball_gets "$NGINX_LOG" alpine-minirootfs-3.99.2-x86_64.tar.gz)
run_cmd P alpine 3.99
is "$rc" 0 "a second pull of alpine:3.99 succeeds"
is "$(tarball_gets "$NGINX_LOG" alpine-minirootfs-3.99.2-x86_64.tar.gz)" "$gets" "...and downloads no tarball"
run_cmd P -q alpine 3.99 --refresh
is "$rc:$out:$err" "0::" "--refresh --quiet prints nothing"
is "$(tarball_gets "$NGINX_LOG" alpine-minirootfs-3.99.2-x86_64.tar.gz)" "$gets" "--refresh resolves again but the stored blob is not downloaded again"
run_cmd P alpine 3.99.2
is "$rc:$(tarball_gets "$NGINX_LOG" alpine-minirootfs-3.99.2-x86_64.tar.gz)" "0:$gets" "a new reference to a stored blob downloads nothing"
run_cmd pull --store "$store" --mirror https://127.0.0.1:1/alpine --arch x86_64 alpine 3.99
is "$rc" 0 "a stored reference needs no mirror at all"
run_cmd pull --store "$store" --offline --arch x86_64 alpine 3.97
is "$rc" 3 "--offline with nothing stored: not found (exit 3)"
like "$err" "^pull: alpine:3.97 \\(x86_64\\) is not stored" "...saying so"

# --- file:// and https redirects ---
run_cmd pull --store "$TEST_TMP/s-file" --mirror "file://$www/alpine" --arch x86_64 alpine 3.99.1
is "$rc:$(ref_doc "$TEST_TMP/s-file" alpine:3.99.1 x86_64 | jq -r .sha256)" "0:$(sha 3.99.1)" "a file:// mirror works (offline demo from a directory)"
run_cmd pull --store "$TEST_TMP/s-moved" --mirror "$NGINX_URL/moved/alpine" --cacert "$NGINX_CA" --arch x86_64 alpine 3.99
is "$rc" 0 "an https-to-https redirect is followed"

# --- refusals ---
fresh() { rm -rf "$TEST_TMP/s-bad"; }
PB() { pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/$1/alpine" --cacert "$NGINX_CA" --arch x86_64 alpine 3.99; }
nothing_stored() { [ "$(store_blob_count "$TEST_TMP/s-bad")" -eq 0 ] && ! store_has_ref "$TEST_TMP/s-bad" alpine:3.99; }

run_cmd P alpine 3.97
is "$rc" 3 "an unknown branch: not found (exit 3)"
like "$(tail -1 <<<"$err")" "^pull: alpine:3.97 not found: no release index for x86_64 \\(.*/v3.97/releases/x86_64/latest-releases.yaml: HTTP 404\\)$" "...one line naming what is missing"
run_cmd P alpine 3.99.7
is "$rc" 3 "an unknown release in a known branch: not found (exit 3)"
like "$err" "3.99.7" "...naming the version"
run_cmd P --arch riscv64 alpine 3.99
is "$rc" 3 "an architecture the mirror lacks: not found (exit 3)"
run_cmd P --arch riscv64 alpine
is "$rc" 3 "...also through latest-stable, a directory the fallback cannot read as a branch name (exit 3)"
for bad in 3 '3.x' '../3.99' '3.99.1.2' 'edge2' ''; do
        run_cmd P alpine "$bad"
        is "$rc" 2 "version '$bad' is a usage error (exit 2)"
done
run_cmd P debian 12
is "$rc" 3 "an unknown image: not found (exit 3)"
run_cmd P alpine:3.99 3.98
is "$rc" 2 "a version given twice is a usage error"
run_cmd P --frobnicate alpine
is "$rc" 2 "an unknown option is a usage error"
run_cmd P
is "$rc" 2 "no image is a usage error"
run_cmd P --arch '../x' alpine 3.99
is "$rc" 2 "a hostile --arch is refused"
run_cmd pull --store "$TEST_TMP/s-bad" --mirror "http://127.0.0.1:$NGINX_PORT/alpine" alpine 3.99
is "$rc" 2 "an http:// mirror is refused (exit 2)"
like "$err" "only https:// and file://" "...saying what is accepted"
run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --cacert /nonexistent alpine 3.99
is "$rc" 3 "a missing --cacert file is not found (exit 3), as a missing file is for every tool"
run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --cacert "$www/alpine/v3.99/releases/x86_64/latest-releases.yaml" alpine 3.99
is "$rc" 2 "a --cacert without a certificate is a usage error"
{ cat "$NGINX_CA"; printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n'; } >"$TEST_TMP/damaged-ca.pem"
run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --cacert "$TEST_TMP/damaged-ca.pem" alpine 3.99
is "$rc" 2 "a --cacert with a damaged certificate is a usage error too, not a TLS failure"
like "$err" "holds no valid PEM certificate" "...saying so"

fresh; run_cmd PB tampered
is "$rc" 5 "a tampered tarball fails verification (exit 5)"
like "$err" "^pull: verifying alpine-minirootfs-3.99.2-x86_64.tar.gz: sha256 mismatch \\(expected $(sha 3.99.2 | cut -c1-16)…, got [0-9a-f]{16}…\\)$" "...one line naming the check, expected and got"
check "...and leaves nothing under a final name" nothing_stored
is "$(store_partial_count "$TEST_TMP/s-bad")" 0 "...nor bytes to resume from"

# The .sha256 file says nothing the index does not, from the same server:
# it is read only when the index gives no sha256.
fresh; run_cmd PB badsum
is "$rc" 0 "a .sha256 that disagrees with an index that has a sha256 is not even read"
is "$(tarball_gets "$NGINX_LOG" 'alpine-minirootfs-3.99.2-x86_64.tar.gz.sha256')" 0 "...nor is any .sha256 while the index has the sha256"
fresh; run_cmd PB nosha
is "$rc:$(ref_doc "$TEST_TMP/s-bad" alpine:3.99 x86_64 | jq -r .sha256)" "0:$(sha 3.99.2)" \
        "an index entry without sha256: the .sha256 file gives it"
fresh; run_cmd PB noshabadsum
is "$rc" 5 "...and a wrong one there fails verification of the bytes (exit 5)"
like "$err" "sha256 mismatch" "...as a sha256 mismatch"
check "...leaving nothing stored" nothing_stored
fresh; run_cmd PB nosumatall
is "$rc" 5 "no sha256 in the index nor a .sha256 file: refused (exit 5)"
like "$err" "latest-releases.yaml gives no sha256 and alpine-minirootfs-3.99.2-x86_64.tar.gz.sha256 is missing" "...saying so"

fresh; run_cmd PB badyaml
is "$rc" 5 "a malformed index fails (exit 5)"
like "$err" "latest-releases.yaml: YAML error" "...saying it is the index"
fresh; run_cmd PB otherbranch
is "$rc" 5 "a branch's index offering another branch's release fails (exit 5)"
like "$err" "offers 4.0.0, not a 3.99 release" "...saying so"
fresh; run_cmd PB evilname
is "$rc" 5 "an index file name with a path is refused"
like "$err" "no valid file name" "...naming the field"

fresh; run_cmd PB bigger
is "$rc" 5 "a body shorter than the index's size fails (exit 5)"
like "$err" "ended after $size of the $((size + 10)) bytes" "...naming both sizes"
check "...leaving nothing under a final name" nothing_stored
fresh; run_cmd PB smaller
is "$rc" 5 "a body longer than the index's size is cut off (exit 5)"
like "$err" "larger than the $((size - 10)) bytes the index announces" "...saying so"
check "...leaving nothing under a final name" nothing_stored
is "$(store_partial_count "$TEST_TMP/s-bad")" 0 "...nor the oversized bytes"

# The archive already stored: what a new index says of it is still checked
# before a reference records it.
fresh; run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 -q alpine 3.99
PR() { pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/$1/alpine" --cacert "$NGINX_CA" --arch x86_64 --refresh alpine 3.99; }
run_cmd PR smaller
is "$rc" 5 "--refresh with an index that misstates a stored archive's size fails (exit 5)"
is "$(ref_doc "$TEST_TMP/s-bad" alpine:3.99 x86_64 | jq -r .size)" "$size" "...and the reference keeps the true size"
run_cmd PR badsha512
is "$rc" 5 "--refresh with an index whose sha512 is not the stored archive's fails (exit 5)"
like "$err" "sha512" "...naming the check"

# A partial file longer than the release is no download of it: start over.
fresh; mkdir -p "$TEST_TMP/s-bad/partial"
{ cat "$(release_file "$www" 3.99.2)"; echo garbage; } >"$TEST_TMP/s-bad/partial/$(sha 3.99.2)"
run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 -q alpine 3.99
is "$rc" 0 "a partial file longer than the release is discarded and the pull succeeds"

fresh
before=$(tarball_gets "$NGINX_LOG" 'gone/alpine/v3.99/releases/x86_64/alpine-minirootfs-3.99.2-x86_64.tar.gz')
run_cmd PB gone
is "$rc" 3 "an indexed tarball that is missing: not found (exit 3)"
is "$(tarball_gets "$NGINX_LOG" 'gone/alpine/v3.99/releases/x86_64/alpine-minirootfs-3.99.2-x86_64.tar.gz')" $((before + 1)) "...at once: a 404 is not retried"

fresh; run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/alpine" --arch x86_64 alpine 3.99
is "$rc" 4 "an untrusted certificate fails (exit 4)"
like "$err" "TLS: .*certificate" "...one line saying it is the certificate"
check "...and nothing is stored" nothing_stored
fresh; run_cmd pull --store "$TEST_TMP/s-bad" --mirror "$NGINX_URL/to-http/alpine" --cacert "$NGINX_CA" --arch x86_64 alpine 3.99
is "$rc" 4 "an https-to-http redirect is refused (exit 4)"
like "$err" "refused \\(only https:// is allowed, redirects included\\)" "...saying why"
check "...and nothing is stored" nothing_stored
ROOST_MIRROR="$NGINX_URL/alpine" run_cmd pull --store "$TEST_TMP/s-env" --cacert "$NGINX_CA" --arch x86_64 -q alpine 3.99.0
is "$rc:$(ref_doc "$TEST_TMP/s-env" alpine:3.99.0 x86_64 | jq -r .version)" "0:3.99.0" "ROOST_MIRROR names the mirror"

# --- --cacert adds to the system's anchors, it does not replace them ---
# In a private mount namespace the test CA joins the system's trust store
# (hashed directory and bundle alike); a pull given an unrelated --cacert
# must still trust the server.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && [ -d /etc/ssl/certs ]; then
        other=$TEST_TMP/other-ca
        mkdir -p "$other"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" -keyout "$other/key.pem" \
                -out "$other/ca.pem" 2>/dev/null
        cp -a /etc/ssl/certs "$TEST_TMP/syscerts"
        cp "$NGINX_CA" "$TEST_TMP/syscerts/roost-test-ca.pem"
        ln -s roost-test-ca.pem "$TEST_TMP/syscerts/$(openssl x509 -hash -noout -in "$NGINX_CA").0"
        [ -f "$TEST_TMP/syscerts/ca-certificates.crt" ] && cat "$NGINX_CA" >>"$TEST_TMP/syscerts/ca-certificates.crt"
        run_cmd unshare -m sh -c "mount --bind '$TEST_TMP/syscerts' /etc/ssl/certs &&
                exec pull --store '$TEST_TMP/s-add' --mirror '$NGINX_URL/alpine' --cacert '$other/ca.pem' --arch x86_64 -q alpine 3.99"
        is "$rc" 0 "--cacert adds a trust anchor: the system's still verify the server"
        run_cmd pull --store "$TEST_TMP/s-add2" --mirror "$NGINX_URL/alpine" --cacert "$other/ca.pem" --arch x86_64 -q alpine 3.99
        is "$rc" 4 "...and an unrelated --cacert alone does not"
else
        skip "--cacert adds a trust anchor" "needs root and unshare for a private trust store"
        skip "...and an unrelated --cacert alone does not" "needs root"
fi

# --- a full disk ---
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TEST_TMP/tiny" && mount -t tmpfs -o size=400k tmpfs "$TEST_TMP/tiny" 2>/dev/null; then
        tap_at_exit "umount -l '$TEST_TMP/tiny' 2>/dev/null"
        run_cmd P --store "$TEST_TMP/tiny/store" alpine 3.99
        is "$rc" 6 "a full disk is a store failure (exit 6)"
        like "$(tail -1 <<<"$err")" "^pull: .*writing to the store: No space left on device$" "...one line saying so"
        is "$(store_blob_count "$TEST_TMP/tiny/store")" 0 "...and nothing is published"
        umount "$TEST_TMP/tiny"
else
        skip "a full disk is a store failure" "needs root to mount a small tmpfs"
        skip "...one line saying so" "needs root"
        skip "...and nothing is published" "needs root"
fi

# --- as an unprivileged user ---
if [ "$(id -u)" -eq 0 ] && ensure_test_user; then
        mkdir -p "$TEST_TMP/user" && chown "$TEST_USER" "$TEST_TMP/user"
        run_cmd as_test_user pull --store "$TEST_TMP/user/store" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" \
                --arch x86_64 -q alpine 3.99
        is "$rc" 0 "an unprivileged user pulls into a store of their own"
        is "$(stat -c %U "$TEST_TMP/user/store/blobs/sha256/$(sha 3.99.2)")" "$TEST_USER" "...owning what is stored"
        run_cmd as_test_user pull --store "$store" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --arch x86_64 alpine 3.98
        is "$rc" 6 "a store the user may not open is a store failure (exit 6)"
else
        skip "pull as an unprivileged user" "needs root to switch to $TEST_USER"
        skip "...owning what is stored" "needs root"
        skip "a store the user may not open" "needs root"
fi

tap_done
