#!/bin/bash
# pull over HTTP/2, as mirrors and CDNs serve: the signature is asked for
# beside the tarball, on the one connection, and checked over every byte
# (docs/pull.md, "Round trips"). nginx with http2 and a log that names each
# request's connection and times: a good signature; a signature that comes
# slowly while the tarball streams (the tarball waits at its hold and is
# asked for once); a flipped byte and a missing .asc, refused with nothing
# stored (the latter accepted with --allow-unsigned); a .asc that fails
# (asked again, one after another, then given up with nothing published);
# and one that stalls, the tarball's bytes kept from it resumed by range
# under a good signature. The
# other pull tests run over HTTP/1.1, where the requests go one after
# another.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
command -v gpg >/dev/null || skip_all "gpg missing (apt-get install gpg)"
unset ROOST_ALLOW_UNSIGNED ROOST_TRUST
export ROOST_RETRY_DELAY=0
fixture_signing_key || skip_all "gpg cannot make keys here"

# A tarball of more than the 1 MiB hold: bytes nothing compresses.
tree=$TEST_TMP/tree
make_rootfs "$tree" 3.99.2 && head -c 3000000 /dev/urandom >"$tree/noise" &&
        make_tarball "$tree" "$TEST_TMP/rootfs.tar.gz" gz || skip_all "could not build the fixture"
file=alpine-minirootfs-3.99.2-x86_64.tar.gz
www=$TEST_TMP/www
mirror() { # mirror PREFIX: a mirror of 3.99.2 under $www/PREFIX; echoes the tarball's path
        make_mirror "$www/$1" 3.99.2 "$TEST_TMP/rootfs.tar.gz" >/dev/null &&
                echo "$www/$1/alpine/v3.99/releases/x86_64/$file"
}
for m in good slow failing stalling; do
        f=$(mirror $m) && fixture_sign "$f" || skip_all "could not sign the fixture"
done
f=$(mirror flipped) && fixture_sign "$f" && flip_byte "$f" 3000
yaml=$(dirname "$f")/latest-releases.yaml
sed -i "s/sha256: $(sha256_of "$TEST_TMP/rootfs.tar.gz")/sha256: $(sha256_of "$f")/" "$yaml"
sed -i "/flavor: alpine-minirootfs/,\$ {/sha512:/d}" "$yaml"
mirror unsigned >/dev/null

# $msec is when a request ended, $request_time how long it took.
NGINX_LISTEN_OPTS=http2 \
        NGINX_HTTP_EXTRA='log_format wire "$connection $msec $request_time \"$request\" $status $body_bytes_sent";' \
        nginx_start "$www" "access_log $TEST_TMP/wire.log wire;
        location ~ ^/slow/.*[.]asc\$ { limit_rate 300; }
        location ~ ^/failing/.*[.]asc\$ { return 503; }
        location ~ ^/stalling/.*[.]asc\$ { limit_rate 1; }" || skip_all "nginx could not start"
wire=$TEST_TMP/wire.log

P() { # P PREFIX STORE [OPTIONS...]
        local prefix=$1 store=$2; shift 2
        pull --store "$store" --mirror "$NGINX_URL/$prefix/alpine" --cacert "$NGINX_CA" --arch x86_64 "$@" alpine 3.99
}
nothing_stored() { # the store holds no blob, reference or partial bytes
        [ "$(store_blob_count "$1")" -eq 0 ] && ! store_has_ref "$1" alpine:3.99 &&
                [ "$(store_partial_count "$1")" -eq 0 ]
}
log_of() { grep " \"GET /$1/" "$wire"; } # log_of PREFIX: that mirror's requests
# start PREFIX SUFFIX / end PREFIX SUFFIX: when that mirror's last request
# for a name ending in SUFFIX began and ended, in seconds.
start() { log_of "$1" | grep "$2 HTTP" | tail -1 | awk '{ printf "%.3f\n", $2 - $3 }'; }
end() { log_of "$1" | grep "$2 HTTP" | tail -1 | awk '{ print $2 }'; }

