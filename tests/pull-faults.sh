#!/bin/bash
# pull when the network misbehaves: resume after SIGKILL with a range
# request (the 206 in nginx's log), a server that ignores the range (200)
# or refuses it (416), a resumed file verified whole, six concurrent pulls
# that download once, and a fault-injection server's cut, short, stalled,
# endless and failing bodies.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/pull.sh"
command -v python3 >/dev/null || skip_all "python3 missing (apt-get install python3)"

www=$TEST_TMP/www
rootfs_tarball "$TEST_TMP/r.tar.gz" 3.99.2 || skip_all "could not build the fixture"
make_mirror "$www" 3.99.2 "$TEST_TMP/r.tar.gz" || skip_all "could not build the fixture mirror"
file=alpine-minirootfs-3.99.2-x86_64.tar.gz
tarball=$(release_file "$www" 3.99.2)
digest=$(sha256_of "$tarball")
size=$(stat -c %s "$tarball")

# /slow/ trickles (for SIGKILL mid-download and overlapping pulls), /norange/
# answers every range request with the whole file (200).
nginx_start "$www" "
        location /slow/ { alias $www/; limit_rate 1m; }
        location /norange/ { alias $www/; max_ranges 0; }" || skip_all "nginx could not start"

# Fast retries, so that giving up takes a second, not minutes.
export ROOST_RETRY_DELAY=0.1 ROOST_RETRIES=2
P() { local s=$1 m=$2; shift 2; pull --store "$s" --mirror "$m" --cacert "$NGINX_CA" --arch x86_64 "$@" alpine 3.99; }
stored_ok() { [ "$(sha256_of "$1/blobs/sha256/$digest")" = "$digest" ] && store_has_ref "$1" alpine:3.99; }
nothing_stored() { [ "$(store_blob_count "$1")" -eq 0 ] && ! store_has_ref "$1" alpine:3.99; }

# interrupted STORE: start a slow pull and SIGKILL it once part of the
# tarball is on disk.
interrupted() {
        # exec: the pid killed must be pull's own, not a subshell's.
        (exec pull --store "$1" --mirror "$NGINX_URL/slow/alpine" --cacert "$NGINX_CA" --arch x86_64 -q alpine 3.99) &
        local pid=$! part=$1/partial/$digest
        for _ in $(seq 100); do
                [ -f "$part" ] && [ "$(stat -c %s "$part")" -gt 200000 ] && break
                sleep 0.05
        done
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        [ -f "$part" ] && [ "$(stat -c %s "$part")" -gt 0 ] && [ "$(stat -c %s "$part")" -lt "$size" ]
}

# --- resume after SIGKILL ---
s=$TEST_TMP/s1
check "a pull killed with SIGKILL mid-download leaves a partial file" interrupted "$s"
check "...and nothing under a final name" nothing_stored "$s"
had=$(stat -c %s "$s/partial/$digest")
n206=$(tarball_gets "$NGINX_LOG" "$file" 206)
run_cmd P "$s" "$NGINX_URL/alpine"
is "$rc" 0 "the next pull succeeds"
is "$(tarball_gets "$NGINX_LOG" "$file" 206)" $((n206 + 1)) "...resuming with a range request (206 in nginx's log)"
like "$(grep " 206 " "$NGINX_LOG" | tail -1)" " 206 $((size - had)) " "...which fetched only the missing $((size - had)) bytes"
check "...and the whole file is verified and stored" stored_ok "$s"
is "$(store_partial_count "$s")" 0 "...with no partial file left"

# --- a server that ignores the range ---
s=$TEST_TMP/s2
check "interrupted again" interrupted "$s"
n200=$(grep -c "GET /norange/.*$file HTTP/1.1\" 200 $size " "$NGINX_LOG")
run_cmd P "$s" "$NGINX_URL/norange/alpine"
is "$rc" 0 "a server answering the range with 200 makes the pull start over and succeed"
is "$(grep -c "GET /norange/.*$file HTTP/1.1\" 200 $size " "$NGINX_LOG")" $((n200 + 1)) "...in one request for the whole file"
check "...and what is stored is the release" stored_ok "$s"

# --- the resumed file is verified whole ---
s=$TEST_TMP/s3
check "interrupted once more" interrupted "$s"
printf '\x00\x01\x02' | dd of="$s/partial/$digest" bs=1 seek=100 conv=notrunc status=none
run_cmd P "$s" "$NGINX_URL/alpine"
is "$rc" 5 "bytes damaged before the resume point fail verification (exit 5)"
like "$err" "sha256 mismatch" "...as a sha256 mismatch"
check "...and nothing is stored" nothing_stored "$s"
is "$(store_partial_count "$s")" 0 "...and the damaged partial file is gone"
run_cmd P "$s" "$NGINX_URL/alpine"
is "$rc" 0 "the pull after that starts over and succeeds"
check "...storing the release" stored_ok "$s"

