#!/bin/bash
# roost push to a real registry: Debian's docker-registry on loopback with
# a throwaway CA. Alpine 3.20.3 from the mirror copy, a container's change
# committed on it, pushed; skopeo reads it back with the store's digests;
# roost pulls it back by tag and by digest and launches it. A second push
# sends nothing; another repository mounts the blobs; two platforms go as
# an index; chunked uploads. Bearer tokens (tests/tokenserver.py in front):
# push scope, credentials, a registry gone mid-upload (begun again, or
# failing cleanly and passing when run again). Refusals: wrong credentials,
# plain HTTP off loopback, an image not stored, a registry that is gone.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
require_root
command -v skopeo >/dev/null || skip_all "skopeo is not installed"
[ -x "$REGISTRY_BIN" ] || skip_all "docker-registry is not installed"
have_alpine_mirror || skip_all "Alpine's mirror copy is not at $ALPINE_MIRROR_DIR"
[ "$(uname -m)" = x86_64 ] || skip_all "the image is launched as x86_64's"
bail() { ok 1 "$1"; tap_done; exit 1; }

store=$TEST_TMP/store
mirror=file://$ALPINE_MIRROR_DIR/alpine
export ROOST_ALLOW_UNSIGNED=1 ROOST_RETRY_DELAY=0.2
pull -q --store "$store" --mirror "$mirror" --arch x86_64 alpine 3.20 || bail "pulling alpine 3.20 from the copy"
launch --store "$store" -q --name c1 alpine:3.20 sh -c 'echo pushed by roost >/etc/motd' ||
        bail "launch --name c1 failed"
roost --store "$store" commit c1 app:1 >/dev/null || bail "roost commit failed"
digest=$(roost --store "$store" images --json | jq -r '.[] | select(.name == "app" and .tag == "1") | .digest')
layers=$(roost --store "$store" inspect app:1 | jq -c '[.[0].Layers[].Digest]')
like "$digest" '^sha256:[0-9a-f]{64}$' "the committed image app:1 is stored"

registry_start || skip_all "docker-registry could not start"
P() { push --store "$store" --cacert "$REGISTRY_CA" "$@"; }
posts() { grep -cE "\"POST /v2/$1/blobs/uploads/[^ ]* HTTP" "$REGISTRY_LOG"; }
mounts() { grep -cE "\"POST /v2/$1/blobs/uploads/\?mount=[^ ]* HTTP" "$REGISTRY_LOG"; }

# --- pushed, read back by skopeo with the same digests ---
run_cmd P app:1 "$REGISTRY/team/app:1"
is "$rc" 0 "push app:1 REGISTRY/team/app:1"
is "$(grep -c '^uploaded ' <<<"$out")" 3 "...uploads two layers and the config"
like "$out" "digest:   $digest \\(the image's manifest\\)" "...and the tag names the image's manifest: the store's digest"
like "$out" "blobs:    3 uploaded \\([0-9.]+ [KM]iB\\), 0 mounted, 0 present" "...summed up"
inspect=$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/team/app:1")
is "$(jq -r .Digest <<<"$inspect")" "$digest" "skopeo inspect: the same manifest digest"
is "$(jq -c .Layers <<<"$inspect")" "$layers" "...and the same layer digests"
check "skopeo copy reads it into an OCI layout" skopeo copy -q --src-cert-dir "$REGISTRY_CERTS" \
        "docker://$REGISTRY/team/app:1" "oci:$TEST_TMP/oci:1"
is "$(jq -r '.manifests[0].digest' "$TEST_TMP/oci/index.json")" "$digest" "...whose manifest is the store's"
cmp -s "$TEST_TMP/oci/blobs/sha256/${digest#sha256:}" "$store/blobs/sha256/${digest#sha256:}"
ok $? "...byte for byte"
bad=0
for l in $(jq -r '.[]' <<<"$layers"); do
        cmp -s "$TEST_TMP/oci/blobs/sha256/${l#sha256:}" "$store/blobs/sha256/${l#sha256:}" || bad=1
done
ok $bad "...and so is every layer"

# --- nothing sent twice ---
before=$(posts team/app)
run_cmd roost --store "$store" push --cacert "$REGISTRY_CA" --json app:1 "$REGISTRY/team/app:1"
is "$rc:$(jq -c '[.uploaded, .mounted, .present, .bytes_uploaded]' <<<"$out")" "0:[0,0,3,0]" \
        "a second push (roost push, through the front): every blob is present, nothing uploaded"
