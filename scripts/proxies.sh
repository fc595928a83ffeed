#!/usr/bin/env bash
# Proves that no response is lost when Shockwave runs behind real nginx and HAProxy with
# keep-alive upstream connections: examples/hello and examples/echo sit behind
#   nginx   (upstream keepalive 16, HTTP/1.1; "/" buffers request bodies, "/stream/" streams
#            them with proxy_request_buffering off)  and
#   HAProxy (mode http, http-reuse always, option http-keep-alive),
# and scripts/proxies_check.py sends bodies of 0 B to 10 MB (past the 8 MiB limit), with
# Content-Length and chunked, over kept-alive client connections. Every answer must be the
# expected 200 (echo: body intact) or 413; a 502, 504, other status, empty reply or connection
# error fails the run, which then prints the proxies' logs. One allowance: nginx with
# proxy_request_buffering off closes a client connection it said to keep alive whenever the
# upstream answered before the request body was all in (hello never reads it; echo stops at the
# limit), so on that route a request that finds its connection closed is retried once on a new
# one, as curl and browsers do, and the retries are counted in the table.
#
# Run: scripts/proxies.sh   (needs nothing installed: nginx, haproxy and python3 come from
# Debian packages; without network or apt it prints "proxies: SKIPPED: …" and exits 0)
# Env: PROXIES_BASE_PORT (18460; six ports from it), PROXIES_REPS (5 of each case),
# PROXIES_DEADLINE (45 s; requests not sent by then fail). A passing run takes about 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin" # nginx and haproxy live in sbin

BASE=${PROXIES_BASE_PORT:-18460}
REPS=${PROXIES_REPS:-5}
DEADLINE=${PROXIES_DEADLINE:-45}
HELLO_PORT=$BASE ECHO_PORT=$((BASE + 1))
NGINX_HELLO=$((BASE + 2)) NGINX_ECHO=$((BASE + 3))
HAPROXY_HELLO=$((BASE + 4)) HAPROXY_ECHO=$((BASE + 5))
DIR=$(mktemp -d)
PIDS=()

install_tools() {
    if ! scripts/install-deps.sh nginx:nginx-light haproxy python3; then
        echo "proxies: SKIPPED: could not install nginx-light, haproxy, python3 (no network or no apt?)"
        exit 0
    fi
    local cmd
    for cmd in nginx haproxy python3; do
        command -v "$cmd" >/dev/null || { echo "proxies: FAIL: $cmd missing after installing" >&2; exit 1; }
    done
}

# On any exit: stop what we started; on failure, show the logs' last lines and keep them.
finish() {
    local rc=$?
    [ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null || true
    wait 2>/dev/null
    if [ $rc -ne 0 ]; then
        local log
        for log in "$DIR"/*.log; do
            [ -s "$log" ] || continue
            echo "--- last lines of $log"
            grep -v "buffered to a temporary file" "$log" | tail -n 20 || true
        done
        echo "proxies: FAIL (logs kept in $DIR)" >&2
    else
        rm -rf "$DIR"
    fi
    exit $rc
}
trap finish EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start NAME PORT CMD...: runs CMD in the background (output to DIR/NAME.log) and waits up
# to 5 s for PORT to accept connections. A port already taken fails first, with a clearer
# message than the stray server's answers would give.
start() {
    local name=$1 port=$2
    shift 2
    if port_open "$port"; then
        echo "proxies: FAIL: port $port ($name) is already in use; set PROXIES_BASE_PORT" >&2
        exit 1
    fi
    "$@" >"$DIR/$name.log" 2>&1 &
    PIDS+=($!)
    local _
    for _ in $(seq 100); do
        port_open "$port" && return 0
        kill -0 $! 2>/dev/null || break
        sleep 0.05
    done
    echo "proxies: FAIL: $name did not come up on 127.0.0.1:$port" >&2
    exit 1
}

nginx_conf() {
    local user=""
    # as root, nginx would run its workers as nobody, who cannot enter DIR
    if [ "$(id -u)" -eq 0 ]; then user="user root $(id -gn);"; fi
    cat <<EOF
$user
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $DIR/nginx-access.log;
    client_body_temp_path $DIR/client_body_temp;
    proxy_temp_path $DIR/proxy_temp;
    fastcgi_temp_path $DIR/fastcgi_temp;
    uwsgi_temp_path $DIR/uwsgi_temp;
    scgi_temp_path $DIR/scgi_temp;
    client_max_body_size 0;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_read_timeout 60s;
    proxy_send_timeout 60s;
$(nginx_proxy hello "$HELLO_PORT" "$NGINX_HELLO")
$(nginx_proxy echo "$ECHO_PORT" "$NGINX_ECHO")
}
EOF
}

# nginx_proxy NAME UPSTREAM_PORT LISTEN_PORT
nginx_proxy() {
    cat <<EOF
    upstream $1 {
        server 127.0.0.1:$2;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$3;
        location / { proxy_pass http://$1; }
        location /stream/ { proxy_pass http://$1; proxy_request_buffering off; }
    }
EOF
}

haproxy_cfg() {
    cat <<EOF
global
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
$(haproxy_proxy hello "$HELLO_PORT" "$HAPROXY_HELLO")
$(haproxy_proxy echo "$ECHO_PORT" "$HAPROXY_ECHO")
EOF
}

# haproxy_proxy NAME UPSTREAM_PORT LISTEN_PORT
haproxy_proxy() {
    cat <<EOF
frontend $1_front
    bind 127.0.0.1:$3
    default_backend $1_back
backend $1_back
    server $1 127.0.0.1:$2
EOF
}

install_tools
cargo build --quiet --examples
start hello "$HELLO_PORT" target/debug/examples/hello "127.0.0.1:$HELLO_PORT"
start echo "$ECHO_PORT" target/debug/examples/echo "127.0.0.1:$ECHO_PORT"
nginx_conf >"$DIR/nginx.conf"
start nginx "$NGINX_ECHO" nginx -p "$DIR" -e "$DIR/nginx-error.log" -c "$DIR/nginx.conf" -g 'daemon off;'
haproxy_cfg >"$DIR/haproxy.cfg"
start haproxy "$HAPROXY_ECHO" haproxy -db -f "$DIR/haproxy.cfg"
# no request starts after DEADLINE; one still in flight gets its 65 s socket timeout, then a kill
LIMIT=$((DEADLINE + 75))
timeout "$LIMIT" python3 scripts/proxies_check.py --reps "$REPS" --deadline "$DEADLINE" --retry-closed nginx-stream \
    "nginx:hello:$NGINX_HELLO:/" "nginx:echo:$NGINX_ECHO:/" \
    "nginx-stream:hello:$NGINX_HELLO:/stream/" "nginx-stream:echo:$NGINX_ECHO:/stream/" \
    "haproxy:hello:$HAPROXY_HELLO:/" "haproxy:echo:$HAPROXY_ECHO:/" ||
    { rc=$?; [ $rc -ne 124 ] || echo "proxies: FAIL: the client still ran after $LIMIT s" >&2; exit $rc; }
echo "proxies: PASS"
