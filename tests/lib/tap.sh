# A small TAP library for roost's shell tests. Source it, then call the
# assertions; tap_done prints the plan at the end.
set -u
# script(1) and tmux run their commands with $SHELL, which CI may not set
# (they then fall back to dash); the tests write those commands for bash.
export SHELL=/bin/bash
_tap_n=0
_tap_failed=0

tap_diag() { printf '# %s\n' "$*"; }

ok() { # ok COND-EXIT-STATUS DESCRIPTION
        _tap_n=$((_tap_n + 1))
        if [ "$1" -eq 0 ]; then
                printf 'ok %d - %s\n' "$_tap_n" "$2"
        else
                printf 'not ok %d - %s\n' "$_tap_n" "$2"
                _tap_failed=$((_tap_failed + 1))
        fi
}

# check DESCRIPTION CMD...: passes when CMD exits 0.
check() {
        local d=$1; shift
        "$@"; ok $? "$d"
}

# is GOT WANT DESCRIPTION
is() {
        if [ "$1" = "$2" ]; then ok 0 "$3"; else
                ok 1 "$3"; tap_diag "got:  '$1'"; tap_diag "want: '$2'"; fi
}

# like GOT REGEX DESCRIPTION (grep -E)
like() {
        if printf '%s\n' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
                ok 1 "$3"; tap_diag "got:  '$1'"; tap_diag "want match: '$2'"; fi
}

# unlike GOT REGEX DESCRIPTION: GOT has no match of REGEX (grep -E)
unlike() {
        if printf '%s\n' "$1" | grep -Eq -- "$2"; then
                ok 1 "$3"; tap_diag "got:  '$1'"; tap_diag "want no match: '$2'"; else ok 0 "$3"; fi
}

# flip_byte FILE OFFSET: change the byte at OFFSET to another value (its
# bits inverted), so that the file's bytes always differ afterwards; writing
# a fixed 'X' would leave a byte that was 'X' already as it was.
flip_byte() {
        python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

# run_cmd CMD...: runs CMD, sets $rc, $out (stdout) and $err (stderr).
run_cmd() {
        local o e
        o=$(mktemp) e=$(mktemp)
        "$@" >"$o" 2>"$e"
        rc=$?
        out=$(cat "$o") err=$(cat "$e")
        rm -f "$o" "$e"
}

# skip_all REASON: the whole script is skipped, with the reason shown.
skip_all() {
        printf '1..0 # SKIP %s\n' "$*"
        exit 0
}

skip() { # skip DESCRIPTION REASON
        _tap_n=$((_tap_n + 1))
        printf 'ok %d - %s # SKIP %s\n' "$_tap_n" "$1" "$2"
}

tap_done() {
        printf '1..%d\n' "$_tap_n"
        [ "$_tap_failed" -eq 0 ]
}

require_root() {
        [ "$(id -u)" -eq 0 ] || skip_all "needs root"
}

# The real Alpine minirootfs lives beside the project on development and CI
# machines; tests that use it are skipped, saying so, where it is not.
ALPINE_MIRROR_DIR="${ROOST_ALPINE_MIRROR:-$ROOST_SRCDIR/../shared/alpine-mirror}"
have_alpine_mirror() {
        [ -f "$ALPINE_MIRROR_DIR/alpine/v3.20/releases/x86_64/alpine-minirootfs-3.20.3-x86_64.tar.gz" ]
}

# A scratch directory removed at exit, whatever happens.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/roost-test.XXXXXX")
chmod 755 "$TEST_TMP"
_tap_cleanup_hooks=""
tap_at_exit() { _tap_cleanup_hooks="$1; $_tap_cleanup_hooks"; }
trap 'eval "$_tap_cleanup_hooks"; rm -rf "$TEST_TMP"' EXIT
trap 'exit 1' INT TERM HUP

# An unprivileged user for the rootless cases, created on first use (root
# only). Sets TEST_USER; run commands as it with as_test_user CMD...
TEST_USER=roost-test
ensure_test_user() {
        id -u "$TEST_USER" >/dev/null 2>&1 && return 0
        [ "$(id -u)" -eq 0 ] || return 1
        useradd --system --create-home --home-dir "/var/tmp/$TEST_USER" --shell /bin/sh "$TEST_USER" 2>/dev/null ||
                id -u "$TEST_USER" >/dev/null 2>&1
}
as_test_user() {
        setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups --reset-env \
                env PATH="$PATH" HOME="$(getent passwd "$TEST_USER" | cut -d: -f6)" \
                ROOST_SRCDIR="$ROOST_SRCDIR" ROOST_BUILDDIR="$ROOST_BUILDDIR" \
                ROOST_ALLOW_UNSIGNED="${ROOST_ALLOW_UNSIGNED:-}" "$@"
}

# require_rootless: the test user exists and may make user namespaces, or
# the whole script is skipped, saying which.
require_rootless() {
        require_root
        ensure_test_user || skip_all "cannot create the test user"
        as_test_user unshare --user --map-root-user true 2>/dev/null ||
                skip_all "unprivileged user namespaces are disabled on this kernel"
}

# ref_doc STORE NAME:TAG [ARCH]: the reference as roost images --json shows
# it, with "sha256" added: its single layer's digest, the release archive's.
ref_doc() {
        _n=${2%:*} _t=${2##*:}
        roost --store "$1" images --json |
                jq --arg n "$_n" --arg t "$_t" --arg a "${3:-$(uname -m)}" \
                        '.[] | select(.name == $n and .tag == $t and .arch == $a) |
                         . + {sha256: (.layers[0].digest | sub("^sha256:"; ""))}'
}
