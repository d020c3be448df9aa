#!/bin/bash
# roost login and logout against real registries: Debian's docker-registry
# with htpasswd (Basic), and tests/tokenserver.py in front of one (Bearer).
# A wrong password writes nothing; the file is podman's (its path, mode,
# format), which podman and skopeo read, and roost reads a file podman
# wrote; logout removes only its entry. pull uses what login kept, says
# which credential helper it would need, and falls back on docker's
# config.json. launch and build FROM a private registry with --creds: the
# child pull's command line (read while the pull is slowed by a delaying
# proxy) never holds the password, and neither does the store.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
registry_test_needs

img=$TEST_TMP/img
make_private_image "$img"

bail() { ok 1 "$1"; tap_done; exit 1; }
# Its own password: other tests' pulls (run in parallel) may show theirs.
pw=s3cret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
pw64=$(printf 'roost:%s' "$pw" | base64)
htpasswd=$TEST_TMP/htpasswd
make_htpasswd "$htpasswd" roost "$pw" || bail "cannot make a bcrypt htpasswd"
registry_start "$htpasswd" || bail "docker-registry could not start with htpasswd"
check "skopeo pushes to the private registry" skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" \
        --dest-creds "roost:$pw" "oci:$img/layout:1" "docker://$REGISTRY/team/app:1"

# Everything podman and docker would look at, here.
export HOME=$TEST_TMP/home XDG_RUNTIME_DIR=$TEST_TMP/run
unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME
mkdir -p "$HOME" && mkdir -m 0700 "$XDG_RUNTIME_DIR"
auth=$XDG_RUNTIME_DIR/containers/auth.json
L() { roost login --cacert "$REGISTRY_CA" "$@"; }
all_out=

# --- login: refused, then accepted ---
run_cmd L -u roost --password-stdin "$REGISTRY" <<<"wrong"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "a wrong password: exit 4, one line"
like "$err" "refused the credentials of 'roost'" "...saying so"
[ ! -e "$auth" ]; ok $? "...and nothing is written"
run_cmd L -u roost "$REGISTRY" </dev/null
is "$rc" 2 "no --password-stdin and no terminal: exit 2"
like "$err" "not a terminal.*give --password-stdin" "...saying what to do"
run_cmd L --password-stdin "$REGISTRY" <<<"$pw"
is "$rc" 2 "--password-stdin without --username: exit 2"
run_cmd L -u roost --password-stdin team/app <<<"$pw"
is "$rc" 2 "a repository, not a registry: exit 2"

mkdir -m 0700 "$XDG_RUNTIME_DIR/containers"
jq -n --arg a "$(printf 'other:pw' | base64)" \
        '{auths: {"other.example": {auth: $a}}, credHelpers: {"helped.example": "secretservice"}, kept: 1}' >"$auth"
run_cmd L -u roost --password-stdin "$REGISTRY" <<<"$pw"
is "$rc:$out" "0:Login Succeeded!" "the right password: logged in"
all_out=$all_out$out$err
is "$(stat -c %a "$auth")" 600 "auth.json is mode 0600"
is "$(jq -r --arg r "$REGISTRY" '.auths[$r].auth' "$auth")" "$pw64" "...with podman's entry: base64(user:pass) under host:port"
is "$(jq -c '[.auths["other.example"] != null, .credHelpers["helped.example"], .kept]' "$auth")" \
        '[true,"secretservice",1]' "...and the other entries and keys kept"
is "$(ls -A "$XDG_RUNTIME_DIR/containers")" auth.json "...written atomically: no temporary left beside it"
# On a terminal: the user name asked with echo, the password without.
tty_out=$( { sleep 1; echo roost; sleep 1; echo "$pw"; } |
        script -qec "roost login --cacert '$REGISTRY_CA' '$REGISTRY'" /dev/null 2>&1)
like "$tty_out" "Username: roost" "on a terminal, the user name is asked, and echoed"
like "$tty_out" "Password: " "...then the password"
like "$tty_out" "Login Succeeded!" "...and login succeeds"
unlike "$tty_out" "$pw" "...the password never echoed"
run_cmd roost login --get-login "$REGISTRY"
is "$rc:$out" "0:roost" "login --get-login names the user"
ps_out=$(podman login --get-login "$REGISTRY" 2>&1)
is "$ps_out" roost "podman login --get-login reads roost's file"
skopeo inspect --authfile "$auth" --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/team/app:1" >/dev/null
ok $? "skopeo inspect --authfile reads it too"