is "$(posts team/app)" "$before" "...no upload begun (the registry logged no POST)"
is "$(jq -r .digest <<<"$out")" "$digest" "...the same digest (--json)"

# --- roost pulls it back, and launches it ---
store2=$TEST_TMP/store2
run_cmd pull -q --store "$store2" --cacert "$REGISTRY_CA" --json "$REGISTRY/team/app:1"
is "$rc:$(jq -r .digest <<<"$out")" "0:$digest" "roost pulls it back by tag: the same image"
run_cmd pull -q --store "$store2" --cacert "$REGISTRY_CA" --json "$REGISTRY/team/app@$digest"
is "$rc:$(jq -r .digest <<<"$out")" "0:$digest" "...and by digest"
run_cmd launch --store "$store2" "$REGISTRY/team/app:1" cat /etc/motd
is "$rc:$out" "0:pushed by roost" "...and launches it, the change on top"

# --- mounts from another repository of the registry ---
run_cmd push --store "$store2" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1" "$REGISTRY/other/app:1"
is "$rc:$(grep -c '^mounted .* from team/app$' <<<"$out")" "0:3" \
        "an image pulled from team/app, pushed to other/app: its three blobs mounted from there"
is "$(mounts other/app):$(posts other/app)" "3:3" "...three mount requests, no other upload begun"
is "$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/other/app:1" | jq -r .Digest)" "$digest" \
        "...the same image there"
roost --store "$store2" tag "$REGISTRY/team/app:1" mine:1 >/dev/null
run_cmd push --store "$store2" --cacert "$REGISTRY_CA" mine:1 "$REGISTRY/third/app:2"
is "$rc:$(grep -c '^mounted .* from ' <<<"$out")" "0:3" \
        "an image of another name: mounted from the repository another stored image came from"

# --- two platforms: an index ---
pull -q --store "$store" --mirror "$mirror" --arch aarch64 alpine 3.20 || bail "pulling alpine 3.20 for aarch64"
run_cmd P alpine:3.20 "$REGISTRY/lib/alpine:3.20"
is "$rc" 0 "alpine:3.20, stored for x86_64 and aarch64, pushed"
like "$out" "\\(an index of its platforms\\)" "...as an index"
raw=$(skopeo inspect --raw --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/lib/alpine:3.20")
is "$(jq -r '.mediaType, (.manifests | length)' <<<"$raw" | tr '\n' ' ')" "application/vnd.oci.image.index.v1+json 2 " \
        "...an OCI index of two manifests"
unlike "$raw" "roost\\." "...without the store's own annotations"
arm=$(roost --store "$store" images --json | jq -r '.[] | select(.name == "alpine" and .tag == "3.20" and .arch == "aarch64") | .digest')
run_cmd pull -q --store "$store2" --cacert "$REGISTRY_CA" --arch aarch64 --json "$REGISTRY/lib/alpine:3.20"
is "$rc:$(jq -r .digest <<<"$out")" "0:$arm" "roost pulls the aarch64 platform from it: the store's image"
run_cmd P --arch x86_64 alpine:3.20 "$REGISTRY/lib/alpine:x86"
is "$(skopeo inspect --raw --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/lib/alpine:x86" | jq -r .mediaType)" \
        "application/vnd.oci.image.manifest.v1+json" "--arch x86_64: that platform's manifest alone"

store4=$TEST_TMP/store4
pull -q --store "$store4" --mirror "$mirror" --arch aarch64 alpine 3.20 || bail "pulling alpine 3.20 for aarch64"
run_cmd push -q --store "$store4" --cacert "$REGISTRY_CA" --json alpine "$REGISTRY/lib/arm:1"
is "$rc:$(jq -r .digest <<<"$out")" "0:$arm" "an image stored for another platform than the host's alone: its manifest pushed"

# --- chunked uploads ---
run_cmd P --chunk-size 1M alpine:3.20 "$REGISTRY/chunked/alpine:3.20"
is "$rc" 0 "--chunk-size 1M: pushed"
is "$(grep -cE '"PATCH /v2/chunked/alpine/blobs/uploads/' "$REGISTRY_LOG")" 8 \
        "...each 3.3 MiB layer in four PATCH requests"
