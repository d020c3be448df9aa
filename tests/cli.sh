#!/bin/bash
# The tools answer --help and --version, and the front dispatches; what
# they say, and how they exit, for the mistakes that need no server.
. "$ROOST_SRCDIR/tests/lib/tap.sh"

for t in pull unpack launch roost; do
        run_cmd "$t" --version
        ok $rc "$t --version exits 0"
        like "$out" "^$t \\(roost\\) [0-9]" "$t --version names the tool and version"
        run_cmd "$t" --help
        ok $rc "$t --help exits 0"
        like "$out" "Usage: " "$t --help prints usage"
done
run_cmd roost pull --version
like "$out" "^pull \\(roost\\)" "roost pull dispatches to pull"
run_cmd roost frobnicate
is "$rc" 2 "unknown roost command exits 2"
like "$err" "^roost: unknown command 'frobnicate'" "unknown command: one clear line"

# A mirror that is a folder: missing, or given as a path and not a URL.
S=$TEST_TMP/store
run_cmd pull --store "$S" --mirror "file://$TEST_TMP/gone/alpine" alpine 3.20
is "$rc" 3 "pull --mirror file:///missing exits 3, as for a missing file"
is "$err" "pull: --mirror file://$TEST_TMP/gone/alpine: the folder $TEST_TMP/gone/alpine does not exist" \
        "...in one line saying the folder is missing"
mkdir -p "$TEST_TMP/usb/alpine"
run_cmd pull --store "$S" --mirror "$TEST_TMP/usb/alpine" alpine 3.20
is "$rc:$err" "2:pull: --mirror $TEST_TMP/usb/alpine is not a URL; for a folder, give --mirror file://$TEST_TMP/usb/alpine" \
        "pull --mirror /path is refused (exit 2), suggesting the file:// URL"
run_cmd env -C "$TEST_TMP/usb" ROOST_MIRROR=alpine pull --store "$S" alpine 3.20
is "$err" "pull: ROOST_MIRROR=alpine is not a URL; for a folder, give ROOST_MIRROR=file://$TEST_TMP/usb/alpine" \
        "...and a relative ROOST_MIRROR, with the absolute URL"
test ! -e "$S"; ok $? "...and none of these leaves a store behind"

# A file named on the command line that does not exist is exit 3 for
# pull, unpack and roost alike (launch keeps its 125 for every failure).
run_cmd pull --store "$S" --cacert "$TEST_TMP/missing.pem" --mirror https://127.0.0.1:1/alpine alpine 3.20
is "$rc:$err" "3:pull: --cacert $TEST_TMP/missing.pem: no such file" "pull --cacert /missing exits 3"
run_cmd unpack "$TEST_TMP/missing.tar.gz" "$TEST_TMP/out"
is "$rc" 3 "unpack /missing.tar.gz DIR exits 3"
run_cmd roost import --store "$S" "$TEST_TMP/missing.tar"
is "$rc" 3 "roost import /missing exits 3"
run_cmd launch --store "$S" --cacert "$TEST_TMP/missing.pem" --mirror https://127.0.0.1:1/alpine alpine:3.20 true
is "$rc" 125 "launch, whose pull finds --cacert missing, exits 125"

# tests/main-job without a mirror: where it looked, and what ROOST_MIRROR
# should look like. It runs from a copy, so that no mirror beside this
# checkout is found, with a curl that finds no internet.
if [ "$(id -u)" -ne 0 ]; then
        skip "main-job without a mirror says where it looked" "main-job runs as root only"
else
        mkdir -p "$TEST_TMP/co/tests" "$TEST_TMP/bin"
        cp "$ROOST_SRCDIR/tests/main-job" "$TEST_TMP/co/tests/"
        printf '#!/bin/sh\nexit 7\n' >"$TEST_TMP/bin/curl" && chmod +x "$TEST_TMP/bin/curl"
        run_cmd env -u ROOST_MIRROR ROOST_MAIN_JOB_NO_INSTALL=1 ROOST_STORE="$S" PATH="$TEST_TMP/bin:$PATH" \
                "$TEST_TMP/co/tests/main-job"
        is "$rc" 1 "main-job without a mirror fails (exit 1)"
        like "$err" "https://dl-cdn.alpinelinux.org/alpine.*(no answer|did not answer)" "...naming Alpine's mirror, which did not answer"
        like "$err" "$TEST_TMP/shared/alpine-mirror/alpine.*(missing|does not exist)" "...and the folder beside the checkout, missing"
        like "$err" "ROOST_MIRROR=file:///.*/alpine" "...and showing what ROOST_MIRROR looks like for a folder"
        like "$err" "ROOST_MIRROR=https://" "...and for a server"
fi
tap_done
