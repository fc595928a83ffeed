#!/usr/bin/env bash
# TLS: Shockwave's examples/tls against nginx (Debian package, OpenSSL) and hyper + tokio-rustls
# (benches/peers hyper-tls-hello), all three serving `Hello, World!` over HTTPS with the same
# self-signed ECDSA P-256 certificate, made afresh in the work directory on every run.
# One server at a time; MODE=pinned (default): the server on SERVER_CPU with one thread
# (Shockwave SHOCKWAVE_POLLERS=1, nginx worker_processes 1, hyper THREADS=1: current_thread
# runtime), the load tool on CLIENT_CPU; MODE=shared: nothing pinned, two threads each
# (SHOCKWAVE_POLLERS=2, worker_processes 2, THREADS=2) and two client threads.
#
#   ka         `wrk -t1 -c64` keep-alive over HTTPS: req/s and server CPU per request
#   full       handshakes/s, full TLS 1.3 handshakes (benches/peers/tlsload, Go crypto/tls:
#              HS_CONNS goroutines each loop connect, handshake, GET / with `Connection: close`,
#              read the answer, close; no session cache, so every handshake is a full one)
#   resumed    the same with one session cache per goroutine: TLS 1.3 PSK resumption (psk_dhe_ke,
#              still one ECDHE); the resumed fraction is counted (Go's ConnectionState().DidResume)
#   full12 / resumed12   the same at TLS 1.2 (resumed = abbreviated handshake from a ticket)
#   wrkclose   `wrk -H "Connection: close"`: wrk (OpenSSL) reuses its TLS session on every
#              reconnect, so these are resumed TLS 1.3 handshakes from a second, C client
#   mem        bytes per idle TLS keep-alive connection: a fresh server, baseline RSS, then
#              `tlsload idle` opens MEM_CONNS connections (8 at a time) with one request answered
#              on each; SETTLE s later (RSS - baseline) / connections still established
#              (nginx: master + worker RSS)
#
# Server CPU is utime+stime of the server's processes (all threads; nginx master + worker) from
# /proc over the measured window; "busy %" is that CPU time as % of one CPU: well under 100 in
# pinned mode means the load tool, not the server, set the pace.
#
# Environment knobs (all optional):
#   SERVERS     default: shockwave nginx hyper
#   SCENARIOS   default: ka full resumed full12 resumed12 wrkclose mem
#   MODE        pinned (default) or shared
#   ROUNDS      rounds of every scenario per server (default 3; the report gives medians)
#   DURATION    seconds per run (default 5), after a WARMUP (default 1) per server and, for the
#               tlsload scenarios, 1 s of tlsload's own warm-up (not counted)
#   HS_CONNS    concurrent handshaking connections of tlsload (default 32)
#   MEM_CONNS   idle connections for mem (default 10000); SETTLE (default 2)
#   ADDR        listen address (default 127.0.0.1:9443)
#   SERVER_CPU / CLIENT_CPU  (default 0 / 1)
#   SHOCKWAVE_WORKERS  passed through to shockwave when set
#   NO_BUILD=1  use the already built binaries
#   DATE_TAG    file name tag of the results (default: YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/tls-<tag>.md (copied to tls-latest.md;
# MODE=shared: tls-shared-<tag>.md and tls-shared-latest.md), raw rows in
# target/bench-peers/tls-<tag>.csv and tls-mem-<tag>.csv.
set -euo pipefail
BENCH_TAG=bench-tls
ADDR="${ADDR:-127.0.0.1:9443}"
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-tls.sh SERVERS SCENARIOS MODE ROUNDS DURATION WARMUP HS_CONNS MEM_CONNS SETTLE ADDR SERVER_CPU CLIENT_CPU SHOCKWAVE_WORKERS NO_BUILD)${*:+ $*}"
cd "$ROOT"
export PATH="$PATH:/usr/sbin:/sbin" # nginx lives in sbin
SERVERS="${SERVERS:-shockwave nginx hyper}"
SCENARIOS="${SCENARIOS:-ka full resumed full12 resumed12 wrkclose mem}"
MODE="${MODE:-pinned}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
DURATION="${DURATION%s}"
WARMUP="${WARMUP:-1}"
WARMUP="${WARMUP%s}"
HS_CONNS="${HS_CONNS:-32}"
MEM_CONNS="${MEM_CONNS:-10000}"
SETTLE="${SETTLE:-2}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
CLK_TCK="$(getconf CLK_TCK)"
TLS_DIR="$WORK_DIR/tls"
CERT="$TLS_DIR/cert.pem"
KEY="$TLS_DIR/key.pem"
TLS_BUILT="$ROOT/target/release/examples/tls"
TLSLOAD="$PEERS_DIR/target/tlsload"
HYPER_TLS="$PEERS_BIN/hyper-tls-hello"
SERVER_SCHEME=https

