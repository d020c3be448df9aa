#!/bin/bash
# pull and signatures, over nginx: a fixture mirror signed with throwaway
# keys made here with gpg in a temporary home (gpg only makes the fixtures;
# pull keeps no keyring and starts no agent). A good signature is stored
# beside the release and recorded as its verdict; refused, with nothing
# stored: a flipped byte under a consistent index, another key's signature,
# SHA-1, a key that had expired, a truncated .asc, and no .asc at all
# (accepted with --allow-unsigned, marked unsigned). roost verify checks the
# stored signature again, and finds it tampered with.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
command -v gpg >/dev/null || skip_all "gpg missing (apt-get install gpg)"
# This script is about signatures: nothing unsigned is let in unless it says so.
unset ROOST_ALLOW_UNSIGNED ROOST_TRUST

test_gpg_keys
fpr() { gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }
MIRROR=$(fpr mirror@example.org) OTHER=$(fpr other@example.org) LATE=$(fpr late@example.org)
KEY=$TEST_TMP/mirror-key.asc
G -a --export mirror@example.org >"$KEY"

www=$TEST_TMP/www
rootfs_tarball "$TEST_TMP/rootfs.tar.gz" 3.99.2 || skip_all "could not build the fixture"
file=alpine-minirootfs-3.99.2-x86_64.tar.gz
# mirror PREFIX: a mirror of 3.99.2 under $www/PREFIX; echoes the tarball's path.
mirror() {
        make_mirror "$www/$1" 3.99.2 "$TEST_TMP/rootfs.tar.gz" >/dev/null &&
                echo "$www/$1/alpine/v3.99/releases/x86_64/$file"
}
sign() { # sign FILE KEY [GPG OPTIONS...]: FILE.asc, armored, as Alpine's
        local f=$1 key=$2; shift 2
        G -u "$key" -a "$@" --detach-sign -o "$f.asc" "$f"
}
f=$(mirror good) && sign "$f" mirror@example.org
# A mirror that rewrote the tarball and the index to match: the checksums
# hold, the signature does not.
f=$(mirror flipped) && sign "$f" mirror@example.org
flip_byte "$f" 3000
yaml=$(dirname "$f")/latest-releases.yaml
sed -i "s/sha256: $(sha256_of "$TEST_TMP/rootfs.tar.gz")/sha256: $(sha256_of "$f")/" "$yaml"
sed -i "/flavor: alpine-minirootfs/,\$ {/sha512:/d}" "$yaml"
f=$(mirror other) && sign "$f" other@example.org
f=$(mirror sha1) && sign "$f" mirror@example.org --digest-algo SHA1
# Late's key signs on 2021-01-05 and is then given an expiry of 2021-01-02.
f=$(mirror late) && sign "$f" late@example.org --faked-system-time 20210105T000000
G --faked-system-time 20210101T000200 --quick-set-expire "$LATE" 1d
G -a --export late@example.org >"$TEST_TMP/late-key.asc"
f=$(mirror truncated) && sign "$f" mirror@example.org && truncate -s 200 "$f.asc"
mirror unsigned >/dev/null

nginx_start "$www" || skip_all "nginx could not start"

P() { # P PREFIX STORE [OPTIONS...]
        local prefix=$1 store=$2; shift 2
        pull --store "$store" --mirror "$NGINX_URL/$prefix/alpine" --cacert "$NGINX_CA" --arch x86_64 "$@" alpine 3.99
}
R() { roost --store "$store" "$@"; }
nothing_stored() { # the store holds no blob, reference or partial bytes
        [ "$(store_blob_count "$1")" -eq 0 ] && ! store_has_ref "$1" alpine:3.99 &&
                [ "$(store_partial_count "$1")" -eq 0 ]
}

