#!/bin/bash
# The tools answer --help and --version, and the front dispatches.
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
tap_done
