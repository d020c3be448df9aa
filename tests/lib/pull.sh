# Helpers for pull's tests: a mirror with several releases laid out like
# Alpine's, the fault-injection server, and looks into a store. Source
# after tap.sh, fixtures.sh and nginx.sh.

# rootfs_tarball OUT VERSION: a small, distinct tarball per version.
rootfs_tarball() {
        local tree=$TEST_TMP/rootfs-$2
        [ -d "$tree" ] || make_rootfs "$tree" "$2" || return 1
        make_tarball "$tree" "$1" gz
}

# pull_fixture_mirror WWW: under WWW/alpine,
#   v3.99: 3.99.0, 3.99.2 and 3.99.1, listed in that order (newest in the
#          middle), each with the other flavors around it; aarch64 3.99.2
#   v3.98: 3.98.5 indexed, and 3.98.4 only as files beside it (an older
#          point release the index no longer lists)
#   edge, and latest-stable as a symlink to v3.99
pull_fixture_mirror() {
        local www=$1 v
        for v in 3.99.0 3.99.2 3.99.1 3.98.5 3.98.4; do
                rootfs_tarball "$TEST_TMP/rootfs-$v.tar.gz" "$v" || return 1
        done
        rootfs_tarball "$TEST_TMP/rootfs-edge.tar.gz" edge || return 1
        for v in 3.99.0 3.99.2 3.99.1 3.98.5; do
                make_mirror "$www" "$v" "$TEST_TMP/rootfs-$v.tar.gz" || return 1
        done
        make_mirror "$www" 3.99.2 "$TEST_TMP/rootfs-3.99.2.tar.gz" aarch64 || return 1
        make_mirror "$www" edge "$TEST_TMP/rootfs-edge.tar.gz" || return 1
        local d=$www/alpine/v3.98/releases/x86_64 f=alpine-minirootfs-3.98.4-x86_64.tar.gz
        cp "$TEST_TMP/rootfs-3.98.4.tar.gz" "$d/$f"
        (cd "$d" && sha256sum "$f" >"$f.sha256" && sha512sum "$f" >"$f.sha512")
        ln -s v3.99 "$www/alpine/latest-stable"
}

# release_file WWW VERSION [ARCH]: the path of a release's tarball.
release_file() {
        local v=$2 arch=${3:-x86_64} branch
        branch=v${v%.*}
        [ "$v" = edge ] && branch=edge
        echo "$1/alpine/$branch/releases/$arch/alpine-minirootfs-$v-$arch.tar.gz"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# store_blob_count STORE, store_has_ref STORE NAME:TAG [ARCH]: the store's
# layout is documented (store/store.h), so tests may look.
store_blob_count() { find "$1/blobs/sha256" -type f 2>/dev/null | wc -l; }
store_partial_count() { find "$1/partial" -type f -size +0 2>/dev/null | wc -l; }
store_has_ref() { [ -n "$(ref_doc "$1" "$2" "${3:-x86_64}" 2>/dev/null)" ]; }

# tarball_gets LOG FILE [STATUS]: how many GETs of FILE an nginx access log
# shows (with STATUS, only those answered so).
tarball_gets() {
        local n
        n=$(grep -c "\"GET [^ ]*/$2 HTTP/[0-9.]*\" ${3:-[0-9]*} " "$1" 2>/dev/null) || true
        echo "${n:-0}"
}

# faultserver_start DOCROOT MODE: the misbehaving HTTPS server of
# tests/faultserver.py, with nginx's certificate (so --cacert "$NGINX_CA"
# trusts it). Sets FAULT_URL and FAULT_LOG; stopped at exit.
faultserver_start() {
        local docroot=$1 mode=$2 portfile
        portfile=$(mktemp -u "$TEST_TMP/fault-port.XXXXXX")
        FAULT_LOG=$(dirname "$docroot")/fault.log
        rm -f "$FAULT_LOG"
        python3 "$ROOST_SRCDIR/tests/faultserver.py" "$docroot" "$NGINX_DIR/server.pem" "$NGINX_DIR/server.key" \
                "$mode" "$portfile" &
        local pid=$!
        tap_at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
        FAULT_PID=$pid
        for _ in $(seq 100); do
                [ -s "$portfile" ] && break
                sleep 0.05
        done
        [ -s "$portfile" ] || { echo "faultserver_start: no port" >&2; return 1; }
        FAULT_URL=https://127.0.0.1:$(cat "$portfile")
}

faultserver_stop() {
        [ -n "${FAULT_PID:-}" ] || return 0
        kill "$FAULT_PID" 2>/dev/null
        wait "$FAULT_PID" 2>/dev/null
        FAULT_PID=
}