is "$(skopeo inspect --raw --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/chunked/alpine:3.20" | sha256sum | cut -d' ' -f1)" \
        "$(skopeo inspect --raw --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/lib/alpine:3.20" | sha256sum | cut -d' ' -f1)" \
        "...the same index"

# --- refusals ---
run_cmd P nosuch:1 "$REGISTRY/team/app:1"
is "$rc:$(wc -l <<<"$err")" "3:1" "an image not in the store: exit 3, one line"
like "$err" "^push: nosuch:1: no such image in the store$" "...saying so"
run_cmd P app:1 notaregistry/app:1
is "$rc" 2 "a destination that names no registry: exit 2"
run_cmd P app:1 "$REGISTRY/team/app@$digest"
is "$rc" 2 "a destination by digest: exit 2"
run_cmd P --chunk-size 512K app:1 "$REGISTRY/team/app:1"
is "$rc" 2 "--chunk-size below 1M: exit 2"
run_cmd P --chunk-size 5G app:1 "$REGISTRY/team/app:1"
is "$rc" 2 "--chunk-size above 4G: exit 2"
run_cmd P --creds nocolon app:1 "$REGISTRY/team/app:1"
is "$rc:$err" "2:push: --creds: give USER:PASSWORD" "--creds without a colon: exit 2, before any request"
run_cmd P --plain-http app:1 registry.example:5000/team/app:1
is "$rc" 2 "--plain-http to a registry not on loopback: refused (exit 2)"
like "$err" "not a loopback address" "...saying so"

# --- Bearer tokens (tests/tokenserver.py in front of the registry) ---
tokenserver_start log-scope || bail "the token server could not start"
run_cmd P -q app:1 "$TOKEN_REGISTRY/tok/app:1"
is "$rc" 0 "a registry that wants a Bearer token: pushed with one"
like "$(grep '^GET /token' "$TOKEN_LOG" | head -1)" "scope=repository:tok/app:pull,push" \
        "...asked for with the push scope"
is "$(grep -c '^PUT /v2/tok/app/blobs/uploads/.* auth=bearer' "$TOKEN_LOG")" 3 "...three blobs PUT with it"
is "$(grep -c '^PUT /v2/tok/app/manifests/1 auth=bearer' "$TOKEN_LOG")" 1 "...and the manifest"
is "$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/tok/app:1" | jq -r .Digest)" "$digest" \
        "...the same image in the registry behind it"
store3=$TEST_TMP/store3
pull -q --store "$store3" --cacert "$REGISTRY_CA" "$TOKEN_REGISTRY/tok/app:1" || bail "pull through the token server"
: >"$TOKEN_LOG"
run_cmd push --store "$store3" --cacert "$REGISTRY_CA" "$TOKEN_REGISTRY/tok/app:1" "$TOKEN_REGISTRY/tok/other:1"
is "$rc:$(grep -c '^mounted .* from tok/app$' <<<"$out")" "0:3" "through Bearer tokens too, blobs are mounted from another repository"
like "$(grep '^GET /token' "$TOKEN_LOG" | head -1)" "scope=repository:tok/other:pull,push scope=repository:tok/app:pull" \
        "...with a token for push there and pull on the source"
tokenserver_stop

tokenserver_start users=pu:sh-Pa55 || bail "the token server could not start"
run_cmd P -q app:1 "$TOKEN_REGISTRY/tok/creds:1"
is "$rc:$(wc -l <<<"$err")" "4:1" "a token server that wants credentials, none given: exit 4, one line"
like "$err" "token server of $TOKEN_REGISTRY refused an anonymous push" "...saying so"
run_cmd P -q --creds pu:wrong app:1 "$TOKEN_REGISTRY/tok/creds:1"
is "$rc" 4 "wrong credentials: exit 4"
like "$err" "refused the credentials \\(UNAUTHORIZED" "...the registry's code in the line"
run_cmd P --creds pu:sh-Pa55 app:1 "$TOKEN_REGISTRY/tok/creds:1"
is "$rc" 0 "--creds: the token server's Basic credentials, then the token"
is "$(grep -c '^[A-Z]* /v2/.* auth=basic' "$TOKEN_LOG")" 0 "...never sent to the registry itself"
unlike "$out$err" 'sh-Pa55|cHU6c2gtUGE1NQ' "...and never printed"
tokenserver_stop