# --- a good signature ---
store=$TEST_TMP/s-good
run_cmd P good "$store" --trust "$KEY"
is "$rc" 0 "a release signed by a --trust key is pulled"
like "$out" "signed: +$MIRROR" "...and the result names the signer"
like "$err" "downloading $file" "...in one pass, while the signature is checked"
doc=$(ref_doc "$store" alpine:3.99 x86_64)
is "$(jq -r '[.verdict, .signer] | join(" ")' <<<"$doc")" "signed $MIRROR" "the reference records the verdict and the signer"
sig=$(jq -r .signature <<<"$doc")
is "$sig" "sha256:$(sha256_of "$www/good/alpine/v3.99/releases/x86_64/$file.asc")" "...and the .asc, stored as a blob of its own"
is "$(stat -c %a "$store/blobs/sha256/${sig#sha256:}")" 444 "...read-only, as every blob"
is "$(jq -r '.sha512 // "none"' <<<"$doc")" none "no sha512 is recorded: the signature stands in for it, and none was computed"
run_cmd R images
like "$(grep '^alpine:3.99 ' <<<"$out")" " ${MIRROR: -16}\$" "roost images shows the signer's key id"
run_cmd R images --json
is "$(jq -r '.[0] | [.verdict, .signer] | join(" ")' <<<"$out")" "signed $MIRROR" "...and --json the verdict and the whole fingerprint"
run_cmd R verify --trust "$KEY" alpine:3.99
is "$rc" 0 "roost verify checks the stored signature again"
like "$out" "alpine:3.99 \\(x86_64\\): signature ok \\($MIRROR, SHA512\\)" "...saying whose, over what hash"
run_cmd R verify alpine:3.99
is "$rc" 5 "...and, without the key it was made with, cannot vouch for it (exit 5)"
like "$err" "^roost: verify: alpine:3.99: signature: signed by key ${MIRROR: -16}, which roost does not trust" "...saying so"
ROOST_TRUST="$TEST_TMP/late-key.asc:$KEY" run_cmd R verify alpine:3.99
is "$rc" 0 "ROOST_TRUST names keys too (colon-separated)"
run_cmd R gc
ROOST_TRUST=$KEY run_cmd R verify -q alpine:3.99
is "$rc:$err" "0:" "gc keeps the signature a reference records"
# --- the signature travels with roost export, and import checks it again ---
run_cmd R export alpine:3.99 "$TEST_TMP/signed.tar"
is "$rc:$(tar -xOf "$TEST_TMP/signed.tar" index.json | jq -r '.manifests[0].annotations["roost.signature"]')" "0:$sig" \
        "roost export carries the .asc as a blob its descriptor names"
ROOST_TRUST=$KEY run_cmd roost --store "$TEST_TMP/s-imported" import "$TEST_TMP/signed.tar"
doc=$(ref_doc "$TEST_TMP/s-imported" alpine:3.99 x86_64)
is "$rc:$(jq -r '[.verdict, .signer, .signature] | join(" ")' <<<"$doc")" "0:signed $MIRROR $sig" \
        "import checks it again over the layer, with the keys a pull trusts, and records it signed"
run_cmd roost --store "$TEST_TMP/s-imported-untrusted" import "$TEST_TMP/signed.tar"
like "$rc:$err" "^5:roost: import: .*the signature it carries does not verify: signed by key ${MIRROR: -16}" \
        "...without the key, the import is refused (exit 5), as pull refuses it"
! store_has_ref "$TEST_TMP/s-imported-untrusted" alpine:3.99; ok $? "...and leaves no reference"
mkdir -p "$TEST_TMP/lie" && tar -C "$TEST_TMP/lie" -xf "$TEST_TMP/signed.tar" &&
        cp "$www/other/alpine/v3.99/releases/x86_64/$file.asc" "$TEST_TMP/other.asc" &&
        osig=$(sha256_of "$TEST_TMP/other.asc") && cp "$TEST_TMP/other.asc" "$TEST_TMP/lie/blobs/sha256/$osig" &&
        jq -c ".manifests[0].annotations[\"roost.signature\"] = \"sha256:$osig\"" "$TEST_TMP/lie/index.json" \
                >"$TEST_TMP/lie/i" && mv "$TEST_TMP/lie/i" "$TEST_TMP/lie/index.json"
ROOST_TRUST=$KEY run_cmd roost --store "$TEST_TMP/s-lie" import "$TEST_TMP/lie"
like "$rc:$err" "^5:roost: import: .*does not verify" "a file that swaps in another key's signature is refused"

gets=$(tarball_gets "$NGINX_LOG" "good/alpine/v3.99/releases/x86_64/$file")
run_cmd P good "$store" --trust "$KEY" --refresh
is "$rc:$(tarball_gets "$NGINX_LOG" "good/alpine/v3.99/releases/x86_64/$file")" "0:$gets" \
        "--refresh checks the signature over the stored archive, downloading nothing"
is "$(tarball_gets "$NGINX_LOG" "$file.sha256")" 0 "no .sha256 was read: the index has the sha256"

ROOST_TRUST=$KEY run_cmd P good "$TEST_TMP/s-env"
is "$rc" 0 "ROOST_TRUST=KEY.asc trusts it as --trust does"
run_cmd P good "$TEST_TMP/s-alpine"
is "$rc" 5 "Alpine's key alone does not trust a throwaway key's signature (exit 5)"
like "$err" "^pull: verifying $file: signature: signed by key ${MIRROR: -16}, which roost does not trust \\(add it with --trust KEY.asc\\)$" "...one line saying so"
check "...and nothing is stored" nothing_stored "$TEST_TMP/s-alpine"

# --- refusals: nothing stored, whatever --allow-unsigned says ---
refused() { # refused PREFIX REGEX DESCRIPTION [OPTIONS...]
        local prefix=$1 regex=$2 what=$3; shift 3
        local s=$TEST_TMP/s-$prefix
        rm -rf "$s"
        run_cmd P "$prefix" "$s" -q --allow-unsigned "$@"
        is "$rc" 5 "$what: refused (exit 5), even with --allow-unsigned"
        like "$err" "^pull: verifying $file: signature: $regex" "...one line saying why"
        is "$(wc -l <<<"$err")" 1 "...and only that line (-q)"
        check "...and nothing is stored, nor kept to resume" nothing_stored "$s"
}
refused flipped "the signature does not match the file" "a flipped byte under an index rewritten to match" --trust "$KEY"
refused other "signed by key ${OTHER: -16}, which roost does not trust" "a signature by another key" --trust "$KEY"
refused sha1 "the signature uses SHA1, which roost refuses" "a SHA-1 signature" --trust "$KEY"
refused late ".*key was not valid when it was made" "a signature made after its key expired" --trust "$TEST_TMP/late-key.asc"
refused truncated "" "a truncated .asc" --trust "$KEY"

# --- no signature at all ---
s=$TEST_TMP/s-unsigned
run_cmd P unsigned "$s" --trust "$KEY"
is "$rc" 5 "a mirror that serves no .asc is refused (exit 5)"
like "$err" "^pull: $file: the mirror serves no signature \\(.*$file\\.asc: HTTP 404\\); refused \\(--allow-unsigned accepts it, marked unsigned\\)$" "...one line saying so, and what would accept it"
check "...before anything is stored" nothing_stored "$s"
is "$(tarball_gets "$NGINX_LOG" "unsigned/alpine/v3.99/releases/x86_64/$file")" 0 "...or the tarball asked for"
run_cmd P unsigned "$s" --allow-unsigned --json
is "$rc:$(jq -r '[.verdict, .signer // "-", .signature // "-"] | join(" ")' <<<"$out")" "0:unsigned - -" \
        "with --allow-unsigned it is pulled, marked unsigned"
is "$(jq -r .sha512 <<<"$out")" "$(sha512sum "$www/unsigned/alpine/v3.99/releases/x86_64/$file" | cut -d' ' -f1)" \
        "...and its SHA-512 checked against the index and recorded, as before signatures"
run_cmd roost --store "$s" images
like "$(grep '^alpine:3.99 ' <<<"$out")" " unsigned\$" "roost images shows it unsigned"
ROOST_ALLOW_UNSIGNED=1 run_cmd P unsigned "$TEST_TMP/s-unsigned-env"
is "$rc" 0 "ROOST_ALLOW_UNSIGNED=1 does what --allow-unsigned does"

# --- verify after the stored .asc is tampered with ---
chmod u+w "$store/blobs/sha256/${sig#sha256:}"
sed -i 's/^\(.\{20\}\)./\1A/; 5s/^\(.\{10\}\)./\1B/' "$store/blobs/sha256/${sig#sha256:}"
run_cmd R verify --trust "$KEY" alpine:3.99
is "$rc" 5 "roost verify finds a tampered stored signature (exit 5)"
like "$err" "^roost: verify: alpine:3.99: signature: " "...naming the image and the signature"
rm "$store/blobs/sha256/${sig#sha256:}"
run_cmd R verify --trust "$KEY" alpine:3.99
is "$rc" 5 "...and one that is missing"
like "$err" "signature [0-9a-f]{12}: missing from the store" "...saying so"
tap_done