case "$MODE" in
  pinned) SRV_CPUS="$SERVER_CPU"; PIN=(taskset -c "$CLIENT_CPU"); THREADS_N=1; WRK_T=1 ;;
  shared) SRV_CPUS=""; PIN=(); THREADS_N=2; WRK_T=2 ;;
  *) die "MODE must be pinned or shared, not '$MODE'" ;;
esac
for scen in $SCENARIOS; do
  case "$scen" in ka|full|resumed|full12|resumed12|wrkclose|mem) ;; *) die "unknown scenario '$scen'" ;; esac
done

CLEANUP_EXTRA=stop_idle
trap_cleanup
ensure_tools
command -v openssl >/dev/null || apt_install openssl
command -v nginx >/dev/null || [[ " $SERVERS " != *" nginx "* ]] || die "nginx not found (apt-get install nginx-light)"
port_busy && die "port $PORT is already in use; stop whatever listens there first"
# The server holds MEM_CONNS sockets (tlsload raises its own soft limit to the hard limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
mkdir -p "$TLS_DIR" "$RESULTS_DIR" "$WORK_DIR/logs"

# ------------------------------------------------------------------ builds
if [ -z "${NO_BUILD:-}" ]; then
  if [[ " $SERVERS " == *" shockwave "* ]]; then
    log "building shockwave (cargo build --release --example tls --features tls)"
    timeout "$BUILD_TIMEOUT" cargo build --release --example tls --features tls --quiet \
      || { warn "examples/tls did not build: shockwave will be skipped"; rm -f "$TLS_DIR/tls-bin"; }
  fi
  if [[ " $SERVERS " == *" hyper "* ]]; then
    log "building benches/peers hyper-tls-hello"
    (cd "$PEERS_DIR" && timeout "$BUILD_TIMEOUT" cargo build --release --quiet --bin hyper-tls-hello) \
      || die "hyper-tls-hello did not build"
  fi
  build_go_peer tlsload "$TLSLOAD"
fi
[ -x "$TLSLOAD" ] || die "no $TLSLOAD (run without NO_BUILD)"
if [[ " $SERVERS " == *" shockwave "* ]]; then
  # A private copy, so a concurrent build cannot swap it mid-run.
  if [ -x "$TLS_BUILT" ] && cp -f "$TLS_BUILT" "$TLS_DIR/tls-bin.tmp"; then
    mv -f "$TLS_DIR/tls-bin.tmp" "$TLS_DIR/tls-bin"
  else
    warn "no $TLS_BUILT: shockwave skipped"
    SERVERS="$(tr ' ' '\n' <<<"$SERVERS" | { grep -vx shockwave || true; } | tr '\n' ' ')"
  fi
fi

# ------------------------------------------------------------------ certificate, configs
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$KEY" -out "$CERT" -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1 || die "openssl req failed"

