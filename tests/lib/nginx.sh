# Start Debian's nginx over HTTPS on a free loopback port, with a throwaway
# certificate authority made by openssl now, and stop it at exit whatever
# happens. Source after tap.sh.
#
#   nginx_start DOCROOT [EXTRA-SERVER-DIRECTIVES]
#     (NGINX_LISTEN_OPTS: more words for the listen line, e.g. http2;
#     NGINX_HTTP_EXTRA: directives for the http block, e.g. a log_format)
#     sets NGINX_URL (https://127.0.0.1:PORT), NGINX_PORT, NGINX_CA (the CA's
#     certificate, for --cacert), NGINX_LOG (access log), NGINX_DIR.
#   nginx_stop

NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}

_nginx_make_ca() {
        local d=$1
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=roost test CA" \
                -keyout "$d/ca.key" -out "$d/ca.pem" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || return 1
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
                -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
                -CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
}

# A port nobody listens on now; nginx may still lose a race for it, so
# nginx_start tries again with another.
_nginx_free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 30000))
                if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                        echo "$p"; return 0
                fi
        done
        return 1
}

nginx_start() {
        local docroot=$1 extra=${2:-}
        [ -x "$NGINX_BIN" ] || { echo "nginx_start: nginx not installed (apt-get install nginx-light)" >&2; return 1; }
        NGINX_DIR=$(mktemp -d "$TEST_TMP/nginx.XXXXXX")
        chmod 755 "$NGINX_DIR"
        _nginx_make_ca "$NGINX_DIR" || { echo "nginx_start: openssl failed" >&2; return 1; }
        NGINX_CA=$NGINX_DIR/ca.pem
        NGINX_LOG=$NGINX_DIR/access.log
        local user_line=""
        [ "$(id -u)" -eq 0 ] && user_line="user root root;"
        for _ in 1 2 3 4 5; do
                NGINX_PORT=$(_nginx_free_port) || return 1
                cat >"$NGINX_DIR/nginx.conf" <<CONF
$user_line
daemon on;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 256; }
http {
    access_log $NGINX_LOG;
    ${NGINX_HTTP_EXTRA:-}
    client_body_temp_path $NGINX_DIR/body;
    proxy_temp_path $NGINX_DIR/proxy;
    fastcgi_temp_path $NGINX_DIR/fastcgi;
    uwsgi_temp_path $NGINX_DIR/uwsgi;
    scgi_temp_path $NGINX_DIR/scgi;
    types { application/gzip gz; text/plain sha256 sha512; text/yaml yaml; }
    default_type application/octet-stream;
    sendfile on;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl ${NGINX_LISTEN_OPTS:-};
        ssl_certificate $NGINX_DIR/server.pem;
        ssl_certificate_key $NGINX_DIR/server.key;
        root $docroot;
        $extra
    }
}
CONF
                if "$NGINX_BIN" -e "$NGINX_DIR/error.log" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" 2>>"$NGINX_DIR/start.log"; then
                        NGINX_URL=https://127.0.0.1:$NGINX_PORT
                        tap_at_exit nginx_stop
                        # Wait until it answers.
                        for _ in $(seq 50); do
                                (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && return 0
                                sleep 0.1
                        done
                        echo "nginx_start: nginx did not answer on $NGINX_PORT" >&2
                        return 1
                fi
        done
        echo "nginx_start: could not start nginx: $(tail -1 "$NGINX_DIR/start.log")" >&2
        return 1
}

nginx_stop() {
        [ -n "${NGINX_DIR:-}" ] && [ -f "$NGINX_DIR/nginx.pid" ] || return 0
        local pid
        pid=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null) || return 0
        kill -QUIT "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        rm -f "$NGINX_DIR/nginx.pid"
}
