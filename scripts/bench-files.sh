#!/usr/bin/env bash
# Static files: Shockwave's examples/files (shockwave::fs::Dir, sendfile) against nginx with
# `sendfile on`, both serving the same directory, pinned: the server on SERVER_CPU with one
# poller / `worker_processes 1`, `wrk -t1 -c64` (keep-alive) on CLIENT_CPU. The servers take
# turns round by round (each started afresh and warmed up), so a change in the shared host's
# load between rounds falls on both rather than on one server's whole series.
#
#   1m  GET of a 1 MiB file: throughput (MB/s of responses, from wrk's Transfer/sec)
#   4k  GET of a 4 KiB file: requests per second
#
# Both are also given as server CPU time per request (utime+stime of the server's processes
# from /proc, nginx's master and worker together), which does not depend on wrk's limits.
#
# Environment knobs (all optional):
#   SERVERS     default: shockwave nginx
#   SCENARIOS   default: 1m 4k
#   ROUNDS      rounds of every scenario per server (default 3; the report gives medians)
#   DURATION    wrk duration per run (default 5s), after a WARMUP (default 1s) per server and round
#   ADDR        listen address (default 127.0.0.1:8080)
#   SERVER_CPU / CLIENT_CPU  (default 0 / 1)
#   NO_BUILD=1  use the already built example
#   DATE_TAG    file name tag of the results (default: YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/files-<tag>.md (copied to files-latest.md),
# raw rows in target/bench-peers/files-<tag>.csv.
set -euo pipefail
BENCH_TAG=bench-files
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-files.sh SERVERS SCENARIOS ROUNDS DURATION WARMUP ADDR SERVER_CPU CLIENT_CPU NO_BUILD)${*:+ $*}"
cd "$ROOT"
export PATH="$PATH:/usr/sbin:/sbin" # nginx lives in sbin
SERVERS="${SERVERS:-shockwave nginx}"
SCENARIOS="${SCENARIOS:-1m 4k}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
CLK_TCK="$(getconf CLK_TCK)"
FILES_DIR="$WORK_DIR/files"
DOCS="$FILES_DIR/root"
FILES_BUILT="$ROOT/target/release/examples/files"
FILES_BIN="$FILES_DIR/shockwave-files"

trap_cleanup
ensure_tools
command -v nginx >/dev/null || [[ " $SERVERS " != *" nginx "* ]] || die "nginx not found (apt-get install nginx-light)"
port_busy && die "port $PORT is already in use; stop whatever listens there first"
mkdir -p "$DOCS" "$RESULTS_DIR"
head -c $((1 << 20)) /dev/urandom >"$DOCS/1m.bin"
head -c 4096 /dev/urandom >"$DOCS/4k.bin"
printf 'Hello, World!' >"$DOCS/hello.txt"

if [ -z "${NO_BUILD:-}" ]; then
  log "building shockwave (cargo build --release --example files --features fs)"
  timeout "$BUILD_TIMEOUT" cargo build --release --example files --features fs --quiet || die "examples/files did not build"
fi
[ -x "$FILES_BUILT" ] || die "no $FILES_BUILT (run without NO_BUILD)"
cp -f "$FILES_BUILT" "$FILES_DIR/files-bin"
# start_server runs `BIN ADDR`: small launchers that exec the real servers (same pid)
cat >"$FILES_BIN" <<EOF
#!/bin/sh
ADDR="\$1" exec "$FILES_DIR/files-bin" "$DOCS"
EOF
user=""
[ "$(id -u)" -eq 0 ] && user="user root $(id -gn);"
cat >"$FILES_DIR/nginx.conf" <<EOF
$user
worker_processes 1;
pid $FILES_DIR/nginx.pid;
error_log $FILES_DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { application/octet-stream bin; text/plain txt; }
    client_body_temp_path $FILES_DIR/client_body_temp;
    proxy_temp_path $FILES_DIR/proxy_temp;
    fastcgi_temp_path $FILES_DIR/fastcgi_temp;
    uwsgi_temp_path $FILES_DIR/uwsgi_temp;
    scgi_temp_path $FILES_DIR/scgi_temp;
    server {
        listen $ADDR;
        root $DOCS;
    }
}
EOF
cat >"$FILES_DIR/nginx-run" <<EOF
#!/bin/sh
exec nginx -p "$FILES_DIR" -e "$FILES_DIR/nginx-error.log" -c "$FILES_DIR/nginx.conf" -g 'daemon off;'
EOF
chmod +x "$FILES_BIN" "$FILES_DIR/nginx-run"

bin_of() { case "$1" in shockwave) echo "$FILES_BIN" ;; nginx) echo "$FILES_DIR/nginx-run" ;; *) die "unknown server $1" ;; esac; }
path_of() { case "$1" in 1m) echo /1m.bin ;; 4k) echo /4k.bin ;; *) die "unknown scenario $1" ;; esac; }

# wrk's "Transfer/sec: 1.23GB" in MB/s (10^6 bytes).
transfer_mb() {
  awk '/^Transfer\/sec:/ {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v);
       m = (u=="GB") ? 1073741824 : (u=="MB") ? 1048576 : (u=="KB") ? 1024 : 1; printf "%.1f", v*m/1e6; exit}' "$1"
}