user=""
[ "$(id -u)" -eq 0 ] && user="user root $(id -gn);"
cat >"$TLS_DIR/nginx.conf" <<EOF
$user
worker_processes $THREADS_N;
worker_rlimit_nofile 65536;
pid $TLS_DIR/nginx.pid;
error_log $TLS_DIR/nginx-error.log warn;
events { worker_connections 30000; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 600s;
    client_body_temp_path $TLS_DIR/client_body_temp;
    proxy_temp_path $TLS_DIR/proxy_temp;
    fastcgi_temp_path $TLS_DIR/fastcgi_temp;
    uwsgi_temp_path $TLS_DIR/uwsgi_temp;
    scgi_temp_path $TLS_DIR/scgi_temp;
    server {
        listen $ADDR ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;
        ssl_session_cache shared:SSL:10m;
        location / {
            default_type text/plain;
            return 200 "Hello, World!";
        }
    }
}
EOF
# start_server runs `BIN ADDR`: launchers that exec the real servers (same pid).
cat >"$TLS_DIR/shockwave-tls" <<EOF
#!/bin/sh
ADDR="\$1" exec "$TLS_DIR/tls-bin" "$CERT" "$KEY"
EOF
cat >"$TLS_DIR/nginx-tls" <<EOF
#!/bin/sh
exec nginx -p "$TLS_DIR" -e "$TLS_DIR/nginx-error.log" -c "$TLS_DIR/nginx.conf" -g 'daemon off;'
EOF
cat >"$TLS_DIR/hyper-tls" <<EOF
#!/bin/sh
exec "$HYPER_TLS" "\$1" "$CERT" "$KEY"
EOF
# The same nginx logging whether each request's TLS session was resumed (the resumption check).
sed -e "s|access_log off;|log_format reuse '\\\$ssl_protocol \\\$ssl_session_reused'; access_log $TLS_DIR/reuse.log reuse;|" \
  "$TLS_DIR/nginx.conf" >"$TLS_DIR/nginx-verify.conf"
sed -e "s|nginx.conf|nginx-verify.conf|" "$TLS_DIR/nginx-tls" >"$TLS_DIR/nginx-verify-tls"
chmod +x "$TLS_DIR/shockwave-tls" "$TLS_DIR/nginx-tls" "$TLS_DIR/hyper-tls" "$TLS_DIR/nginx-verify-tls"
bin_of() { case "$1" in shockwave|nginx|hyper) echo "$TLS_DIR/$1-tls" ;; *) die "unknown server $1" ;; esac; }

# Pids of the server's processes, comma-separated (nginx: master and worker).
server_pids() { { echo "$SERVER_PID"; pgrep -P "$SERVER_PID" 2>/dev/null || true; } | paste -sd, -; }
# Summed VmRSS (kB) of the server's processes.
tree_rss_kb() {
  local t=0 p x
  for p in $(server_pids | tr , ' '); do x="$(status_kb "$p" VmRSS)"; t=$(( t + ${x:-0} )); done
  echo "$t"
}
start_tls_server() {
  LOG_TAG="tls-$MODE"
  start_server "$(bin_of "$1")" "$SRV_CPUS" THREADS="$THREADS_N" SHOCKWAVE_POLLERS="$THREADS_N" || return 1
  local proto
  proto="$(curl -sk -m 2 -o /dev/null -w '%{http_version}' "https://$ADDR/")"
  [ "$proto" = 1.1 ] || warn "$1 answered HTTP/$proto over TLS (ALPN http/1.1 expected)"
}

RAW="$WORK_DIR/tls-$DATE_TAG.csv"
MEM_RAW="$WORK_DIR/tls-mem-$DATE_TAG.csv"
echo "server,scenario,round,count,per_sec,server_us_per_op,server_busy_pct,client_cpu_pct,resumed_pct,tls13_pct,errors,other_pct" >"$RAW"
echo "server,conns_ok,failed,established,base_kb,rss_kb,bytes_per_conn,server_fds" >"$MEM_RAW"

# run_wrk SERVER SCEN ROUND [wrk args]: one wrk run over HTTPS, a CSV row.
run_wrk() {
  local server="$1" scen="$2" round="$3"; shift 3
  local out="$WORK_DIR/logs/wrk-tls-$MODE-$server-$scen-$round.txt" t0 t1 h0 h1 w0 w1
  t0="$(tree_ticks "$SERVER_PID")"; h0="$(host_cpu)"; w0="$(child_ticks $$)"
  timeout -k 5 $(( DURATION + 60 )) "${PIN[@]}" wrk -t"$WRK_T" -c64 -d"${DURATION}s" --timeout 5s "$@" \
    "https://$ADDR/" >"$out" 2>&1 </dev/null || warn "wrk failed ($server $scen)"
  t1="$(tree_ticks "$SERVER_PID")"; h1="$(host_cpu)"; w1="$(child_ticks $$)"
  local reqs rps non2xx errs
  reqs="$(awk '/requests in/ {print $1; exit}' "$out")"
  rps="$(awk '/^Requests\/sec:/ {print $2; exit}' "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$out")"
  errs="$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; exit}' "$out")"
  awk -v s="$server" -v sc="$scen" -v r="$round" -v n="${reqs:-0}" -v rps="${rps:-}" -v t=$(( t1 - t0 )) \
      -v w=$(( w1 - w0 )) -v hz="$CLK_TCK" -v d="$DURATION" -v e=$(( ${errs:-0} + ${non2xx:-0} )) \
      -v o="$(other_pct "$h0" "$h1" $(( t1 - t0 )) $(( w1 - w0 )))" 'BEGIN {
    us = n > 0 ? sprintf("%.2f", t / hz / n * 1e6) : ""
    printf "%s,%s,%s,%s,%s,%s,%.0f,%.0f,,,%d,%s\n", s, sc, r, n, rps, us, t / hz / d * 100, w / hz / d * 100, e, o}' >>"$RAW"
}

