#!/bin/bash
# bench/pull-latency.sh [ROUNDS [DELAY_MS]]: pull of Alpine's minirootfs (signed
# with a throwaway key, its signature checked) over
# a long path, against `curl -o` of the tarball alone. A TCP proxy
# (bench/delay-proxy.py) adds DELAY_MS (default 25) each way in front of
# nginx serving TLS 1.2 and 1.3 and HTTP/2, as CDNs do; rounds alternate the
# two, each pull into a fresh store. Prints medians, the ratio, and what
# each did on the wire (connections and requests, from nginx's log).
#
# The tarball is the Alpine mirror's copy beside the source tree
# (ALPINE_MIRROR_DIR, default ../shared/alpine-mirror), else the fixture.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export ROOST_SRCDIR=${ROOST_SRCDIR:-$here}
ROOST_BUILDDIR=${ROOST_BUILDDIR:-$ROOST_SRCDIR}
PULL=$ROOST_BUILDDIR/fetch/pull
rounds=${1:-10}
delay=${2:-25}
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
[ -x "$PULL" ] || { echo "bench: build first ($PULL missing)" >&2; exit 1; }

mirror=${ALPINE_MIRROR_DIR:-$ROOST_SRCDIR/../shared/alpine-mirror}
if [ -f "$mirror/alpine/v3.20/releases/x86_64/latest-releases.yaml" ]; then
        # A copy of the release folder, to be signed below.
        mkdir -p "$TEST_TMP/www/alpine/v3.20/releases"
        cp -a "$mirror/alpine/v3.20/releases/x86_64" "$TEST_TMP/www/alpine/v3.20/releases/"
        www=$TEST_TMP/www version=3.20.3
else
        make_rootfs "$TEST_TMP/rootfs" 3.20.3 && make_tarball "$TEST_TMP/rootfs" "$TEST_TMP/rootfs.tar.gz" &&
                make_mirror "$TEST_TMP/www" 3.20.3 "$TEST_TMP/rootfs.tar.gz" || exit 1
        www=$TEST_TMP/www version=3.20.3
fi
file=alpine-minirootfs-$version-x86_64.tar.gz
# Signed with a throwaway key, as Alpine signs its releases: pull fetches the
# .asc and checks it as the tarball streams in (the path every real pull takes).
fixture_signing_key && fixture_sign "$www/alpine/v3.20/releases/x86_64/$file" || exit 1
NGINX_LISTEN_OPTS=http2 NGINX_HTTP_EXTRA='log_format wire "$connection $connection_requests $request";' \
        nginx_start "$www" 'ssl_protocols TLSv1.2 TLSv1.3; access_log '"$TEST_TMP"'/wire.log wire;' || exit 1

coproc PROXY { exec python3 "$ROOST_SRCDIR/bench/delay-proxy.py" 0 127.0.0.1 "$NGINX_PORT" "$delay"; }
proxy_pid=$PROXY_PID
tap_at_exit "kill $proxy_pid 2>/dev/null"
read -r _ port <&"${PROXY[0]}" || { echo "bench: the proxy did not start" >&2; exit 1; }
base=https://127.0.0.1:$port
url=$base/alpine/v3.20/releases/x86_64/$file

now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
lines() { wc -l <"$TEST_TMP/wire.log"; }
wire() { # wire FROM: connections and requests logged after line FROM
        tail -n "+$(($1 + 1))" "$TEST_TMP/wire.log" |
                awk '{ c[$1] = 1; r++ } END { printf "%d connection(s), %d request(s)", length(c), r }'
}
declare -a t_curl t_pull
for i in $(seq "$rounds"); do
        rm -rf "$TEST_TMP/out" "$TEST_TMP/store"
        from=$(lines)
        a=$(now)
        curl -sS --http2 --cacert "$NGINX_CA" -o "$TEST_TMP/out" "$url" || exit 1
        b=$(now)
        t_curl+=("$(calc "$b - $a")")
        w_curl=$(wire "$from")
        from=$(lines)
        a=$(now)
        "$PULL" -q --store "$TEST_TMP/store" --mirror "$base/alpine" --cacert "$NGINX_CA" --trust "$FIXTURE_KEY" \
                alpine 3.20 || exit 1
        b=$(now)
        t_pull+=("$(calc "$b - $a")")
        w_pull=$(wire "$from")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mc=$(median "${t_curl[@]}") mp=$(median "${t_pull[@]}")
echo "pull of $file through a ${delay} ms each-way proxy (RTT $((2 * delay)) ms), $rounds rounds, HTTP/2 offered"
printf '%-28s %10s %8s  %s\n' command "median s" ratio "on the wire (last round)"
printf '%-28s %10.3f %8.2f  %s\n' "curl -o (tarball only)" "$mc" 1 "$w_curl"
printf '%-28s %10.3f %8.2f  %s\n' "pull alpine 3.20" "$mp" "$(calc "$mp / $mc")" "$w_pull"
printf 'round trips at this RTT: curl %.1f, pull %.1f\n' "$(calc "$mc / (2 * $delay / 1000)")" "$(calc "$mp / (2 * $delay / 1000)")"