RAW="$WORK_DIR/files-$DATE_TAG.csv"
echo "server,scenario,round,requests,req_per_s,mb_per_s,non2xx,errors,cpu_us_per_req,other_cpu_pct" >"$RAW"
SERVER_READY_PATH="/hello.txt"
SERVER_CHECK_PATH="/hello.txt"
SERVER_CHECK_BODY="Hello, World!"
for round in $(seq "$ROUNDS"); do
  for server in $SERVERS; do
    LOG_TAG=files
    start_server "$(bin_of "$server")" "$SERVER_CPU" SHOCKWAVE_POLLERS=1 || die "$server did not start"
    for f in 1m.bin 4k.bin; do
      curl -s -o "$FILES_DIR/check" "http://$ADDR/$f" && cmp -s "$FILES_DIR/check" "$DOCS/$f" || die "$server served $f wrong"
    done
    timeout 60 taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$WARMUP" "http://$ADDR/4k.bin" >/dev/null 2>&1 || warn "warm-up failed"
    for scen in $SCENARIOS; do
      out="$WORK_DIR/logs/wrk-files-$server-$scen-$round.txt"
      t0="$(tree_ticks "$SERVER_PID")"; h0="$(host_cpu)"; w0="$(child_ticks $$)"
      timeout -k 5 120 taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$DURATION" --timeout 5s \
        "http://$ADDR$(path_of "$scen")" >"$out" 2>&1 </dev/null || warn "wrk failed ($server $scen)"
      t1="$(tree_ticks "$SERVER_PID")"; h1="$(host_cpu)"; w1="$(child_ticks $$)"
      # CPU used meanwhile by anything but the server and wrk, as % of all CPUs
      other="$(other_pct "$h0" "$h1" $(( t1 - t0 )) $(( w1 - w0 )))"
      reqs="$(awk '/requests in/ {print $1; exit}' "$out")"
      rps="$(awk '/^Requests\/sec:/ {print $2; exit}' "$out")"
      mbs="$(transfer_mb "$out")"
      non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$out")"
      errs="$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; exit}' "$out")"
      cpu="$(awk -v t=$(( t1 - t0 )) -v hz="$CLK_TCK" -v n="${reqs:-0}" 'BEGIN {if (n > 0) printf "%.2f", t / hz / n * 1e6}')"
      echo "$server,$scen,$round,${reqs:-},${rps:-},${mbs:-},${non2xx:-0},${errs:-0},${cpu:-},${other:-}" >>"$RAW"
      log "$server $scen round $round: ${rps:-?} req/s, ${mbs:-?} MB/s, ${cpu:-?} us CPU/req, non-2xx ${non2xx:-0}, errors ${errs:-0}, other load ${other:-?}%"
      sleep 1
    done
    stop_server
  done
done

MD="$RESULTS_DIR/files-$DATE_TAG.md"
{
  echo "# Static files — Shockwave (\`shockwave::fs::Dir\`, sendfile) vs nginx (\`sendfile on\`)"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Kernel: $(uname -r); CPU: $(cpu_model) ($(nproc) CPUs online)"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $(git_rev); nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "- Pinned: server on CPU $SERVER_CPU (Shockwave SHOCKWAVE_POLLERS=1; nginx worker_processes 1, access_log off, tcp_nopush on), \`wrk -t1 -c64\` keep-alive on CPU $CLIENT_CPU, $DURATION per run after a $WARMUP warm-up, $ROUNDS rounds, medians"
  echo "- 1m = a 1 MiB file (throughput, MB/s of responses); 4k = a 4 KiB file (req/s). Same-round ratio = median over rounds of req/s over nginx's in the same round (the servers alternate round by round). CPU/req = server utime+stime per request (nginx: master + worker). Other load = CPU used during a run by processes other than the server and wrk, % of all CPUs (the host is shared: high values mean disturbed rounds)."
  echo
  python3 - "$RAW" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = lambda xs: statistics.median(xs) if xs else float("nan")
keys = []
for r in rows:
    if (r["scenario"], r["server"]) not in keys:
        keys.append((r["scenario"], r["server"]))
def stat(scen, server, field):
    return med([float(r[field]) for r in rows if r["scenario"] == scen and r["server"] == server and r[field]])
def paired(scen, server):
    # the median over rounds of this server's req/s over nginx's in the same round
    by = lambda s: {r["round"]: float(r["req_per_s"]) for r in rows if r["scenario"] == scen and r["server"] == s and r["req_per_s"]}
    mine, ng = by(server), by("nginx")
    return med([mine[k] / ng[k] for k in mine if k in ng and ng[k] > 0])
print("| scenario | server | req/s | MB/s | CPU µs/req | vs nginx (req/s) | same-round ratio | vs nginx (CPU) | rounds (req/s) | other load % | non-2xx / errors |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|")
for scen, server in keys:
    rps, mbs, cpu = (stat(scen, server, f) for f in ("req_per_s", "mb_per_s", "cpu_us_per_req"))
    n_rps, n_cpu = stat(scen, "nginx", "req_per_s"), stat(scen, "nginx", "cpu_us_per_req")
    mine = [r for r in rows if r["scenario"] == scen and r["server"] == server]
    rounds = " / ".join(f'{float(r["req_per_s"] or 0):.0f}' for r in mine)
    bad = sum(int(r["non2xx"] or 0) + int(r["errors"] or 0) for r in mine)
    other = " / ".join(r["other_cpu_pct"] or "?" for r in mine)
    print(f"| {scen} | {server} | {rps:,.0f} | {mbs:,.1f} | {cpu:.2f} | {rps / n_rps:.2f} | {paired(scen, server):.2f} | {cpu / n_cpu:.2f} | {rounds} | {other} | {bad} |")
PY
  echo
  echo "Raw rows: \`target/bench-peers/files-$DATE_TAG.csv\`"
} >"$MD"
cp "$MD" "$RESULTS_DIR/files-latest.md"
cat "$MD"
log "wrote $MD (and files-latest.md)"
