#!/bin/bash
# The copies of a credential a process held are wiped by the time it ends
# (docs/pull.md, Credentials in memory): tests/memgrep runs pull, push,
# roost login and logout (with login's child pull --check-login) and
# launch (with the pull of its first use) and, as each of their
# processes ends, searches its memory (heap, freed blocks
# included, stacks, anonymous mappings) for the password, "USER:PASS",
# its base64 (what auth.json and a Basic header hold) and a Bearer token.
# Against Debian's docker-registry with htpasswd (Basic) over HTTP/1.1,
# where nothing may be left; over HTTP/2, where libnghttp2's own copies of
# the request's headers stay (the base64 of a Basic header, never the
# password in clear); and behind tests/tokenserver.py (Bearer, a token
# asked with Basic credentials).
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
registry_test_needs
# AddressSanitizer's allocator keeps freed blocks aside and its heap in
# regions of its own: what is left there is not what glibc's malloc leaves.
ldd "$(command -v pull)" 2>/dev/null | grep -q libasan && skip_all "pull is built with AddressSanitizer"
bail() { ok 1 "$1"; tap_done; exit 1; }

img=$TEST_TMP/img
make_private_image "$img"

rand() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
pw=pw-$(rand) tpw=tpw-$(rand) token=tok-$(rand)$(rand)
# One a line: memgrep's report names them by line, 1 to 7.
needles=$TEST_TMP/needles
printf '%s\n' "$pw" "roost:$pw" "$(printf 'roost:%s' "$pw" | base64 -w0)" \
        "$tpw" "tok:$tpw" "$(printf 'tok:%s' "$tpw" | base64 -w0)" "$token" >"$needles"
export HOME=$TEST_TMP/home XDG_RUNTIME_DIR=$TEST_TMP/run
unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME
mkdir -p "$HOME" && mkdir -m 0700 "$XDG_RUNTIME_DIR"
report=$TEST_TMP/report

# search CMD...: CMD under memgrep; sets rc and left (the report's lines),
# its output in $TEST_TMP/out and err.
search() {
        : >"$report"
        memgrep "$needles" "$report" -- "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
        rc=$?
        left=$(cat "$report")
}
# wiped DESCRIPTION CMD...: CMD succeeds, and leaves no needle behind.
wiped() {
        local d=$1
        shift
        search "$@"
        is "$rc" 0 "$d"
        [ "$rc" = 0 ] || tap_diag "$(tail -3 "$TEST_TMP/err")"
        is "$left" "" "...and no copy of a credential is left in its memory at its end"
}

search bash -c 'kept=$(<"$1")' _ "$needles"
like "$left" "^bash\[[0-9]+\]: needle 1 at " "memgrep finds what a process left in its memory"

htpasswd=$TEST_TMP/htpasswd
make_htpasswd "$htpasswd" roost "$pw" || bail "cannot make a bcrypt htpasswd"
registry_start "$htpasswd" || bail "docker-registry could not start with htpasswd"
check "skopeo pushes to the private registry" skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" \
        --dest-creds "roost:$pw" "oci:$img/layout:1" "docker://$REGISTRY/team/app:1"
image=$REGISTRY/team/app:1
# The registry speaks HTTP/2 (Go's server offers it over TLS); nginx in
# front of it, HTTP/1.1 alone, as many registries' proxies are.
# (Loopback to loopback: nginx does not check the registry's certificate,
# whose name is an IP address nginx cannot match.)
nginx_start "$TEST_TMP" "location / { proxy_pass https://$REGISTRY; proxy_set_header Host \$http_host;
        client_max_body_size 0; proxy_request_buffering off; proxy_buffering off; }" ||
        bail "nginx could not start"
h1=127.0.0.1:$NGINX_PORT
# protocol LOG: the HTTP version of the last manifest GET LOG holds.
protocol() {
        grep -oE '"GET /v2/team/app/manifests/1 HTTP/[0-9.]+"' "$1" | tail -1 | grep -oE 'HTTP/[0-9.]+'
}