# --- hostile input: one line, a documented code, the user's file untouched ---
cp "$auth" "$TEST_TMP/auth.good"
printf '{"auths": [not json' >"$auth"
run_cmd L -u roost --password-stdin "$REGISTRY" <<<"$pw"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "an auth.json that is not JSON: exit 1, one line"
like "$err" "is not a JSON object: fix or remove it" "...saying so"
is "$(cat "$auth")" '{"auths": [not json' "...and the file is left as it was"
cp "$TEST_TMP/auth.good" "$auth"
run_cmd L -u roost --password-stdin "$REGISTRY" < <(head -c 5000 /dev/zero | tr '\0' x)
is "$rc" 2 "a password of 5000 bytes: exit 2"
run_cmd L -u roost --password-stdin "$REGISTRY" <<<"$(printf 'two\nlines')"
is "$rc" 2 "a password of two lines: exit 2"
run_cmd L -u 'ro:ost' --password-stdin "$REGISTRY" <<<"$pw"
is "$rc" 2 "a user name with a ':': exit 2"
run_cmd pull --creds-fd 3 --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1" 3<<<"no-colon"
is "$rc" 2 "pull --creds-fd with no USER:PASS in it: exit 2"
run_cmd pull --creds-fd 9 --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "2:1" "pull --creds-fd of a descriptor not open: exit 2, one line"
t0=$SECONDS
run_cmd L -u roost --password-stdin 127.0.0.1:1 <<<"$pw"
is "$rc:$(printf '%s\n' "$err" | tail -1 | grep -c 'gave up')" "4:1" "a registry that is down: exit 4"
[ $((SECONDS - t0)) -lt 15 ]; ok $? "...said within seconds, not pull's half a minute of retries"
cmp -s "$auth" "$TEST_TMP/auth.good"
ok $? "none of these changed auth.json"

# --- podman's file, read by roost ---
podfile=$TEST_TMP/podman-auth.json
printf '%s\n' "$pw" | podman login --authfile "$podfile" --cert-dir "$REGISTRY_CERTS" -u roost --password-stdin \
        "$REGISTRY" >/dev/null 2>&1
ok $? "podman login writes its own file"
run_cmd roost login --get-login --authfile "$podfile" "$REGISTRY"
is "$rc:$out" "0:roost" "roost reads the file podman wrote"
run_cmd pull -q --store "$TEST_TMP/store-pod" --cacert "$REGISTRY_CA" --authfile "$podfile" "$REGISTRY/team/app:1"
is "$rc" 0 "pull --authfile uses podman's file"

# --- pull with what login kept ---
store=$TEST_TMP/store
run_cmd pull --store "$store" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 0 "pull uses the credentials roost login kept"
all_out=$all_out$out$err

# --- logout ---
run_cmd roost logout "$REGISTRY"
is "$rc" 0 "logout succeeds"
is "$(jq -c --arg r "$REGISTRY" '[.auths[$r], .auths["other.example"] != null, .credHelpers["helped.example"], .kept]' "$auth")" \
        '[null,true,"secretservice",1]' "...removing that entry alone"
is "$(stat -c %a "$auth")" 600 "...the file still 0600"
# docker's older key (https://HOST) beside podman's: logout removes both, or
# the credentials it said it removed would still be used.
both=$(jq --arg r "$REGISTRY" --arg a "$pw64" '.auths[$r] = {auth: $a} | .auths["https://" + $r] = {auth: $a}' "$auth")
printf '%s\n' "$both" >"$auth"
run_cmd roost logout "$REGISTRY"
is "$rc" 0 "logout of a registry kept under both HOST and https://HOST"
run_cmd roost login --get-login "$REGISTRY"
is "$rc" 3 "...leaves no credentials for it"
run_cmd roost logout "$REGISTRY"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "3:1" "logout again: not logged in, exit 3, one line"
run_cmd pull -q --store "$TEST_TMP/store-none" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "pull after logout: exit 4, one line"
like "$err" "give --creds USER:PASS, or roost login $REGISTRY" "...saying what to do"

