#!/bin/bash
# bench/pull-registry.sh [SIZE_MB] [ROUNDS]: pull an image of three layers
# (SIZE_MB in all, default 200) from Debian's docker-registry on loopback
# over HTTPS into an empty store, side by side with
# `skopeo copy docker://... oci:DIR` of the same image, which is what a
# user would otherwise run. Rounds alternate the two. Prints median times,
# the ratio, and both peak RSS.
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
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
[ -x "$PULL" ] || { echo "bench: build first ($PULL missing)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "bench: skopeo missing" >&2; exit 1; }

make_random_image "$TEST_TMP/layout" 1 "$size_mb" || exit 1
registry_start || exit 1
skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" "oci:$TEST_TMP/layout:1" "docker://$REGISTRY/bench/app:1" || exit 1
rm -rf "$TEST_TMP/layout"

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
declare -a t_sko t_pull rss_sko rss_pull
for i in $(seq "$rounds"); do
        rm -rf "$TEST_TMP/oci" "$TEST_TMP/store"; sync
        a=$(now)
        /usr/bin/time -f '%M' -o "$TEST_TMP/rss" skopeo copy -q --src-cert-dir "$REGISTRY_CERTS" \
                "docker://$REGISTRY/bench/app:1" "oci:$TEST_TMP/oci:1" || exit 1
        b=$(now)
        t_sko+=("$(calc "$b - $a")")
        rss_sko+=("$(cat "$TEST_TMP/rss")")

        rm -rf "$TEST_TMP/oci"; sync
        a=$(now)
        /usr/bin/time -f '%M' -o "$TEST_TMP/rss" "$PULL" -q --store "$TEST_TMP/store" --cacert "$REGISTRY_CA" \
                "$REGISTRY/bench/app:1" || exit 1
        b=$(now)
        t_pull+=("$(calc "$b - $a")")
        rss_pull+=("$(cat "$TEST_TMP/rss")")
        printf 'round %d: skopeo copy %.3fs (%d KiB)  pull %.3fs (%d KiB)\n' \
                "$i" "${t_sko[-1]}" "${rss_sko[-1]}" "${t_pull[-1]}" "${rss_pull[-1]}"
done
rm -rf "$TEST_TMP/oci" "$TEST_TMP/store"

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
best() { printf '%s\n' "$@" | sort -n | head -1; }
ms=$(median "${t_sko[@]}") mp=$(median "${t_pull[@]}")
bs=$(best "${t_sko[@]}") bp=$(best "${t_pull[@]}")
echo
printf '%s MB in 3 layers from docker-registry on loopback (HTTPS), median of %d alternated rounds (best round)\n' \
        "$size_mb" "$rounds"
printf '  skopeo copy docker:// oci:   %.3fs  1.00x  (%.3fs)  peak RSS %d KiB\n' "$ms" "$bs" \
        "$(printf '%s\n' "${rss_sko[@]}" | sort -n | tail -1)"
printf '  pull (sha256 + diff_id, fsync) %.3fs  %.2fx  (%.3fs  %.2fx)  peak RSS %d KiB\n' "$mp" \
        "$(calc "$mp / $ms")" "$bp" "$(calc "$bp / $bs")" "$(printf '%s\n' "${rss_pull[@]}" | sort -n | tail -1)"
printf '%d cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