# A registry gone mid-upload: the connection closed halfway through a
# layer's body, twice (libcurl sends once more by itself on a fresh
# connection when a kept one breaks).
tokenserver_start cut-upload=2 || bail "the token server could not start"
run_cmd P -q --retries 0 app:1 "$TOKEN_REGISTRY/tok/cut:1"
is "$rc:$(wc -l <<<"$err")" "4:1" "a registry gone mid-upload, no retry left: exit 4, one line"
run_cmd P --json app:1 "$TOKEN_REGISTRY/tok/cut:1"
is "$rc:$(jq -r .digest <<<"$out")" "0:$digest" "...and run again, pushed"
is "$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/tok/cut:1" | jq -r .Digest)" "$digest" \
        "...whole: skopeo reads the image"
tokenserver_stop
tokenserver_start cut-upload=2 || bail "the token server could not start"
run_cmd P -q app:1 "$TOKEN_REGISTRY/tok/cut2:1"
is "$rc" 0 "with retries left, the upload is begun again and the push succeeds"
like "$err" "upload begun again, retry 1 of" "...after a warning"
tokenserver_stop
tokenserver_start cut-upload=2 || bail "the token server could not start"
run_cmd P -q --chunk-size 1M alpine:3.20 "$TOKEN_REGISTRY/tok/cut3:1"
is "$rc" 0 "a chunk cut off: pushed"
like "$err" "asking where the upload stands, retry 1 of" "...resumed from where the registry says the upload stands"
is "$(grep -c '^GET /v2/tok/cut3/blobs/uploads/' "$TOKEN_LOG")" 1 "...one status request"
tokenserver_stop

tokenserver_start 429-once || bail "the token server could not start"
run_cmd P -q --retries 0 app:1 "$TOKEN_REGISTRY/tok/slow:1"
is "$rc:$(wc -l <<<"$err")" "4:1" "a 429 with no retry left: exit 4, one line"
like "$err" "^push: putting the manifest .*asks to slow down \\(TOOMANYREQUESTS: slow down\\); retry after 1 s$" \
        "...with the registry's code and Retry-After"
tokenserver_stop
tokenserver_start 429-once || bail "the token server could not start"
run_cmd P -q app:1 "$TOKEN_REGISTRY/tok/slow:1"
is "$rc" 0 "a 429 with retries left: pushed"
like "$err" "HTTP 429; retry 1 of [0-9]+ in 1 s" "...after waiting what Retry-After says"
tokenserver_stop
# A registry that accepts chunks and then says it holds one byte, over
# and over: the retries run out (exit 4), the upload does not go on forever.
tokenserver_start upload-regress || bail "the token server could not start"
run_cmd timeout 120 push --store "$store" --cacert "$REGISTRY_CA" -q --retries 2 --chunk-size 1M alpine:3.20 \
        "$TOKEN_REGISTRY/tok/regress:1"
is "$rc" 4 "an upload the registry loses again and again: exit 4 after the retries"
like "$(tail -1 <<<"$err")" "^push: uploading blob sha256:.*UNKNOWN: lost it" "...its last line the registry's refusal"
tokenserver_stop
# An upload's Location on another host: its requests carry no Authorization.
tokenserver_start upload-elsewhere || bail "the token server could not start"
run_cmd P -q --chunk-size 1M alpine:3.20 "$TOKEN_REGISTRY/tok/elsewhere:1"
is "$rc" 0 "uploads sent where another host's Location says: pushed"
ups=$(grep -E '^(PUT|PATCH) /v2/tok/elsewhere/blobs/uploads/' "$TOKEN_LOG")
[ -n "$ups" ] && ! grep -qv 'auth=none$' <<<"$ups"; ok $? "...with no Authorization on any of them"
tokenserver_stop
# A hostile Retry-After: no terminal escape reaches the message.
tokenserver_start 429-once "retry-after=1"$'\e]0;pwned\a\e[2J' || bail "the token server could not start"
run_cmd P -q --retries 0 app:1 "$TOKEN_REGISTRY/tok/slow3:1"
is "$rc:$(wc -l <<<"$err")" "4:1" "a 429 whose Retry-After holds terminal escapes: exit 4, one line"
[[ $err != *$'\e'* && $err != *$'\a'* ]]; ok $? "...and no control character in it"
tokenserver_stop
tokenserver_start digest-junk || bail "the token server could not start"
run_cmd P -q app:1 "$TOKEN_REGISTRY/tok/junk:1"
is "$rc:$(wc -l <<<"$err")" "5:1" "a Docker-Content-Digest not the store's, with terminal escapes: exit 5, one line"
[[ $err != *$'\e'* && $err != *$'\a'* ]]; ok $? "...and no control character in it"
tokenserver_stop
# A Retry-After longer than --timeout: waited within it, not for an hour.
tokenserver_start 429-once retry-after=3600 || bail "the token server could not start"
t0=$SECONDS
run_cmd timeout 120 push --store "$store" --cacert "$REGISTRY_CA" -q --timeout 3 app:1 "$TOKEN_REGISTRY/tok/slow2:1"
is "$rc" 0 "a 429 asking for an hour, with --timeout 3: pushed"
[ $((SECONDS - t0)) -lt 30 ]; ok $? "...having waited no longer than --timeout allows"
tokenserver_stop