# --- docker's config.json: auths read, credential helpers named ---
mkdir -p "$HOME/.docker"
jq -n --arg r "$REGISTRY" '{credHelpers: {($r): "pass"}}' >"$HOME/.docker/config.json"
run_cmd pull -q --store "$TEST_TMP/store-none" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "a registry docker keeps in a credential helper: exit 4, one line"
like "$err" "docker-credential-pass, a credential helper roost does not run" "...naming the helper"
jq -n --arg r "$REGISTRY" --arg a "$pw64" '{auths: {($r): {auth: $a}}}' >"$HOME/.docker/config.json"
run_cmd pull -q --store "$TEST_TMP/store-docker" --cacert "$REGISTRY_CA" "$REGISTRY/team/app:1"
is "$rc" 0 "pull falls back on docker's config.json"
run_cmd roost logout "$REGISTRY"
like "$rc:$err" "^3:.*docker logout" "logout of a registry only docker's file holds says so"
rm -f "$HOME/.docker/config.json"

# --- launch and build with --creds; the child pull's command line ---
coproc PROXY { exec python3 "$ROOST_SRCDIR/bench/delay-proxy.py" 0 127.0.0.1 "${REGISTRY#*:}" 150; }
proxy_pid=$PROXY_PID
tap_at_exit "kill $proxy_pid 2>/dev/null"
read -r _ pport <&"${PROXY[0]}" || bail "the delaying proxy did not start"
slow=127.0.0.1:$pport
# watch PID WORD: until PID ends, look for a process whose command line
# holds WORD and the slow proxy's address (the child pull); once seen, read
# every process's command line at once. Sets seen (1: the child was caught
# running), leaked (1: a command line held the password) and child. grep
# takes its patterns from files, so that its own command line holds none.
printf '%s\n' "$pw" >"$TEST_TMP/pat.pw"
watch() {
        local f
        seen=0 leaked=0 child=
        printf '%s\n' "$2" >"$TEST_TMP/pat.child"
        for _ in $(seq 1000); do
                for f in $(grep -alFf "$TEST_TMP/pat.child" /proc/[0-9]*/cmdline 2>/dev/null); do
                        child=$( (tr '\0' ' ' <"$f") 2>/dev/null) && [[ $child == *" $slow"* ]] && seen=1 && break
                done
                if [ "$seen" = 1 ]; then
                        grep -aqFf "$TEST_TMP/pat.pw" /proc/[0-9]*/cmdline 2>/dev/null && leaked=1
                        return
                fi
                kill -0 "$1" 2>/dev/null || return
                sleep 0.02
        done
}

lstore=$TEST_TMP/store-launch
launch --store "$lstore" --cacert "$REGISTRY_CA" --creds "roost:$pw" "$slow/team/app:1" cat /etc/motd \
        >"$TEST_TMP/launch.out" 2>"$TEST_TMP/launch.err" &
launch_pid=$!
watch "$launch_pid" --creds-fd
wait "$launch_pid"
rc=$?
is "$rc:$(cat "$TEST_TMP/launch.out")" "0:from a private registry" "launch --creds pulls from a private registry and runs"
is "$seen" 1 "...its child pull was caught running, with --creds-fd"
is "$leaked" 0 "...and then no command line on the machine held the password (launch's own included)"
tap_diag "child pull: $child"
all_out=$all_out$(cat "$TEST_TMP/launch.out" "$TEST_TMP/launch.err")

ctx=$TEST_TMP/ctx
mkdir -p "$ctx"
printf 'FROM %s/team/app:1\nRUN cp /etc/motd /built\n' "$slow" >"$ctx/Dockerfile"
bstore=$TEST_TMP/store-build
run_cmd roost --store "$bstore" build -q --cacert "$REGISTRY_CA" -t built:1 "$ctx"
is "$rc" 4 "build FROM a private registry without credentials: pull's exit 4"
roost --store "$bstore" build -q --cacert "$REGISTRY_CA" --creds "roost:$pw" -t built:1 "$ctx" \
        >"$TEST_TMP/build.out" 2>"$TEST_TMP/build.err" &
