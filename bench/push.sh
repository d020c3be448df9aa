#!/bin/bash
# bench/push.sh [SIZE_MB] [ROUNDS]: push an image of three layers (SIZE_MB
# in all, default 200) from roost's store to Debian's docker-registry on
# loopback over HTTPS, side by side with `skopeo copy oci:DIR docker://...`
# of the same image from an OCI layout, which is what a user would
# otherwise run. Each push goes to a registry started afresh (empty
# storage, a new port), so every blob is uploaded: skopeo's blob-info cache
# would otherwise mount what it sent to the last one. Rounds alternate the
# two. Prints median times, the ratio, and both peak RSS.
#
# Run from a built tree: ROOST_SRCDIR defaults to this script's repository,
# and push and roost are taken from $ROOST_BUILDDIR (default: the same tree).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export ROOST_SRCDIR=${ROOST_SRCDIR:-$here}
ROOST_BUILDDIR=${ROOST_BUILDDIR:-$ROOST_SRCDIR}
PUSH=$ROOST_BUILDDIR/push/push
PUSH_OPTS=${PUSH_OPTS:-} # e.g. --chunk-size 0
ROOST=$ROOST_BUILDDIR/front/roost
size_mb=${1:-200}
rounds=${2:-3}
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
. "$ROOST_SRCDIR/tests/lib/registry.sh"
[ -x "$PUSH" ] || { echo "bench: build first ($PUSH missing)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "bench: skopeo missing" >&2; exit 1; }

layout=$TEST_TMP/layout
make_random_image "$layout" 1 "$size_mb" || exit 1
store=$TEST_TMP/store
"$ROOST" --store "$store" import -q "$layout" bench:1 >/dev/null || exit 1

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
declare -a t_sko t_push rss_sko rss_push
for i in $(seq "$rounds"); do
        registry_stop
        registry_start || exit 1
        sync
        a=$(now)
        /usr/bin/time -f '%M' -o "$TEST_TMP/rss" skopeo copy -q --dest-cert-dir "$REGISTRY_CERTS" \
                "oci:$layout:1" "docker://$REGISTRY/skopeo$i/app:1" || exit 1
        b=$(now)
        t_sko+=("$(calc "$b - $a")")
        rss_sko+=("$(cat "$TEST_TMP/rss")")
        a_digest=$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/skopeo$i/app:1" | jq -r .Digest)
        registry_stop
        registry_start || exit 1
        sync
        a=$(now)
        /usr/bin/time -f '%M' -o "$TEST_TMP/rss" "$PUSH" -q --store "$store" --cacert "$REGISTRY_CA" $PUSH_OPTS \
                bench:1 "$REGISTRY/roost$i/app:1" || exit 1
        b=$(now)
        t_push+=("$(calc "$b - $a")")
        rss_push+=("$(cat "$TEST_TMP/rss")")
        printf 'round %d: skopeo copy %.3fs (%d KiB)  push %.3fs (%d KiB)\n' \
                "$i" "${t_sko[-1]}" "${rss_sko[-1]}" "${t_push[-1]}" "${rss_push[-1]}"
done
a=$a_digest
b=$(skopeo inspect --cert-dir "$REGISTRY_CERTS" "docker://$REGISTRY/roost$rounds/app:1" | jq -r .Digest)
[ "$a" = "$b" ] || echo "bench: the two pushed different images ($a, $b)" >&2

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
best() { printf '%s\n' "$@" | sort -n | head -1; }
ms=$(median "${t_sko[@]}") mp=$(median "${t_push[@]}")
bs=$(best "${t_sko[@]}") bp=$(best "${t_push[@]}")
echo
printf '%s MB in 3 layers to docker-registry on loopback (HTTPS), median of %d alternated rounds (best round)\n' \
        "$size_mb" "$rounds"
printf '  skopeo copy oci: docker://   %.3fs  1.00x  (%.3fs)  peak RSS %d KiB\n' "$ms" "$bs" \
        "$(printf '%s\n' "${rss_sko[@]}" | sort -n | tail -1)"
printf '  roost push                   %.3fs  %.2fx  (%.3fs  %.2fx)  peak RSS %d KiB\n' "$mp" \
        "$(calc "$mp / $ms")" "$bp" "$(calc "$bp / $bs")" "$(printf '%s\n' "${rss_push[@]}" | sort -n | tail -1)"
printf 'the same manifest digest: %s\n' "$([ "$a" = "$b" ] && echo yes || echo NO)"
printf '%d cores, load %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