# A damaged store blob: the registry computes another digest.
damaged=$TEST_TMP/store-damaged
cp -a "$store" "$damaged"
top=$(jq -r '.[-1]' <<<"$layers")
chmod u+w "$damaged/blobs/sha256/${top#sha256:}"
flip_byte "$damaged/blobs/sha256/${top#sha256:}" 100
run_cmd push -q --store "$damaged" --cacert "$REGISTRY_CA" app:1 "$REGISTRY/damaged/app:1"
is "$rc:$(wc -l <<<"$err")" "5:1" "a damaged store blob: the registry refuses it, exit 5, one line"
like "$err" "DIGEST_INVALID.*roost verify" "...its code in the line, and what to run"
is "$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/damaged/app:1" 2>/dev/null | jq -r .Digest)" "" \
        "...and no tag is written"

# --- a registry that is gone ---
registry_stop
run_cmd P -q --retries 0 app:1 "$REGISTRY/team/app:2"
is "$rc:$(wc -l <<<"$err")" "4:1" "a registry that is gone: exit 4, one line"
like "$err" "connection refused" "...saying why"

# --- a registry that wants a password (Basic) ---
htpasswd=$TEST_TMP/htpasswd
make_htpasswd "$htpasswd" roost 's3cret-Pa55' || bail "cannot make a bcrypt htpasswd"
registry_start "$htpasswd" || bail "docker-registry could not start with htpasswd"
export REGISTRY_AUTH_FILE=$TEST_TMP/auth.json
P() { push --store "$store" --cacert "$REGISTRY_CA" "$@"; }
run_cmd P -q app:1 "$REGISTRY/team/app:1"
is "$rc:$(wc -l <<<"$err")" "4:1" "no credentials: exit 4, one line"
like "$err" "give --creds USER:PASS" "...saying what to do"
run_cmd P -q --creds roost:wrong app:1 "$REGISTRY/team/app:1"
is "$rc" 4 "a wrong password: exit 4"
like "$err" "refused access \\(HTTP 401, unauthorized\\): the credentials are not accepted" "...in one line"
run_cmd P --creds 'roost:s3cret-Pa55' app:1 "$REGISTRY/team/app:1"
is "$rc" 0 "--creds: pushed"
all=$out$err
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" "$(printf 'roost:s3cret-Pa55' | base64)" >"$REGISTRY_AUTH_FILE"
run_cmd P --json app:1 "$REGISTRY/team/app:3"
is "$rc" 0 "credentials from auth.json"
unlike "$all$out$err" 's3cret|cm9vc3Q6czNjcmV0' "the password appears in no output"
! grep -rqa 's3cret\|cm9vc3Q6czNjcmV0' "$store"
ok $? "...nor anywhere in the store"
registry_stop
unset REGISTRY_AUTH_FILE # docker-registry would read it as its own setting
REGISTRY_PLAIN=1 registry_start "$htpasswd" || bail "docker-registry could not start"
run_cmd P -q --plain-http --creds 'roost:s3cret-Pa55' app:1 "$REGISTRY/team/app:1"
is "$rc" 4 "a plain-HTTP registry that asks for credentials gets none (exit 4)"
like "$err" "no credential is ever sent over plain HTTP" "...saying so"
registry_stop
REGISTRY_PLAIN=1 registry_start || bail "docker-registry could not start"
run_cmd P -q --plain-http --json app:1 "$REGISTRY/team/app:1"
is "$rc:$(jq -r .digest <<<"$out")" "0:$digest" "--plain-http pushes to a loopback registry"
tap_done
