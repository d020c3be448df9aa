#!/bin/bash
# pull from a real registry: Debian's docker-registry on loopback with a
# throwaway CA, an image of three layers pushed by skopeo, and an index of
# it for x86_64 and aarch64. roost pulls by tag and by digest (the image id
# is the registry's digest), launches it, picks --arch's platform, and a
# second pull downloads nothing. Faults: an unknown manifest, a blob whose
# bytes are not its digest's, and a registry that wants a password
# (--creds, auth.json, none), which never appears in any output; Bearer
# tokens from tests/tokenserver.py in front of it: anonymous, expiring,
# with credentials, blobs redirected to another host (no Authorization
# there), a 429 with Retry-After, a manifest that lies about a layer's
# size, and a reset mid-blob (resumed); --plain-http on loopback.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
command -v skopeo >/dev/null || skip_all "skopeo is not installed"
[ -x "$REGISTRY_BIN" ] || skip_all "docker-registry is not installed"
ARCH=$(uname -m)
[ "$ARCH" = x86_64 ] || skip_all "the fixture image is x86_64's"

# Three layers: the fixture tree, a motd, a file in /srv.
img=$TEST_TMP/img
mkdir -p "$img/l2/etc" "$img/l3/srv"
fixture_tarball "$img/l1.tar.gz" || skip_all "cannot build the fixture rootfs"
echo "from the registry" >"$img/l2/etc/motd"
head -c 300000 /dev/urandom >"$img/l3/srv/noise"
make_tarball "$img/l2" "$img/l2.tar.gz" && make_tarball "$img/l3" "$img/l3.tar.gz" || skip_all "tar failed"
make_oci_image "$img/layout" 1 amd64 "$img/l1.tar.gz" "$img/l2.tar.gz" "$img/l3.tar.gz"
make_oci_image "$img/layout" arm arm64 "$img/l1.tar.gz" "$img/l2.tar.gz"
# Four layers, for the bound on layers fetched at once.
mkdir -p "$img/l4/srv" && echo four >"$img/l4/srv/four" && make_tarball "$img/l4" "$img/l4.tar.gz" gz ||
        skip_all "tar failed"
make_oci_image "$img/layout" four amd64 "$img/l1.tar.gz" "$img/l2.tar.gz" "$img/l3.tar.gz" "$img/l4.tar.gz"
# A layer twice, as images with an empty layer repeated have.
make_oci_image "$img/layout" twice amd64 "$img/l1.tar.gz" "$img/l4.tar.gz" "$img/l4.tar.gz"

