#!/bin/bash
# trust/: detached OpenPGP signatures checked over a stream (tests/trust-check
# feeds standard input in 64 KiB writes), against throwaway keys made here
# with gpg in a temporary home (gpg only makes the fixtures: roost itself
# keeps no keyring and starts no agent). Good signatures over SHA-256,
# SHA-384 and SHA-512, armored and binary; refused: a flipped byte, another
# key, SHA-1, a signature made after its key expired, a truncated or empty
# signature file; a signature made while a now-expired key was valid stands.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
command -v gpg >/dev/null || skip_all "gpg missing (apt-get install gpg)"

test_gpg_keys
D=$TEST_TMP
fpr() { gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }
MIRROR=$(fpr mirror@example.org) LATE=$(fpr late@example.org)
head -c 3000000 /dev/urandom >"$D/data"
G -a --export mirror@example.org >"$D/mirror.asc"
G --export mirror@example.org >"$D/mirror.gpg"
sign() { # sign OUT KEY [GPG OPTIONS...]
        local out=$1 key=$2; shift 2
        G -u "$key" "$@" --detach-sign -o "$out" "$D/data"
}
sign "$D/sha512.asc" mirror@example.org -a
sign "$D/sha256.asc" mirror@example.org -a --digest-algo SHA256
sign "$D/sha384.asc" mirror@example.org -a --digest-algo SHA384
sign "$D/binary.sig" mirror@example.org
sign "$D/sha1.asc" mirror@example.org -a --digest-algo SHA1
sign "$D/other.asc" other@example.org -a
# Late's key signs on 2021-01-05, then is given an expiry of 2021-01-02:
# that signature was made by an expired key. One made on 2021-01-01,
# while the key was valid, stands as gpg's would.
sign "$D/late.asc" late@example.org -a --faked-system-time 20210105T000000
sign "$D/early.asc" late@example.org -a --faked-system-time 20210101T000100
G --faked-system-time 20210101T000200 --quick-set-expire "$LATE" 1d
G -a --export late@example.org >"$D/late-key.asc"

check() { # check SIG KEY...: sets rc and out
        local sig=$1; shift
        run_cmd sh -c 'sig=$1; shift; exec trust-check "$sig" "$@" <"$0"' "$D/data" "$sig" "$@"
}
check "$D/sha512.asc" "$D/mirror.asc"
is "$rc:$out" "0:good $MIRROR SHA512" "a SHA-512 signature (gpg's default) by a trusted key is good"
check "$D/sha256.asc" "$D/mirror.asc"
is "$rc:$out" "0:good $MIRROR SHA256" "... a SHA-256 one"
check "$D/sha384.asc" "$D/mirror.asc"
is "$rc:$out" "0:good $MIRROR SHA384" "... a SHA-384 one"
check "$D/binary.sig" "$D/mirror.gpg"
is "$rc:$out" "0:good $MIRROR SHA512" "... a binary signature, with a binary key"
is "$err" "" "... and nothing on stderr"

check "$D/sha1.asc" "$D/mirror.asc"
is "$rc:$out" "5:bad: the signature uses SHA1, which roost refuses (SHA-256, SHA-384 or SHA-512 only)" \
        "a SHA-1 signature is refused"
check "$D/other.asc" "$D/mirror.asc"
like "$rc:$out" "^5:bad: signed by key [0-9A-F]{16}, which roost does not trust" "another key's signature is refused"
check "$D/sha512.asc"
like "$rc:$out" "^5:bad: signed by key" "... so is a throwaway key's against Alpine's key alone"
check "$D/late.asc" "$D/late-key.asc"
like "$rc:$out" "^5:bad: .*key was not valid when it was made" "a signature made after its key expired is refused"
check "$D/early.asc" "$D/late-key.asc"
is "$rc:$out" "0:good $LATE SHA512" "one made while the key was valid stands, though the key has expired since"
is "$err" "" "... and nothing on stderr"

head -c 200 "$D/sha512.asc" >"$D/truncated.asc"
check "$D/truncated.asc" "$D/mirror.asc"
like "$rc:$out" "^5:bad: " "a truncated signature file is refused"
: >"$D/empty.asc"
check "$D/empty.asc" "$D/mirror.asc"
is "$rc:$out" "5:bad: the signature file is empty" "an empty one too"
cp "$D/data" "$D/data.good"
flip_byte "$D/data" 1234567
check "$D/sha512.asc" "$D/mirror.asc"
like "$rc:$out" "^5:bad: the signature does not match the file" "one flipped byte is refused"
is "$err" "" "... with nothing on stderr (librnp's own complaints go nowhere)"
cp "$D/data.good" "$D/data"

run_cmd trust-check "$D/sha512.asc" "$D/sha512.asc"
like "$rc:$out" "^5:bad: .*sha512.asc holds no OpenPGP public key" "a key file that holds no key: one line, when the check begins"
run_cmd sh -c 'exec trust-check "$1" "$2" </dev/null' - "$D/sha512.asc" "$D/mirror.asc"
is "$rc" 5 "no bytes at all: not good"
tap_done