# --- a good signature, the .asc beside the tarball ---
store=$TEST_TMP/s-good
run_cmd P good "$store" --trust "$FIXTURE_KEY"
is "$rc" 0 "a signed release is pulled over HTTP/2"
is "$(jq -r .verdict <<<"$(ref_doc "$store" alpine:3.99 x86_64)")" signed "...its signature checked"
is "$(log_of good | awk '{ print $1 }' | sort -u | wc -l)" 1 "...the index, the .asc and the tarball on one connection"
is "$(log_of good | grep -c 'HTTP/2.0" 200')" 3 "...as three HTTP/2 requests, each answered once"

# --- a signature that comes slowly: the tarball waits for it ---
store=$TEST_TMP/s-slow
run_cmd P slow "$store" --trust "$FIXTURE_KEY"
is "$rc" 0 "a signature slower than the tarball is waited for"
is "$(jq -r .verdict <<<"$(ref_doc "$store" alpine:3.99 x86_64)")" signed "...and checked over every byte"
is "$(tarball_gets "$wire" "$file")" 2 "...the tarball asked for once (and once by the good pull above)"
awk -v t="$(start slow .tar.gz)" -v a="$(end slow .asc)" 'BEGIN { exit !(t < a) }'
ok $? "...while the .asc was still coming: the two overlap"
cmp -s "$store/blobs/sha256/$(sha256_of "$TEST_TMP/rootfs.tar.gz")" "$TEST_TMP/rootfs.tar.gz"
ok $? "...and the stored blob is the release, byte for byte"

# --- refusals, with nothing stored ---
store=$TEST_TMP/s-flipped
run_cmd P flipped "$store" --trust "$FIXTURE_KEY"
is "$rc" 5 "a flipped byte under a rewritten index is refused (exit 5)"
like "$err" "verifying $file: signature: " "...by the signature"
nothing_stored "$store"
ok $? "...nothing stored, not even bytes to resume from"

store=$TEST_TMP/s-unsigned
run_cmd P unsigned "$store" --trust "$FIXTURE_KEY"
is "$rc" 5 "no .asc, while the tarball streams: refused (exit 5)"
like "$err" "serves no signature" "...saying so"
nothing_stored "$store"
ok $? "...nothing stored"
run_cmd P unsigned "$store" --allow-unsigned
is "$rc" 0 "...and accepted with --allow-unsigned"
is "$(jq -r .verdict <<<"$(ref_doc "$store" alpine:3.99 x86_64)")" unsigned "...marked unsigned, its sha512 checked"

# --- a .asc that fails: asked again alone, with retries, then given up ---
store=$TEST_TMP/s-failing
run_cmd P failing "$store" --trust "$FIXTURE_KEY" --retries 1
is "$rc" 4 "a .asc answered with 503 is a network failure (exit 4)"
like "$err" "$file.asc: HTTP 503.*gave up after 2 attempts" "...asked again alone, with its retries"
is "$(log_of failing | grep -c '[.]asc HTTP')" 3 "...once beside the tarball, then twice alone"
[ "$(store_blob_count "$store")" -eq 0 ] && ! store_has_ref "$store" alpine:3.99
ok $? "...nothing published"

# A .asc that stalls (a byte a second) while the tarball reaches its hold:
# the tarball's bytes are kept when the .asc is given up, then resumed.
store=$TEST_TMP/s-stalling
ROOST_STALL_SECONDS=1 ROOST_STALL_BYTES=100 run_cmd P stalling "$store" --trust "$FIXTURE_KEY" --retries 1
is "$rc" 4 "a .asc that stalls: given up after its retries (exit 4)"
like "$err" "$file.asc: stalled" "...saying so"
[ "$(store_blob_count "$store")" -eq 0 ] && ! store_has_ref "$store" alpine:3.99 &&
        [ "$(store_partial_count "$store")" -eq 1 ]
ok $? "...nothing published, the tarball's first bytes kept"
run_cmd P good "$store" --trust "$FIXTURE_KEY"
is "$rc" 0 "the same tarball from a good mirror then"
is "$(jq -r .verdict <<<"$(ref_doc "$store" alpine:3.99 x86_64)")" signed "...signed, over every byte"
is "$(log_of good | tail -3 | grep -c "$file HTTP/2.0\" 206")" 1 "...resuming the bytes kept, by range"

tap_done