# run_hs SERVER SCEN ROUND [tlsload flags]: one tlsload handshake run, a CSV row.
run_hs() {
  local server="$1" scen="$2" round="$3"; shift 3
  local out="$WORK_DIR/logs/tlsload-$MODE-$server-$scen-$round.json" h0 h1
  h0="$(host_cpu)"
  timeout -k 5 $(( DURATION + 60 )) "${PIN[@]}" "$TLSLOAD" close -c "$HS_CONNS" -d "$DURATION" -w 1 \
    -pids "$(server_pids)" "$@" "$ADDR" >"$out" 2>"$out.err" </dev/null || warn "tlsload failed ($server $scen)"
  h1="$(host_cpu)"
  python3 - "$out" "$server" "$scen" "$round" "$CLK_TCK" "$h0" "$h1" >>"$RAW" <<'PY' || warn "no tlsload result ($server $scen)"
import json, sys
out, server, scen, rnd, hz, h0, h1 = sys.argv[1:]
r = json.load(open(out))
hz, n, secs = int(hz), r["handshakes"], r["secs"]
st = r.get("server_ticks", 0)
b0, t0 = map(int, h0.split()); b1, t1 = map(int, h1.split())
# Other load: host busy jiffies minus server and tlsload (tlsload's warm-up included: upper bound).
other = max(0.0, (b1 - b0 - st - r["client_cpu_secs"] * hz) / (t1 - t0) * 100) if t1 > t0 else 0
us = f"{st / hz / n * 1e6:.1f}" if n else ""
pct = lambda k: f"{r[k] / n * 100:.1f}" if n else ""
print(f'{server},{scen},{rnd},{n},{r["per_sec"]:.1f},{us},{st / hz / secs * 100:.0f},'
      f'{r["client_cpu_secs"] / secs * 100:.0f},{pct("resumed")},{pct("tls13")},{r["errors"]},{other:.0f}')
if r.get("first_error"):
    print(f'[bench-tls] {server} {scen}: {r["errors"]} errors, first: {r["first_error"]}', file=sys.stderr)
PY
}

run_scenario() {
  case "$2" in
    ka) run_wrk "$@" ;;
    wrkclose) run_wrk "$@" -H "Connection: close" ;;
    full) run_hs "$@" ;;
    resumed) run_hs "$@" -resume ;;
    full12) run_hs "$@" -tls12 ;;
    resumed12) run_hs "$@" -tls12 -resume ;;
  esac
  log "$(tail -1 "$RAW")"
}