registry_start || skip_all "docker-registry could not start"
# A harness step that fails once tests have run: a failure, and the end.
bail() { ok 1 "$1"; tap_done; exit 1; }
push() { skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" "oci:$img/layout:$1" "docker://$REGISTRY/$2"; }
check "skopeo pushes the image to the registry" push 1 team/app:1
check "...and the aarch64 one" push arm team/app:arm
check "...and one of four layers" push four team/four:1
check "...and one with a layer twice" push twice team/twice:1
check "an index of both is put as team/app:multi" registry_put_index team/app multi 1 arm
digest=$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/team/app:1" | jq -r .Digest)
like "$digest" '^sha256:[0-9a-f]{64}$' "skopeo inspect names the image's digest"

store=$TEST_TMP/store
P() { pull --store "$store" --cacert "$REGISTRY_CA" "$@"; }
image_of() { roost --store "${IS:-$store}" images --json | jq -r --arg n "$1" --arg t "$2" --arg a "${3:-$ARCH}" \
        '.[] | select(.name == $n and .tag == $t and .arch == $a) | .digest | sub("^sha256:"; "")'; }

# --- by tag, by digest, launched ---
run_cmd P "$REGISTRY/team/app:1"
is "$rc" 0 "pull REGISTRY/team/app:1 succeeds"
like "$out" "reference: $REGISTRY/team/app:1 \\($ARCH\\)" "...and names the reference, the registry in its name"
is "sha256:$(image_of "$REGISTRY/team/app" 1 | sed 's/^sha256://')" "$digest" "the image id is the registry's digest (skopeo inspect's)"
man=$(curl -sS --cacert "$REGISTRY_CA" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "https://$REGISTRY/v2/team/app/manifests/1")
cmp -s <(printf '%s' "$man") "$store/blobs/sha256/${digest#sha256:}"
ok $? "the registry's manifest is stored byte for byte"
is "$(roost --store "$store" inspect "$REGISTRY/team/app:1" | jq -r '.[0].RootFS.Layers | length')" 3 "three layers"
like "$(roost --store "$store" images --json | jq -r --arg n "$REGISTRY/team/app" '.[] | select(.name == $n) | .source')" \
        "^https://$REGISTRY/v2/team/app/manifests/${digest}\$" "its source is the manifest's URL, by digest"

gets=$(registry_gets '/v2/team/app/blobs/.*')
run_cmd P "$REGISTRY/team/app:1"
is "$rc:$(registry_gets '/v2/team/app/blobs/.*')" "0:$gets" "a second pull downloads nothing"
man_gets=$(registry_gets '/v2/team/app/manifests/.*')
run_cmd P --refresh "$REGISTRY/team/app:1"
is "$rc:$(registry_gets '/v2/team/app/blobs/.*')" "0:$gets" "--refresh reads the manifest again, and no blob"
is "$(registry_gets '/v2/team/app/manifests/.*')" "$((man_gets + 1))" "...one manifest GET"

run_cmd P "$REGISTRY/team/app@$digest"
is "$rc" 0 "pull by digest succeeds"
is "$(image_of "$REGISTRY/team/app" "sha256-${digest#sha256:}")" "${digest#sha256:}" "...stored as the tag sha256-HEX, the same image"
is "$(registry_gets '/v2/team/app/blobs/.*')" "$gets" "...without downloading a blob again"

run_cmd launch --store "$store" "$REGISTRY/team/app:1" cat /etc/motd
is "$rc:$out" "0:from the registry" "launch runs the pulled image: its layers stacked"
run_cmd launch --store "$store" "$REGISTRY/team/app@$digest" ls /srv
is "$rc:$out" "0:noise" "launch accepts a reference by digest"
store2=$TEST_TMP/store2
run_cmd launch --store "$store2" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1" cat /etc/motd
is "$rc:$out" "0:from the registry" "launch pulls a registry's image it does not have"

# An image whose bottom layer is an Alpine release pulled from a mirror
# already: that layer is not downloaded again.
make_mirror "$TEST_TMP/www" 3.99.0 "$img/l1.tar.gz" || bail "cannot lay out the mirror"
nginx_start "$TEST_TMP/www" || bail "nginx could not start"
mixed=$TEST_TMP/store-mixed
l1=$(sha256sum <"$img/l1.tar.gz" | cut -d' ' -f1)
run_cmd pull -q --store "$mixed" --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" alpine 3.99
is "$rc" 0 "alpine 3.99 from the mirror"
l1_gets=$(registry_gets "/v2/team/app/blobs/sha256:$l1")
run_cmd pull -q --store "$mixed" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc:$(registry_gets "/v2/team/app/blobs/sha256:$l1")" "0:$l1_gets" \
        "then the registry's image on it: its Alpine layer is not downloaded again"
nginx_stop

# --- the index: the host's platform, or --arch's ---
run_cmd P "$REGISTRY/team/app:multi"
is "$rc:$(image_of "$REGISTRY/team/app" multi)" "0:${digest#sha256:}" "from an index, the host's platform: the same image"
run_cmd P --arch aarch64 "$REGISTRY/team/app:multi"
arm=$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/team/app:arm" | jq -r .Digest)
is "$rc:sha256:$(image_of "$REGISTRY/team/app" multi aarch64)" "0:$arm" "--arch aarch64 picks the other platform"
run_cmd P --arch armv7 "$REGISTRY/team/app:multi"
is "$rc" 3 "an index without the platform asked: not found (exit 3)"
like "$err" "^pull: .*has no image for armv7 \\(it has linux/arm64/v8, linux/amd64\\)$" "...naming what it has"
run_cmd P --arch aarch64 "$REGISTRY/team/app:1"
is "$rc" 3 "a tag of one image for another architecture: exit 3"

# --- faults ---
run_cmd P -q "$REGISTRY/team/app:nope"
is "$rc" 3 "an unknown tag: exit 3"
is "$(printf '%s\n' "$err" | wc -l)" 1 "...one line"
like "$err" "^pull: $REGISTRY/team/app:nope: not found on $REGISTRY \\(MANIFEST_UNKNOWN" "...the registry's code in it"
run_cmd P "$REGISTRY/team/nothing:1"
is "$rc" 3 "an unknown repository: exit 3"
run_cmd P "$REGISTRY/team/app@sha256:$(printf '0%.0s' $(seq 64))"
is "$rc" 3 "an unknown digest: exit 3"

# A layer whose bytes are not its digest's: the registry serves what its
# storage holds.
l3=$(sha256sum <"$img/l3.tar.gz" | cut -d' ' -f1)
[ -f "$(registry_blob_file "$l3")" ] || tap_diag "no storage file for $l3"
flip_byte "$(registry_blob_file "$l3")" 1000
bad=$TEST_TMP/bad-store
run_cmd pull --store "$bad" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 5 "a layer whose bytes do not match its digest: exit 5"
like "$err" "^pull: verifying team/app layer 3 of 3 \\(sha256:${l3:0:12}\\): sha256 mismatch" "...naming the layer"
is "$(roost --store "$bad" images --json 2>/dev/null | jq length)" 0 "...and nothing is referenced"
[ ! -e "$bad/blobs/sha256/$l3" ]
ok $? "...nor the layer stored"
flip_byte "$(registry_blob_file "$l3")" 1000

# --- Bearer tokens (tests/tokenserver.py in front of the registry) ---
tokenserver_start || bail "the token server could not start"
tok=$TEST_TMP/store-token
TP() { pull --store "$tok" --cacert "$REGISTRY_CA" "$@"; }
run_cmd TP -q "$TOKEN_REGISTRY/team/app:1"
is "$rc" 0 "a registry that wants a Bearer token: pulled anonymously with one"
like "$(head -3 "$TOKEN_LOG" | tr '\n' ' ')" "^GET /v2/team/app/manifests/1 auth=none GET /token auth=none GET /v2/team/app/manifests/1 auth=bearer" \
        "...a 401's challenge, a token from its realm, the request again with it"
is "$(grep -c '^GET /v2/team/app/blobs/.* auth=bearer' "$TOKEN_LOG")" 4 "...and the config and three layers with it"
is "sha256:$(IS=$tok image_of "$TOKEN_REGISTRY/team/app" 1)" "$digest" "...the same image"
tokenserver_stop

tokenserver_start uses=2 redirect || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q "$TOKEN_REGISTRY/team/app:1"
is "$rc" 0 "tokens that expire after two requests: refreshed, and pulled"
is "$(grep -c '^GET /token' "$TOKEN_LOG")" 3 "...with a token asked for each time one expired"
is "$(grep -c '^GET /storage/sha256:[0-9a-f]* auth=none$' "$TOKEN_LOG")" 4 "blobs redirected to another host are fetched there"
is "$(grep -c '^GET /storage/.* auth=bearer' "$TOKEN_LOG")" 0 "...without the Authorization header"
tokenserver_stop

tokenserver_start 429-once || bail "the token server could not start"
rm -rf "$tok"
t0=$(date +%s%N)
run_cmd TP "$TOKEN_REGISTRY/team/app:1"
t1=$(date +%s%N)
is "$rc" 0 "a 429 with Retry-After: retried, and pulled"
like "$err" "HTTP 429; retry 1 of [0-9]+ in 1 s" "...after a warning that waits what Retry-After says"
run_cmd TP -q --retries 0 --refresh "$TOKEN_REGISTRY/team/app:1"
is "$rc" 0 "(only the first request is refused)"
tokenserver_stop
tokenserver_start 429-once || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q --retries 0 "$TOKEN_REGISTRY/team/app:1"
is "$rc" 4 "a 429 with no retry left: exit 4"
like "$err" "^pull: .*asks to slow down \(TOOMANYREQUESTS: slow down\); retry after 1 s" "...one line with the registry's code and Retry-After"
tokenserver_stop

tokenserver_start bad-manifest || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q "$TOKEN_REGISTRY/team/app:1"
is "$rc" 5 "a manifest whose bytes are not the Docker-Content-Digest sent with it: exit 5"
like "$err" "^pull: verifying the manifest of $TOKEN_REGISTRY/team/app:1: the registry says ${digest:0:23}…, the bytes are sha256:" "...one line saying so"
run_cmd TP -q "$TOKEN_REGISTRY/team/app@$digest"
is "$rc" 5 "...nor the digest asked for: exit 5"
like "$err" "^pull: verifying the manifest of .*: sha256 mismatch \\(expected ${digest:7:16}" "...one line saying so"
is "$(roost --store "$tok" images --json | jq length)" 0 "...and nothing is referenced"
tokenserver_stop

tokenserver_start lie-size || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q "$TOKEN_REGISTRY/team/app:1"
is "$rc" 5 "a manifest that says a layer is larger than its blob: exit 5"
like "$err" "^pull: .*body ended after [0-9]+ of the [0-9]+ bytes" "...one line naming both sizes"
is "$(roost --store "$tok" images --json | jq length)" 0 "...and nothing is referenced"
tokenserver_stop

tokenserver_start cut-once || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP "$TOKEN_REGISTRY/team/app:1"
is "$rc" 0 "a registry that resets mid-blob: pulled"
like "$err" "retrying it alone" "...after a warning (the layers come side by side; the one cut is then resumed alone)"
is "$(grep -c ' range=bytes=[1-9][0-9]*-$' "$TOKEN_LOG")" 1 "...resumed with a range request from where it broke"
is "$(IS=$tok image_of "$TOKEN_REGISTRY/team/app" 1)" "${digest#sha256:}" "...the same image, verified whole"
tokenserver_stop

tokenserver_start users=tok:en-Pa55 || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q "$TOKEN_REGISTRY/team/app:1"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "a token server that wants credentials, none given: exit 4, one line"
like "$err" "token server of $TOKEN_REGISTRY refused an anonymous pull" "...saying so"
run_cmd TP -q --creds tok:en-Pa55 "$TOKEN_REGISTRY/team/app:1"
is "$rc" 0 "--creds: the token server's Basic credentials, then the token"
is "$(grep -c '^GET /token auth=basic' "$TOKEN_LOG")" 1 "...sent to the token server only"
is "$(grep -c '^GET /v2/.* auth=basic' "$TOKEN_LOG")" 0 "...never to the registry"
unlike "$err$out$(roost --store "$tok" images --json)" 'en-Pa55|dG9rOmVuLVBhNTU' "...and never printed"
tokenserver_stop

# --- layers side by side: at most three at once, each verified ---
tokenserver_start slow || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP -q "$TOKEN_REGISTRY/team/four:1"
is "$rc" 0 "an image of four layers, each blob answered a second late: pulled"
is "$(grep -o 'inflight=[0-9]*' "$TOKEN_LOG" | cut -d= -f2 | sort -n | tail -1)" 3 \
        "...three layers asked for at once, never more (the registry held three answers at a time)"
is "$(roost --store "$tok" inspect "$TOKEN_REGISTRY/team/four:1" | jq -r '.[0].RootFS.Layers | length')" 4 \
        "...all four stored, their diff_ids the config's"
tokenserver_stop
run_cmd timeout 60 pull -q --store "$TEST_TMP/store-twice" --cacert "$REGISTRY_CA" "$REGISTRY/team/twice:1"
is "$rc" 0 "an image with a layer twice: pulled"
is "$(registry_gets "/v2/team/twice/blobs/sha256:$(sha256sum <"$img/l4.tar.gz" | cut -d' ' -f1)")" 1 \
        "...the layer fetched once"
is "$(roost --store "$TEST_TMP/store-twice" inspect "$REGISTRY/team/twice:1" | jq -r '.[0].RootFS.Layers | length')" 3 \
        "...its three layers in the image"

# --- a layer that fails while the others stream: nothing published ---
l1=$(sha256sum <"$img/l1.tar.gz" | cut -d' ' -f1) l3=$(sha256sum <"$img/l3.tar.gz" | cut -d' ' -f1)
tokenserver_start slow "fail=$l3" || bail "the token server could not start"
rm -rf "$tok"
run_cmd TP --retries 1 "$TOKEN_REGISTRY/team/app:1"
is "$rc" 4 "a layer answered with 503 while the others stream: exit 4, after its retries"
like "$err" "^pull: team/app layer 3 of 3 .*UNAVAILABLE" "...one line naming the layer and the registry's code"
[ "$(find "$tok/blobs/sha256" -type f | wc -l)" -eq 0 ] && [ "$(roost --store "$tok" images --json | jq length)" -eq 0 ]
ok $? "...nothing published: no layer, config, manifest or reference"
[ "$(find "$tok/partial" -type f -size +0 | wc -l)" -eq 2 ]
ok $? "...the two other layers' bytes kept for a resume"
tokenserver_stop
l1_gets=$(registry_gets "/v2/team/app/blobs/sha256:$l1")
run_cmd pull -q --store "$tok" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 0 "the same image then, from the registry itself"
is "$(registry_gets "/v2/team/app/blobs/sha256:$l1")" "$l1_gets" "...the layers kept not asked for again"
registry_stop

# --- a registry that wants a password ---
htpasswd=$TEST_TMP/htpasswd
make_htpasswd "$htpasswd" roost 's3cret-Pa55' || bail "cannot make a bcrypt htpasswd"
registry_start "$htpasswd" || bail "docker-registry could not start with htpasswd"
check "skopeo pushes to it with credentials" skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" \
        --dest-creds 'roost:s3cret-Pa55' "oci:$img/layout:1" "docker://$REGISTRY/team/app:1"
auth=$TEST_TMP/store-auth
export REGISTRY_AUTH_FILE=$TEST_TMP/auth.json
run_cmd pull -q --store "$auth" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 4 "no credentials: exit 4"
is "$(printf '%s\n' "$err" | wc -l)" 1 "...one line"
like "$err" "give --creds USER:PASS" "...saying what to do"
run_cmd pull --store "$auth" --cacert "$REGISTRY_CA" --creds roost:wrong "$REGISTRY/team/app:1"
is "$rc" 4 "a wrong password: exit 4"
like "$err" "not accepted" "...saying so"
run_cmd pull --store "$auth" --cacert "$REGISTRY_CA" --creds 'roost:s3cret-Pa55' --json "$REGISTRY/team/app:1"
is "$rc:$(echo "$out" | jq -r .digest | sed 's/^sha256://')" "0:${digest#sha256:}" "--creds: pulled, the same image"
all_out=$out$err
roost --store "$auth" rm "$REGISTRY/team/app:1" >/dev/null 2>&1
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$(printf 'roost:s3cret-Pa55' | base64)" >"$REGISTRY_AUTH_FILE"
run_cmd pull --store "$auth" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 0 "credentials from auth.json"
all_out=$all_out$out$err
unlike "$all_out$(cat "$auth"/tags/*/* 2>/dev/null)$(roost --store "$auth" images --json)" \
        's3cret|cm9vc3Q6czNjcmV0' "the password appears in no output, --json or reference"
! grep -rqa 's3cret\|cm9vc3Q6czNjcmV0' "$auth"
ok $? "...nor anywhere in the store"
unset REGISTRY_AUTH_FILE
registry_stop

# --- --plain-http, for a registry on loopback only ---
REGISTRY_PLAIN=1 registry_start || bail "docker-registry could not start without TLS"
check "skopeo pushes to a plain-HTTP registry" skopeo copy -q --dest-tls-verify=false \
        "oci:$img/layout:1" "docker://$REGISTRY/team/app:1"
plain=$TEST_TMP/store-plain
run_cmd pull -q --store "$plain" "$REGISTRY/team/app:1"
is "$rc" 4 "without --plain-http, a plain-HTTP registry is a TLS failure (exit 4)"
run_cmd pull -q --store "$plain" --plain-http --json "$REGISTRY/team/app:1"
is "$rc:$(echo "$out" | jq -r .digest | sed 's/^sha256://')" "0:${digest#sha256:}" "--plain-http pulls from a loopback registry"
run_cmd pull -q --store "$plain" --plain-http registry.example:5000/team/app:1
is "$rc" 2 "--plain-http for a registry not on loopback: refused (exit 2)"
like "$err" "not a loopback address" "...saying so"
registry_stop
htpasswd2=$TEST_TMP/htpasswd2
make_htpasswd "$htpasswd2" roost 's3cret-Pa55' || bail "cannot make a bcrypt htpasswd"
REGISTRY_PLAIN=1 registry_start "$htpasswd2" || bail "docker-registry could not start"
run_cmd pull -q --store "$plain" --plain-http --creds 'roost:s3cret-Pa55' "$REGISTRY/team/app:1"
is "$rc" 4 "a plain-HTTP registry that asks for credentials gets none (exit 4)"
like "$err" "no credential is ever sent over plain HTTP" "...saying so"
unlike "$err" "s3cret" "...and not the password"

tap_done