# --- six concurrent pulls into one store ---
s=$TEST_TMP/s4
before=$(tarball_gets "$NGINX_LOG" "$file")
pids=()
for i in 1 2 3 4 5 6; do
        P "$s" "$NGINX_URL/slow/alpine" -q >"$TEST_TMP/c$i.out" 2>&1 &
        pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "six concurrent pulls of alpine:3.99 into one store all succeed"
is "$(tarball_gets "$NGINX_LOG" "$file")" $((before + 1)) "...and download the tarball once"
check "...storing it once, verified" stored_ok "$s"
is "$(store_blob_count "$s"):$(ls "$s/partial" | wc -l)" "4:0" "...one image (archive, config, manifest, index), no partial file left behind"

# --- a dead mirror ---
s=$TEST_TMP/s5
port=$(_nginx_free_port)
run_cmd P "$s" "https://127.0.0.1:$port/alpine"
is "$rc" 4 "a mirror refusing connections fails after the retries (exit 4)"
like "$(tail -1 <<<"$err")" "^pull: https://127.0.0.1:$port/alpine/.*latest-releases.yaml: .*(refused|connect).* \\(gave up after 3 attempts\\)$" \
        "...one line naming the URL, the failure and the attempts"
dead="^pull: https://127.0.0.1:$port/alpine/.*latest-releases.yaml: connection refused"
is "$(grep -c "; retry" <<<"$err")" 2 "...after one warning line per retry (ROOST_RETRIES=2), not one \"retrying\""
like "$(grep "; retry" <<<"$err" | head -1)" "$dead; retry 1 of 2 in 0.1 s$" "...each naming the URL, the reason and the wait"
like "$(grep "; retry" <<<"$err" | tail -1)" "$dead; retry 2 of 2 in 0.2 s$" "...which doubles"

# ms CMD...: run_cmd CMD, and set $ms to how long it took.
ms() {
        local t0=${EPOCHREALTIME/./}
        run_cmd "$@"
        ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
}
# Pauses as the user has them: 1 s doubling, 31 s for a dead mirror.
ROOST_RETRY_DELAY=1 ms P "$s" "https://127.0.0.1:$port/alpine" --retries 1 -q
is "$rc:$(grep -c "; retry" <<<"$err")" "4:1" "--retries 1: a dead mirror is retried once (exit 4)"
like "$err" "$dead; retry 1 of 1 in 1 s" "...the warning printed even with -q"
like "$(tail -1 <<<"$err")" "\\(gave up after 2 attempts\\)$" "...and the error counts the attempts"
ok $((ms < 5000 ? 0 : 1)) "...in about the one pause, not 31 s (took $ms ms)"
ROOST_RETRY_DELAY=1 ROOST_RETRIES=100 ms P "$s" "https://127.0.0.1:$port/alpine" --timeout 1.5
is "$rc" 4 "--timeout 1.5: a dead mirror with 100 retries allowed fails (exit 4)"
ok $((ms >= 1400 && ms < 4000 ? 0 : 1)) "...once the 1.5 s are spent, the last pause cut short (took $ms ms)"
like "$(tail -1 <<<"$err")" "\\(gave up after 3 attempts in 1\\.[0-9]+ s, the time allowed\\)$" \
        "...saying it gave up on time, after a last attempt when the time was up"

# A mirror that takes the connection and never answers the TLS handshake:
# each attempt waits for its connection, which --timeout bounds too.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)' "$TEST_TMP/silent.port" &
silent=$!
tap_at_exit "kill $silent 2>/dev/null; wait $silent 2>/dev/null"
for _ in $(seq 100); do [ -s "$TEST_TMP/silent.port" ] && break; sleep 0.05; done
ms P "$s" "https://127.0.0.1:$(cat "$TEST_TMP/silent.port")/alpine" --timeout 1.5
is "$rc" 4 "a mirror that never answers fails (exit 4)"
ok $((ms >= 1400 && ms < 4000 ? 0 : 1)) "...after the --timeout of 1.5 s, not curl's 30 s to connect (took $ms ms)"
like "$(tail -1 <<<"$err")" "latest-releases.yaml: no connection: .*\\(gave up after .* the time allowed\\)$" \
        "...saying it could not connect"
kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null

