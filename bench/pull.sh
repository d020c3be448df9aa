#!/bin/bash
# bench/pull.sh [SIZE_MB] [ROUNDS]: pull a SIZE_MB (default 200) release from
# a local nginx over HTTPS into an empty store, side by side with what a
# user would otherwise run: `curl -o` alone (no verification) and `curl -o`
# followed by `sha256sum`. Rounds alternate the three so that the page
# cache and the neighbours' load hit them alike. Prints median times, the
# ratios to `curl -o`, and pull's peak RSS.
#
# Run from a built tree: ROOST_SRCDIR defaults to this script's repository,
# and pull is taken from $ROOST_BUILDDIR/fetch (default: the same tree).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export ROOST_SRCDIR=${ROOST_SRCDIR:-$here}
ROOST_BUILDDIR=${ROOST_BUILDDIR:-$ROOST_SRCDIR}
PULL=$ROOST_BUILDDIR/fetch/pull
size_mb=${1:-200}
rounds=${2:-5}
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
[ -x "$PULL" ] || { echo "bench: build first ($PULL missing)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

# A random "release": random bytes do not compress, which is what a
# tarball's are too, and nobody's disk cache holds them yet. Wrapped in
# gzip as a release is: pull inflates a layer as it arrives to record its
# diff_id, and refuses one that is not whole gzip.
head -c "${size_mb}M" /dev/urandom | gzip -1 >"$TEST_TMP/release.tar.gz"
make_mirror "$TEST_TMP/www" 3.99.0 "$TEST_TMP/release.tar.gz" || exit 1
rm -f "$TEST_TMP/release.tar.gz"
file=alpine-minirootfs-3.99.0-x86_64.tar.gz
# Signed as Alpine signs (gpg's SHA-512): pull checks the signature as the
# bytes stream in, and computes SHA-256 and the layer's diff_id beside it.
fixture_signing_key && fixture_sign "$TEST_TMP/www/alpine/v3.99/releases/x86_64/$file" || exit 1
nginx_start "$TEST_TMP/www" || exit 1
url=$NGINX_URL/alpine/v3.99/releases/x86_64/$file
out=$TEST_TMP/out

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
declare -a t_curl t_sha t_pull rss c_curl c_pull
for i in $(seq "$rounds"); do
        rm -rf "$out" "$TEST_TMP/store"; sync
        a=$(now)
        /usr/bin/time -f '%U %S' -o "$TEST_TMP/cpu-curl" curl -sS --cacert "$NGINX_CA" -o "$out" "$url" || exit 1
        b=$(now)
        t_curl+=("$(calc "$b - $a")")
        c_curl+=("$(awk '{print $1 + $2}' "$TEST_TMP/cpu-curl")")

        rm -rf "$out"; sync
        a=$(now)
        curl -sS --cacert "$NGINX_CA" -o "$out" "$url" && sha256sum "$out" >/dev/null || exit 1
        b=$(now)
        t_sha+=("$(calc "$b - $a")")

        rm -rf "$out"; sync
        a=$(now)
        /usr/bin/time -f '%M %U %S' -o "$TEST_TMP/rss" "$PULL" -q --store "$TEST_TMP/store" \
                --mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA" --trust "$FIXTURE_KEY" --arch x86_64 \
                alpine 3.99 || exit 1
        b=$(now)
        t_pull+=("$(calc "$b - $a")")
        rss+=("$(awk '{print $1}' "$TEST_TMP/rss")")
        c_pull+=("$(awk '{print $2 + $3}' "$TEST_TMP/rss")")
        printf 'round %d: curl -o %.3fs  curl+sha256sum %.3fs  pull %.3fs  (pull peak RSS %d KiB)\n' \
                "$i" "${t_curl[-1]}" "${t_sha[-1]}" "${t_pull[-1]}" "${rss[-1]}"
done
rm -rf "$out" "$TEST_TMP/store"

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
best() { printf '%s\n' "$@" | sort -n | head -1; }
mc=$(median "${t_curl[@]}") ms=$(median "${t_sha[@]}") mp=$(median "${t_pull[@]}")
bc=$(best "${t_curl[@]}") bs=$(best "${t_sha[@]}") bp=$(best "${t_pull[@]}")
maxrss=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
echo
# The best round too: on the shared development machine the same pull
# varies by half from round to round (in the slow ones, perf shows the copy
# into the page cache costing several times its usual CPU), and with few
# rounds that moves the median.
printf '%s MB over HTTPS from nginx on loopback, median of %d alternated rounds (best round)\n' "$size_mb" "$rounds"
printf '  curl -o               %.3fs  1.00x          (%.3fs)\n' "$mc" "$bc"
printf '  curl -o + sha256sum   %.3fs  %.2fx          (%.3fs  %.2fx)\n' "$ms" "$(calc "$ms / $mc")" "$bs" "$(calc "$bs / $bc")"
printf '  pull (sha256+sig+diff_id) %.3fs  %.2fx          (%.3fs  %.2fx)   peak RSS %d KiB (max over rounds)\n' \
        "$mp" "$(calc "$mp / $mc")" "$bp" "$(calc "$bp / $bc")" "$maxrss"
# Wall time on a small shared machine follows CPU: say how much each used.
printf 'client CPU (user+sys, median): curl -o %.2fs, pull %.2fs; %d cores, load %s\n' \
        "$(median "${c_curl[@]}")" "$(median "${c_pull[@]}")" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
