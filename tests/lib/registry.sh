# Debian's docker-registry (distribution v2) over HTTPS on a free loopback
# port, with the throwaway certificate authority nginx.sh makes, its
# storage in a folder of its own, and stopped by its pid at exit. Source
# after tap.sh and nginx.sh.
#
#   registry_start [HTPASSWD]
#     (HTPASSWD: a file of bcrypt user:hash lines; the registry then asks
#     for Basic authentication. REGISTRY_PLAIN=1: plain HTTP, no TLS)
#     sets REGISTRY (127.0.0.1:PORT), REGISTRY_CA (for --cacert),
#     REGISTRY_CERTS (a folder for skopeo's --dest-cert-dir / --cert-dir),
#     REGISTRY_LOG (its log, an access-log line per request),
#     REGISTRY_DATA (its storage).
#   registry_stop
#   registry_blob_file HEX: the file in its storage that holds blob HEX.
#   registry_gets REGEX: how many GETs of a path matching REGEX it logged.
#   make_htpasswd FILE USER PASS: a bcrypt entry, as the registry wants.
#   tokenserver_start [OPTION...]: tests/tokenserver.py in front of the
#     running registry, with the same CA (options: its own); sets
#     TOKEN_REGISTRY (127.0.0.1:PORT) and TOKEN_LOG. tokenserver_stop.
#   registry_test_needs: skip_all without root, skopeo or docker-registry,
#     or off x86_64 (the images the tests launch are x86_64's).
#   make_private_image DIR: DIR/layout, an OCI layout tagged 1 of two x86_64
#     layers: the fixture rootfs (fixtures.sh), then /etc/motd.

REGISTRY_BIN=${REGISTRY_BIN:-$(command -v docker-registry || echo /usr/bin/docker-registry)}

registry_start() {
        local htpasswd=${1:-} dir auth=""
        [ -x "$REGISTRY_BIN" ] ||
                { echo "registry_start: docker-registry not installed (apt-get install docker-registry)" >&2; return 1; }
        dir=$(mktemp -d "$TEST_TMP/registry.XXXXXX")
        _nginx_make_ca "$dir" || { echo "registry_start: openssl failed" >&2; return 1; }
        REGISTRY_DIR=$dir
        REGISTRY_CA=$dir/ca.pem
        REGISTRY_CERTS=$dir/certs
        mkdir -p "$REGISTRY_CERTS"
        cp "$dir/ca.pem" "$REGISTRY_CERTS/ca.crt"
        REGISTRY_DATA=$dir/data
        REGISTRY_LOG=$dir/registry.log
        [ -n "$htpasswd" ] && auth="auth:
  htpasswd:
    realm: roost-test
    path: $htpasswd"
        local port tls="  tls:
    certificate: $dir/server.pem
    key: $dir/server.key"
        [ "${REGISTRY_PLAIN:-}" = 1 ] && tls=
        for _ in 1 2 3 4 5; do
                port=$(_nginx_free_port) || return 1
                cat >"$dir/config.yml" <<CONF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
$tls
$auth
CONF
                "$REGISTRY_BIN" serve "$dir/config.yml" >>"$REGISTRY_LOG" 2>&1 &
                _registry_pid=$!
                tap_at_exit registry_stop
                for _ in $(seq 50); do
                        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                                REGISTRY=127.0.0.1:$port
                                return 0
                        fi
                        kill -0 "$_registry_pid" 2>/dev/null || break
                        sleep 0.1
                done
                registry_stop
        done
        echo "registry_start: could not start docker-registry: $(tail -1 "$REGISTRY_LOG")" >&2
        return 1
}

registry_stop() {
        [ -n "${_registry_pid:-}" ] || return 0
        kill -TERM "$_registry_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$_registry_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$_registry_pid" 2>/dev/null
        wait "$_registry_pid" 2>/dev/null
        _registry_pid=
}

registry_blob_file() {
        echo "$REGISTRY_DATA/docker/registry/v2/blobs/sha256/${1:0:2}/$1/data"
}

registry_gets() {
        grep -cE "\"GET $1 HTTP" "$REGISTRY_LOG"
}