build_pid=$!
watch "$build_pid" --creds-fd
wait "$build_pid"
is "$?" 0 "build --creds FROM a private registry"
is "$seen:$leaked" 1:0 "...its child pull caught running, and no command line holding the password"
all_out=$all_out$(cat "$TEST_TMP/build.out" "$TEST_TMP/build.err")
run_cmd launch --store "$bstore" built:1 cat /built
is "$out" "from a private registry" "...and the built image has its layer"

roost login --cacert "$REGISTRY_CA" -u roost --password-stdin "$slow" <<<"$pw" >"$TEST_TMP/login.out" 2>&1 &
login_pid=$!
watch "$login_pid" --check-login
wait "$login_pid"
is "$?" 0 "login through the slow proxy"
is "$seen:$leaked" 1:0 "...its child pull --check-login caught running, and no command line holding the password"
all_out=$all_out$(cat "$TEST_TMP/login.out")
roost logout "$slow" >/dev/null

unlike "$all_out$(roost --store "$store" images --json)" "$pw|$pw64" "the password is in no output or --json"
! grep -rqaF -e "$pw" -e "$pw64" "$store" "$lstore" "$bstore"
ok $? "...nor anywhere in the stores"
kill "$proxy_pid" 2>/dev/null
registry_stop

# --- a registry behind a token server (Bearer) ---
registry_start || bail "docker-registry could not start"
tokenserver_start users=tok:en-Pa55 || bail "the token server could not start"
run_cmd L -u tok --password-stdin "$TOKEN_REGISTRY" <<<"wrong"
is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "Bearer: a wrong password is refused by the token server: exit 4, one line"
like "$err" "token server refused the credentials of 'tok'" "...saying so"
run_cmd jq -r --arg r "$TOKEN_REGISTRY" '.auths[$r]' "$auth"
is "$out" null "...and nothing is written"
run_cmd L -u tok --password-stdin "$TOKEN_REGISTRY" <<<"en-Pa55"
is "$rc" 0 "Bearer: the right password, a token, and /v2/ with it: logged in"
like "$(tr '\n' ' ' <"$TOKEN_LOG")" "GET /v2/ auth=none GET /token auth=basic GET /v2/ auth=bearer" \
        "...a challenge, a token asked with Basic credentials, /v2/ again with it"
is "$(jq -r --arg r "$TOKEN_REGISTRY" '.auths[$r].auth' "$auth")" "$(printf 'tok:en-Pa55' | base64)" "...and kept"
tokenserver_stop
# A token server whose 200 holds no token: a registry's failure (4, as
# login's exit codes say), not a verification one, and nothing written.
for bad in garbage huge ctl; do
        tokenserver_start users=tok:en-Pa55 bad-token=$bad || bail "the token server could not start"
        run_cmd L -u tok --password-stdin "$TOKEN_REGISTRY" <<<"en-Pa55"
        is "$rc:$(printf '%s\n' "$err" | wc -l)" "4:1" "Bearer: a token server answering $bad: exit 4, one line"
        like "$err" "token server of $TOKEN_REGISTRY gave no token" "...saying so"
        is "$(jq -r --arg r "$TOKEN_REGISTRY" '.auths[$r]' "$auth")" null "...and nothing is written"
        tokenserver_stop
done

# --- plain HTTP: no credential is sent ---
registry_stop
REGISTRY_PLAIN=1 registry_start "$htpasswd" || bail "docker-registry could not start without TLS"
run_cmd roost login --plain-http -u roost --password-stdin "$REGISTRY" <<<"$pw"
is "$rc" 4 "--plain-http to a registry that asks for credentials: exit 4"
like "$err" "no credential is ever sent over plain HTTP" "...none sent"
run_cmd roost login --plain-http -u roost --password-stdin registry.example:5000 <<<"$pw"
is "$rc" 2 "--plain-http to a registry not on loopback: exit 2"

# --- logout --all ---
run_cmd roost logout --all
is "$rc:$(jq -c '[(.auths | length), .kept]' "$auth")" "0:[0,1]" "logout --all empties auths, keeping the rest"

# --- XDG_RUNTIME_DIR unset: podman's /run/containers/UID ---
run_cmd env -u XDG_RUNTIME_DIR roost logout 127.0.0.1:1
like "$err" "/run/containers/0/auth.json" "without XDG_RUNTIME_DIR, the file is /run/containers/UID/auth.json"

tap_done
