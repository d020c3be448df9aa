#!/bin/bash
# bench/fuzz.sh [SECONDS] [TARGET...]: fuzz each target (all of fuzz/ by
# default) for SECONDS (60) from a copy of its corpus, and report executions
# per second and coverage: libFuzzer's "cov:" (edges reached) once the
# corpus is loaded and at the end, and "ft:" (features). The targets that
# parse through libarchive, libyaml or jansson run a second time linked
# against Debian's uninstrumented libraries, whose edges a fuzzer cannot see
# (docs/fuzz.md). Crashes are kept in fuzz/build/bench-crashes/ for
# turning into corpus entries and fixes. Run from a configured tree, as root
# (or where unprivileged user namespaces are allowed).
set -u
cd "$(dirname "$0")/.."
secs=60
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
        secs=$1
        shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(alpine-index sumfile registry-ref registry-challenge registry-manifest
        registry-auth store-docs import unpack dockerfile user-db env-file)
system=" alpine-index import unpack registry-manifest registry-auth store-docs dockerfile "

make -s fuzz-build >/dev/null || { echo "bench/fuzz.sh: make fuzz-build failed" >&2; exit 1; }
make -s fuzz-build-system >/dev/null || { echo "bench/fuzz.sh: make fuzz-build-system failed" >&2; exit 1; }
crashes=fuzz/build/bench-crashes
mkdir -p "$crashes"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# field NAME LINE: the number after "NAME: " in a libFuzzer status line.
field() { sed -n "s/.* $1: \([0-9]*\).*/\1/p" <<<"$2"; }

printf '%-20s %-13s %9s %9s %9s %8s %7s\n' target libraries execs/s cov-start cov-end ft crashes
for t in "${targets[@]}"; do
        for variant in instrumented debian; do
                dir=fuzz/build
                if [ $variant = debian ]; then
                        [[ $system == *" $t "* ]] || continue
                        dir=fuzz/build-system
                fi
                rm -rf "$work/corpus" "$work/art"
                mkdir -p "$work/art"
                cp -r "fuzz/corpus/$t" "$work/corpus"
                "$dir/fuzz-$t" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
                        -artifact_prefix="$work/art/" "$work/corpus" >"$work/log" 2>&1
                inited=$(grep -m1 'INITED' "$work/log")
                last=$(grep -E '^#[0-9]+.*cov:' "$work/log" | tail -n 1)
                execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
                n=0
                for c in "$work"/art/*; do
                        [ -e "$c" ] || continue
                        cp "$c" "$crashes/$t-$(basename "$c")"
                        n=$((n + 1))
                done
                printf '%-20s %-13s %9s %9s %9s %8s %7s\n' "$t" $variant "${execs:-?}" \
                        "$(field cov "$inited")" "$(field cov "$last")" "$(field ft "$last")" $n
        done
done
echo "($secs s per run; crashes, if any, in $crashes)"