# launch runs pull on first use, and hands it these two options.
ROOST_RETRY_DELAY=1 ms launch --store "$s" --mirror "https://127.0.0.1:$port/alpine" --cacert "$NGINX_CA" \
        --retries 1 --timeout 20 alpine true
is "$rc:$(grep -c "; retry 1 of 1 in 1 s$" <<<"$err")" "125:1" "launch --retries 1 --timeout 20: the pull it runs retries once"
ok $((ms < 5000 ? 0 : 1)) "...and gives up in about a second (took $ms ms)"

# --- the fault-injection server ---
# fault MODE STORE [OPTION...]: pull from tests/faultserver.py in MODE.
fault() {
        local mode=$1 store=$2
        shift 2
        faultserver_stop
        faultserver_start "$www" "$mode" || return 1
        run_cmd P "$store" "$FAULT_URL/alpine" "$@"
}

s=$TEST_TMP/f1
fault cut "$s"
is "$rc" 4 "a body cut in half every time fails after the retries (exit 4)"
like "$err" "gave up after 3 attempts" "...saying it retried, boundedly"
is "$(grep -c "$file" "$FAULT_LOG")" 3 "...three attempts: the first and ROOST_RETRIES=2 more"
check "...and nothing is stored" nothing_stored "$s"
is "$(grep -c "^pull: $FAULT_URL/alpine/.*/$file: .*; retry [12] of 2 in 0\\.[12] s$" <<<"$err")" 2 \
        "...with a warning naming the tarball's URL before each retry"
fault cut "$s" --retries 1
is "$rc:$(grep -c "$file" "$FAULT_LOG")" "4:2" "--retries 1: two attempts, the first and one more"

s=$TEST_TMP/f2
fault cut-once "$s"
is "$rc" 0 "a body cut once is resumed and completed"
like "$(tail -1 "$FAULT_LOG")" "range=bytes=$((size / 2))-" "...with a range request from where it broke"
check "...and the whole file is verified and stored" stored_ok "$s"

s=$TEST_TMP/f3
fault short "$s"
is "$rc" 5 "a complete but short body fails the size check (exit 5)"
like "$err" "ended after $((size / 2)) of the $size bytes" "...naming the check"
check "...and nothing is stored" nothing_stored "$s"

s=$TEST_TMP/f4
start=$(date +%s)
ROOST_STALL_SECONDS=1 ROOST_RETRIES=1 fault stall "$s"
is "$rc" 4 "a stalled transfer fails (exit 4)"
like "$err" "stalled \\(below 1024 bytes/s for 1 s\\)" "...saying it stalled"
is "$(grep -c "$file" "$FAULT_LOG")" 2 "...after one retry"
ok $(($(date +%s) - start < 15 ? 0 : 1)) "...within the stall budget, not the server's minute"
check "...and nothing is stored" nothing_stored "$s"
t0=${EPOCHREALTIME/./}
fault stall "$s" --timeout 1
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
is "$rc" 4 "--timeout 1: a stall, 30 s by default (ROOST_STALL_SECONDS), is cut at 1 s (exit 4)"
like "$err" "stalled \\(below 1024 bytes/s for 1 s\\).*the time allowed" "...saying so"
ok $((ms < 4000 ? 0 : 1)) "...in about a second (took $ms ms)"

s=$TEST_TMP/f5
fault endless "$s"
is "$rc" 5 "an endless body is cut off at the index's size (exit 5)"
like "$err" "larger than the $size bytes the index announces" "...saying so"
check "...and nothing is stored" nothing_stored "$s"
is "$(store_partial_count "$s")" 0 "...nor kept for a resume"

s=$TEST_TMP/f6
check "interrupted before a 416" interrupted "$s"
fault range416 "$s"
is "$rc" 0 "a server answering the range with 416 makes the pull start over and succeed"
like "$(tail -1 "$FAULT_LOG")" "range=-" "...with a request for the whole file"
check "...storing the release" stored_ok "$s"

s=$TEST_TMP/f8
fault drip "$s"
is "$rc" 4 "a server that sends a byte and hangs up, every time, is given up on (exit 4)"
is "$(grep -c "$file" "$FAULT_LOG")" 3 "...after ROOST_RETRIES=2 more attempts: a byte is no progress"
check "...and nothing is stored" nothing_stored "$s"

s=$TEST_TMP/f7
fault 503-once "$s"
is "$rc" 0 "a 503 is retried and the pull succeeds"
like "$err" "/$file: HTTP 503; retry 1 of 2 in 0.1 s" "...after a warning with the status"
is "$(grep -c "$file" "$FAULT_LOG")" 2 "...with a second request"
check "...storing the release" stored_ok "$s"

tap_done
