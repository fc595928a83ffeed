#!/usr/bin/env bash
# CPU per compressed response: Shockwave's Compress middleware (examples/compress, one worker
# thread) against nginx `gzip on` (one worker process) serving the same ~100 KB JSON document,
# at the same gzip level. Each server is pinned to CPU 0 and wrk (keep-alive, 4 connections,
# Accept-Encoding: gzip) to CPU 1; the figure is the server's utime+stime per request from
# /proc/PID/stat, which does not depend on how fast one wrk thread can go.
# Usage: scripts/bench-compress.sh [seconds per run, default 5] [levels, default "1 6"]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-5}"
LEVELS="${2:-1 6}"
PORT="${PORT:-18091}"
NGINX="${NGINX:-/usr/sbin/nginx}"
WORK="target/bench-compress"
command -v wrk >/dev/null || { echo "bench-compress: wrk is needed" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "bench-compress: nginx is needed at $NGINX" >&2; exit 1; }
mkdir -p "$WORK/www"
cargo build --release --example compress --features compress >&2
cp target/release/examples/compress "$WORK/shockwave-compress"
"$WORK/shockwave-compress" --dump "$WORK/www/json"
DOC_BYTES=$(stat -c %s "$WORK/www/json")
HZ=$(getconf CLK_TCK)

ticks() { local s; s="$(cat "/proc/$1/stat")"; s="${s##*) }"; awk '{print $12 + $13}' <<<"$s"; }

# run NAME PID: wrk against /json, prints "NAME req/s cpu-us/req wire-bytes"
run() {
  local name="$1" pid="$2" t0 t1 out reqs wire
  wire=$(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/json" | wc -c)
  taskset -c 1 wrk -t1 -c4 -d1s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/json" >/dev/null # warm-up
  t0=$(ticks "$pid")
  out=$(taskset -c 1 wrk -t1 -c4 -d"${SECS}s" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/json")
  t1=$(ticks "$pid")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v n="$name" -v r="$reqs" -v s="$SECS" -v d=$((t1 - t0)) -v hz="$HZ" -v w="$wire" \
    'BEGIN { printf "%-28s %8.0f req/s %8.1f us CPU/req %7d B on the wire\n", n, r / s, d / hz * 1e6 / r, w }'
}

wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/json" && return 0; sleep 0.05; done; return 1; }

echo "document: $DOC_BYTES bytes of JSON; $SECS s per run; $(nproc) CPUs; $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
for level in $LEVELS; do
  GZIP_LEVEL=$level SHOCKWAVE_WORKERS=1 SHOCKWAVE_POLLERS=1 taskset -c 0 "$WORK/shockwave-compress" "127.0.0.1:$PORT" >/dev/null &
  pid=$!
  wait_port || { kill "$pid"; echo "shockwave did not start" >&2; exit 1; }
  run "shockwave gzip level $level" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true

  user=""; [ "$(id -u)" = 0 ] && user="user root root;"
  cat >"$WORK/nginx.conf" <<CONF
$user
worker_processes 1;
pid $PWD/$WORK/nginx.pid;
error_log $PWD/$WORK/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $PWD/$WORK/tmp;
    proxy_temp_path $PWD/$WORK/tmp;
    fastcgi_temp_path $PWD/$WORK/tmp;
    uwsgi_temp_path $PWD/$WORK/tmp;
    scgi_temp_path $PWD/$WORK/tmp;
    keepalive_requests 1000000;
    types { application/json json; }
    default_type application/json;
    gzip on;
    gzip_comp_level $level;
    gzip_types application/json;
    gzip_min_length 1024;
    gzip_vary on;
    server { listen 127.0.0.1:$PORT; root $PWD/$WORK/www; }
}
CONF
  taskset -c 0 "$NGINX" -p "$PWD/$WORK" -e "$PWD/$WORK/error.log" -c "$PWD/$WORK/nginx.conf" -g 'daemon off;' &
  master=$!
  wait_port || { kill "$master"; echo "nginx did not start: $(cat "$WORK/error.log")" >&2; exit 1; }
  worker=$(pgrep -P "$master" | head -1)
  run "nginx gzip_comp_level $level" "$worker"
  kill "$master"; wait "$master" 2>/dev/null || true
done