# ------------------------------------------------------------------ resumption check
# Each load generator against nginx with `$ssl_session_reused` logged: the server's own word on
# how many of the handshakes were resumed (the runs themselves count Go's DidResume).
VERIFY_MD="$WORK_DIR/tls-verify-$DATE_TAG.md"
: >"$VERIFY_MD"
verify_one() {
  local what="$1"; shift
  : >"$TLS_DIR/reuse.log"
  timeout 30 "$@" >/dev/null 2>&1 </dev/null || warn "resumption check: '$what' failed"
  sleep 0.2
  awk -v w="$what" '{n++; if ($2 == "r") r++; p[$1]++} END {s = ""; for (k in p) s = s k " " p[k] " ";
    printf "| %s | %d | %d | %.1f | %s|\n", w, n, r, n ? r / n * 100 : 0, s}' "$TLS_DIR/reuse.log" >>"$VERIFY_MD"
}
if [[ " $SERVERS " == *" nginx "* ]]; then
  start_server "$TLS_DIR/nginx-verify-tls" "" || die "nginx (resumption check) did not start"
  verify_one "tlsload close (full)" "$TLSLOAD" close -c 4 -d 1 -w 0 "$ADDR"
  verify_one "tlsload close -resume" "$TLSLOAD" close -c 4 -d 1 -w 0 -resume "$ADDR"
  verify_one "tlsload close -resume -tls12" "$TLSLOAD" close -c 4 -d 1 -w 0 -resume -tls12 "$ADDR"
  verify_one "wrk -c4 -H 'Connection: close'" wrk -t1 -c4 -d1s -H "Connection: close" "https://$ADDR/"
  verify_one "wrk -c4 (keep-alive)" wrk -t1 -c4 -d1s "https://$ADDR/"
  stop_server
  cat "$VERIFY_MD" >&2
fi

# ------------------------------------------------------------------ throughput and handshakes
RUN_SCENS="$(tr ' ' '\n' <<<"$SCENARIOS" | { grep -vx mem || true; } | tr '\n' ' ')"
for server in $SERVERS; do
  [ -n "${RUN_SCENS// /}" ] || break
  start_tls_server "$server" || die "$server did not start"
  timeout 60 "${PIN[@]}" wrk -t"$WRK_T" -c64 -d"${WARMUP}s" "https://$ADDR/" >/dev/null 2>&1 || warn "warm-up failed"
  for round in $(seq "$ROUNDS"); do
    for scen in $RUN_SCENS; do
      run_scenario "$server" "$scen" "$round"
      kill -0 "$SERVER_PID" 2>/dev/null || die "$server died during $scen; log: $SERVER_LOG"
      sleep 1
    done
  done
  stop_server
done

# ------------------------------------------------------------------ memory
if [[ " $SCENARIOS " == *" mem "* ]]; then
  for server in $SERVERS; do
    start_tls_server "$server" || die "$server did not start"
    sleep 1
    base_kb="$(tree_rss_kb)"
    out="$WORK_DIR/logs/tlsload-idle-$server.out"
    "$TLSLOAD" idle -hold 600 -p 8 "$ADDR" "$MEM_CONNS" >"$out" 2>"$out.err" </dev/null &
    IDLE_PID=$!
    ready="$(wait_ready "$out" 180)" # up to 180 s for the handshakes and answers
    if [ -z "$ready" ]; then
      warn "$server: tlsload idle did not finish; stderr tail:"; tail -3 "$out.err" >&2 || true
      echo "$server,0,,,$base_kb,,," >>"$MEM_RAW"
    else
      read -r _ ok failed <<<"$ready"
      sleep "$SETTLE"
      rss_kb="$(tree_rss_kb)"
      fds=0
      for p in $(server_pids | tr , ' '); do
        fds=$(( fds + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) ))
      done
      # Divide by the connections the server still holds (an idle timeout may have closed some).
      est="$(ss -Htn state established "sport = :$PORT" 2>/dev/null | wc -l)"
      [ "$est" -lt "$ok" ] && warn "$server: only $est of $ok answered connections still established"
      n=$(( est < ok ? est : ok ))
      per="$(awk -v r="$rss_kb" -v b="$base_kb" -v n="$n" 'BEGIN {if (n > 0) printf "%.0f", (r - b) * 1024 / n}')"
      echo "$server,$ok,$failed,$est,$base_kb,$rss_kb,$per,$fds" >>"$MEM_RAW"
      log "$server: baseline $base_kb kB, with $n idle TLS conns $rss_kb kB -> $per B/conn ($failed failed, established $est, fds $fds)"
    fi
    stop_idle
    stop_server
  done
fi