# --- Basic, over HTTP/1.1: nothing left ---
wiped "pull --creds-fd, Basic" pull -q --store "$TEST_TMP/s1" --cacert "$NGINX_CA" --creds-fd 3 \
        "$h1/team/app:1" 3<<<"roost:$pw"
is "$(protocol "$NGINX_LOG")" HTTP/1.1 "...over HTTP/1.1"
wiped "roost login --password-stdin, and its pull --check-login" \
        roost login -q --cacert "$NGINX_CA" -u roost --password-stdin "$h1" <<<"$pw"
check "...which wrote auth.json" grep -qF "$(printf 'roost:%s' "$pw" | base64 -w0)" \
        "$XDG_RUNTIME_DIR/containers/auth.json"
wiped "pull with the credentials of auth.json" pull -q --store "$TEST_TMP/s2" --cacert "$NGINX_CA" \
        "$h1/team/app:1"
wiped "roost login --get-login" roost login --get-login "$h1"
wiped "push --creds, Basic" push -q --store "$TEST_TMP/s2" --cacert "$NGINX_CA" --creds "roost:$pw" \
        "$h1/team/app:1" "$h1/team/copy:1"
wiped "roost logout" roost logout "$h1"
wiped "launch --creds, whose first use pulls (pull --creds-fd), then runs the image" \
        launch --store "$TEST_TMP/s6" --cacert "$NGINX_CA" --creds "roost:$pw" "$h1/team/app:1" cat /etc/motd
is "$(cat "$TEST_TMP/out")" "from a private registry" "...whose command ran"
# A refusal ends the pull early: what it held is wiped all the same.
search pull -q --store "$TEST_TMP/s3" --cacert "$NGINX_CA" --creds-fd 3 "$h1/team/app:1" 3<<<"tok:$tpw"
is "$rc:$left" "4:" "pull refused (wrong credentials, exit 4): nothing left in its memory"
nginx_stop

# --- Basic, over HTTP/2: libnghttp2's copies of the header ---
search pull -q --store "$TEST_TMP/s5" --cacert "$REGISTRY_CA" --creds-fd 3 "$image" 3<<<"roost:$pw"
is "$rc:$(protocol "$REGISTRY_LOG")" 0:HTTP/2.0 "pull --creds-fd over HTTP/2"
unlike "$left" "needle [12] " "...leaves neither the password nor USER:PASS in its memory"
unlike "$left" "needle [^3] " "...and nothing but the Basic header's base64 (libnghttp2's copies)"
tap_diag "over HTTP/2: $(grep -c . <<<"$left") copies of the header's base64 left"

# --- Bearer: a token asked with Basic credentials (tokenserver.py speaks
# HTTP/1.1), from a registry without htpasswd behind it ---
registry_stop
registry_start || bail "docker-registry could not start"
tokenserver_start users=tok:$tpw token=$token || bail "the token server could not start"
wiped "push --creds to a token server's registry" push -q --store "$TEST_TMP/s2" --cacert "$REGISTRY_CA" \
        --creds "tok:$tpw" "$h1/team/app:1" "$TOKEN_REGISTRY/team/app:1"
wiped "pull --creds-fd, Bearer" pull -q --store "$TEST_TMP/s4" --cacert "$REGISTRY_CA" --creds-fd 3 \
        "$TOKEN_REGISTRY/team/app:1" 3<<<"tok:$tpw"
like "$(tr '\n' ' ' <"$TOKEN_LOG")" "GET /token auth=basic .*GET /v2/team/app/manifests/1 auth=bearer" \
        "...which asked a token with Basic credentials, and sent it"
wiped "roost login to the token server's registry" \
        roost login -q --cacert "$REGISTRY_CA" -u tok --password-stdin "$TOKEN_REGISTRY" <<<"$tpw"
tokenserver_stop
registry_stop

tap_done