make_htpasswd() {
        local hash
        hash=$(python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$3") ||
                return 1
        echo "$2:$hash" >>"$1"
}

# make_random_image LAYOUT TAG SIZE_MB: an OCI layout image (linux/amd64)
# of three layers of random bytes, gzip as registries serve them, a half,
# a third and a sixth of SIZE_MB: random bytes do not compress, as a real
# image's compressed layers do not. For the benches.
make_random_image() {
        local layout=$1 tag=$2 size_mb=$3 l=$TEST_TMP/random-layers i=0 part
        mkdir -p "$l" || return 1
        for part in $((size_mb / 2)) $((size_mb / 3)) $((size_mb - size_mb / 2 - size_mb / 3)); do
                i=$((i + 1))
                head -c "${part}M" /dev/urandom | gzip -1 >"$l/$i.tar.gz" || return 1
        done
        make_oci_image "$layout" "$tag" amd64 "$l/1.tar.gz" "$l/2.tar.gz" "$l/3.tar.gz" || return 1
        rm -rf "$l"
}

# make_oci_image LAYOUT TAG ARCH LAYERS...: an OCI layout image of the
# gzip tarballs LAYERS (bottom first) for linux/ARCH (amd64, arm64), run
# as /bin/sh, under TAG. Written by hand, as the image spec says.
make_oci_image() {
        local layout=$1 tag=$2 arch=$3 f hex diff layers="[]" diffs="[]" cfg man
        shift 3
        mkdir -p "$layout/blobs/sha256"
        [ -f "$layout/oci-layout" ] || echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
        [ -f "$layout/index.json" ] || echo '{"schemaVersion":2,"manifests":[]}' >"$layout/index.json"
        for f in "$@"; do
                hex=$(sha256sum <"$f" | cut -d' ' -f1)
                diff=$(gzip -dc "$f" | sha256sum | cut -d' ' -f1)
                cp "$f" "$layout/blobs/sha256/$hex"
                layers=$(jq -c --arg h "sha256:$hex" --argjson s "$(stat -c %s "$f")" \
                        '. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $h, size: $s}]' <<<"$layers")
                diffs=$(jq -c --arg d "sha256:$diff" '. + [$d]' <<<"$diffs")
        done
        cfg=$(jq -cn --arg a "$arch" --argjson d "$diffs" \
                '{architecture: $a, os: "linux", config: {Env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"]},
                  rootfs: {type: "layers", diff_ids: $d}}')
        printf '%s' "$cfg" >"$TEST_TMP/cfg.json"
        hex=$(sha256sum <"$TEST_TMP/cfg.json" | cut -d' ' -f1)
        cp "$TEST_TMP/cfg.json" "$layout/blobs/sha256/$hex"
        man=$(jq -cn --arg c "sha256:$hex" --argjson s "${#cfg}" --argjson l "$layers" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
                  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $s}, layers: $l}')
        printf '%s' "$man" >"$TEST_TMP/man.json"
        hex=$(sha256sum <"$TEST_TMP/man.json" | cut -d' ' -f1)
        cp "$TEST_TMP/man.json" "$layout/blobs/sha256/$hex"
        jq -c --arg d "sha256:$hex" --argjson s "${#man}" --arg t "$tag" \
                '.manifests += [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
                                 annotations: {"org.opencontainers.image.ref.name": $t}}]' \
                "$layout/index.json" >"$TEST_TMP/index.json" && mv "$TEST_TMP/index.json" "$layout/index.json"
}

# registry_put_index REPO TAG TAG_AMD64 TAG_ARM64: an OCI index of the two
# pushed images, PUT under TAG (no skopeo needed: the registry has both).
registry_put_index() {
        local repo=$1 tag=$2 a b idx
        a=$(curl -sS --cacert "$REGISTRY_CA" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                "https://$REGISTRY/v2/$repo/manifests/$3") || return 1
        b=$(curl -sS --cacert "$REGISTRY_CA" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
                "https://$REGISTRY/v2/$repo/manifests/$4") || return 1
        idx=$(jq -cn --arg da "sha256:$(printf '%s' "$a" | sha256sum | cut -d' ' -f1)" --argjson sa "${#a}" \
                --arg db "sha256:$(printf '%s' "$b" | sha256sum | cut -d' ' -f1)" --argjson sb "${#b}" \
                '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
                   {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $db, size: $sb,
                    platform: {architecture: "arm64", os: "linux", variant: "v8"}},
                   {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $da, size: $sa,
                    platform: {architecture: "amd64", os: "linux"}}]}')
        printf '%s' "$idx" | curl -sS -f --cacert "$REGISTRY_CA" -X PUT \
                -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @- \
                "https://$REGISTRY/v2/$repo/manifests/$tag" >/dev/null
}

tokenserver_start() {
        local portfile=$REGISTRY_DIR/token.port
        TOKEN_LOG=$REGISTRY_DIR/token.log
        rm -f "$portfile" "$TOKEN_LOG"
        python3 "$ROOST_SRCDIR/tests/tokenserver.py" "https://$REGISTRY" "$REGISTRY_CA" \
                "$REGISTRY_DIR/server.pem" "$REGISTRY_DIR/server.key" "$portfile" "$TOKEN_LOG" "$@" \
                2>>"$REGISTRY_DIR/token.err" &
        _token_pid=$!
        tap_at_exit tokenserver_stop
        for _ in $(seq 100); do
                [ -s "$portfile" ] && { TOKEN_REGISTRY=127.0.0.1:$(cat "$portfile"); touch "$TOKEN_LOG"; return 0; }
                kill -0 "$_token_pid" 2>/dev/null || break
                sleep 0.05
        done
        echo "tokenserver_start: it did not start: $(tail -1 "$REGISTRY_DIR/token.err")" >&2
        return 1
}

tokenserver_stop() {
        [ -n "${_token_pid:-}" ] || return 0
        kill -TERM "$_token_pid" 2>/dev/null
        wait "$_token_pid" 2>/dev/null
        _token_pid=
}

registry_test_needs() {
        require_root
        command -v skopeo >/dev/null || skip_all "skopeo is not installed"
        [ -x "$REGISTRY_BIN" ] || skip_all "docker-registry is not installed"
        [ "$(uname -m)" = x86_64 ] || skip_all "the fixture image is x86_64's"
}

make_private_image() {
        mkdir -p "$1/l2/etc"
        fixture_tarball "$1/l1.tar.gz" || skip_all "cannot build the fixture rootfs"
        echo "from a private registry" >"$1/l2/etc/motd"
        make_tarball "$1/l2" "$1/l2.tar.gz" || skip_all "tar failed"
        make_oci_image "$1/layout" 1 amd64 "$1/l1.tar.gz" "$1/l2.tar.gz"
}