# ------------------------------------------------------------------ report
NAME="tls"
[ "$MODE" = shared ] && NAME="tls-shared"
MD="$RESULTS_DIR/$NAME-$DATE_TAG.md"
if [ "$MODE" = pinned ]; then
  placement="pinned: server on CPU $SERVER_CPU with one thread (Shockwave SHOCKWAVE_POLLERS=1${SHOCKWAVE_WORKERS:+, SHOCKWAVE_WORKERS=$SHOCKWAVE_WORKERS}; nginx worker_processes 1; hyper current_thread runtime), load tool on CPU $CLIENT_CPU (\`wrk -t1\`; tlsload with GOMAXPROCS = 1 CPU)"
else
  placement="shared: nothing pinned, two threads each (SHOCKWAVE_POLLERS=2, worker_processes 2, hyper THREADS=2), \`wrk -t2\`, tlsload on both CPUs"
fi
{
  echo "# TLS — Shockwave (\`examples/tls\`) vs nginx (OpenSSL) vs hyper + tokio-rustls"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Kernel: $(uname -r); CPU: $(cpu_model) ($(nproc) CPUs online)"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $(git_rev); nginx: $(nginx -v 2>&1 | sed 's/.*: //') with $(openssl version | awk '{print $1, $2}'); hyper $(crate_version hyper), tokio-rustls $(crate_version tokio-rustls), rustls $(crate_version rustls) (ring); tlsload: $(go version | awk '{print $3}') crypto/tls"
  echo "- Certificate: self-signed ECDSA P-256 (made for this run), the same files for every server; nginx: \`ssl_session_tickets on\`, \`ssl_session_cache shared:SSL:10m\`, access_log off"
  echo "- Placement: $placement; ${DURATION} s per run, $ROUNDS rounds, medians"
  echo "- ka = \`wrk -c64\` keep-alive over HTTPS (req/s, server CPU µs per request). full / resumed = tlsload (Go crypto/tls), $HS_CONNS connections looping connect + handshake + \`GET /\` with \`Connection: close\`; full: no session cache; resumed: a session cache per connection, resumption counted from \`ConnectionState().DidResume\` (\"resumed %\"). TLS 1.3 (X25519, psk_dhe_ke when resumed) unless *12 (TLS 1.2, ECDHE-ECDSA; resumed12 = abbreviated handshake from a ticket). wrkclose = \`wrk -H 'Connection: close'\`, which resumes its OpenSSL session on each reconnect (checked once against nginx's \`\$ssl_session_reused\`)."
  echo "- server CPU µs/op = server utime+stime per request or handshake; capacity/s = 10⁶ / CPU µs per op, the rate one fully busy server CPU would sustain (the fair comparison when the load tool, not the server, sets the pace); busy % = server CPU as % of one CPU (pinned: well under 100 means the load tool set the pace); client % = the load tool's CPU, % of one CPU; other load = CPU used by other processes, % of all CPUs (the host is shared: high values mean disturbed rounds)."
  echo
  python3 - "$RAW" "$MEM_RAW" "$MEM_CONNS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mem = list(csv.DictReader(open(sys.argv[2])))
med = lambda xs: statistics.median(xs) if xs else None
order = ["ka", "full", "resumed", "full12", "resumed12", "wrkclose"]
scens = [s for s in order if any(r["scenario"] == s for r in rows)]
servers = []
for r in rows + mem:
    if r["server"] not in servers:
        servers.append(r["server"])
def stat(scen, server, field):
    return med([float(r[field]) for r in rows if r["scenario"] == scen and r["server"] == server and r[field]])
fmt = lambda v, f="{:,.0f}": "—" if v is None else f.format(v)
ratio = lambda a, b: "—" if a is None or not b else f"{a / b:.2f}"
if scens:
    unit = lambda s: "req/s" if s == "ka" or s == "wrkclose" else "handshakes/s"
    print("| scenario | server | rate (median) | server CPU µs/op | capacity/s of 1 CPU | busy % | client % | resumed % | TLS 1.3 % | rate / nginx | rate / hyper | CPU / nginx | CPU / hyper | rounds (rate) | other load % | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
    for scen in scens:
        for server in servers:
            mine = [r for r in rows if r["scenario"] == scen and r["server"] == server]
            if not mine:
                continue
            rate, cpu = stat(scen, server, "per_sec"), stat(scen, server, "server_us_per_op")
            cells = [f"{scen} ({unit(scen)})", server, fmt(rate), fmt(cpu, "{:.1f}"), fmt(1e6 / cpu if cpu else None),
                     fmt(stat(scen, server, "server_busy_pct")), fmt(stat(scen, server, "client_cpu_pct")),
                     fmt(stat(scen, server, "resumed_pct"), "{:.1f}"), fmt(stat(scen, server, "tls13_pct"), "{:.0f}")]
            for peer in ("nginx", "hyper"):
                cells.append(ratio(rate, stat(scen, peer, "per_sec")) if peer != server else "")
            for peer in ("nginx", "hyper"):
                cells.append(ratio(cpu, stat(scen, peer, "server_us_per_op")) if peer != server else "")
            cells.append(" / ".join(f'{float(r["per_sec"] or 0):.0f}' for r in mine))
            cells.append(" / ".join(r["other_pct"] or "?" for r in mine))
            cells.append(str(sum(int(r["errors"] or 0) for r in mine)))
            print("| " + " | ".join(cells) + " |")
    print()
if mem:
    print(f"Memory: {sys.argv[3]} idle TLS keep-alive connections (TLS 1.3, one `GET /` answered on each), RSS of the server's processes (nginx: master + worker)")
    print()
    print("| server | baseline RSS | RSS with the idle conns | bytes / idle conn | vs nginx | vs hyper | connections (answered; still established) | server fds |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    per = {r["server"]: float(r["bytes_per_conn"]) for r in mem if r["bytes_per_conn"]}
    for r in mem:
        mib = lambda k: f"{int(k) / 1024:.1f} MiB" if k else "—"
        b = per.get(r["server"])
        cells = [r["server"], mib(r["base_kb"]), mib(r["rss_kb"]), f"**{b:,.0f}**" if b is not None else "—",
                 ratio(b, per.get("nginx")) if r["server"] != "nginx" else "",
                 ratio(b, per.get("hyper")) if r["server"] != "hyper" else "",
                 f'{r["conns_ok"]} ok, {r["failed"] or "?"} failed; {r["established"] or "?"}', r["server_fds"] or "—"]
        print("| " + " | ".join(cells) + " |")
    print()
# The targets of the TLS issue, for Shockwave.
if "shockwave" in servers:
    print("Targets (Shockwave):")
    print()
    def check(name, val, limit, ok):
        if val is None or limit is None:
            print(f"- {name}: not measured")
        else:
            print(f"- {name}: {val:.2f} (target {limit}) — {'met' if ok(val) else 'NOT met'}")
    c, n, h = (stat("ka", s, "server_us_per_op") for s in ("shockwave", "nginx", "hyper"))
    check("ka CPU/request vs nginx", c / n if c and n else None, "≤ 1.0", lambda v: v <= 1.0)
    check("ka CPU/request vs hyper", c / h if c and h else None, "≤ 0.9", lambda v: v <= 0.9)
    for scen in ("full", "resumed", "full12", "resumed12", "wrkclose"):
        a, b = stat(scen, "shockwave", "per_sec"), stat(scen, "nginx", "per_sec")
        check(f"{scen} handshakes/s vs nginx (measured)", a / b if a and b else None, "≥ 1.0", lambda v: v >= 1.0)
        a, b = stat(scen, "shockwave", "server_us_per_op"), stat(scen, "nginx", "server_us_per_op")
        check(f"{scen} handshakes/s vs nginx (capacity of 1 CPU, from CPU per handshake)", b / a if a and b else None, "≥ 1.0", lambda v: v >= 1.0)
    print()
PY
  if [ -s "$VERIFY_MD" ]; then
    echo "Resumption check: each load tool for 1 s against nginx logging \`\$ssl_protocol \$ssl_session_reused\` per request (\"r\" = the TLS session was resumed; a run's first handshake on each connection is a full one)."
    echo
    echo "| load tool | requests | on resumed sessions | % | protocols |"
    echo "|---|--:|--:|--:|---|"
    cat "$VERIFY_MD"
    echo
  fi
  echo "Raw rows: \`target/bench-peers/tls-$DATE_TAG.csv\`, \`target/bench-peers/tls-mem-$DATE_TAG.csv\`"
} >"$MD"
cp "$MD" "$RESULTS_DIR/$NAME-latest.md"
cat "$MD"
log "wrote $MD (and $NAME-latest.md)"
