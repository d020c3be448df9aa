#!/bin/bash
# Replay each target's corpus (fuzz/corpus/TARGET/*) once under ASan, UBSan
# and LeakSanitizer: no fuzzing, each input run once, as CI does through
# `make fuzz-check`. OUT is where fuzz/fuzz.mk put the targets. Prints one
# PASS or FAIL line per target; exits 1 when any failed.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-fuzz/build}
status=0
for t in "$@"; do
        log=$out/replay-$t.log
        files=(fuzz/corpus/"$t"/*)
        if [ ! -e "${files[0]}" ]; then
                # With no file to run, libFuzzer would start fuzzing.
                echo "FAIL: fuzz-$t (no corpus in fuzz/corpus/$t)"
                status=1
                continue
        fi
        start=$(date +%s%N)
        if "$out/fuzz-$t" -timeout=60 -rss_limit_mb=2048 "${files[@]}" >"$log" 2>&1; then
                ms=$((($(date +%s%N) - start) / 1000000))
                printf 'PASS: fuzz-%s (%d inputs, %d.%03ds)\n' "$t" "${#files[@]}" $((ms / 1000)) $((ms % 1000))
        else
                echo "FAIL: fuzz-$t"
                grep -E -m1 -B2 -A25 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|fuzz: ' "$log" ||
                        tail -30 "$log"
                status=1
        fi
        # UBSan's findings in Debian's libraries do not stop a run
        # (fuzz/build-deps.sh): shown, not counted.
        if grep -q 'runtime error:' "$log"; then
                echo "  note: fuzz-$t: undefined behaviour reported in a dependency:"
                grep 'runtime error:' "$log" | sort | uniq -c | head -5 | sed 's/^/    /'
        fi
done
exit $status
