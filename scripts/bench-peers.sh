#!/usr/bin/env bash
# Peer comparison: Shockwave vs fasthttp, hyper, actix-web, may_minihttp,
# tiny_http, astra and the "floor" server (epoll + read + write, no HTTP),
# all serving plaintext "Hello, World!" on the same port, one after another.
#
# Environment knobs (all optional):
#   SERVERS     servers, in run order   (default: shockwave fasthttp hyper actix may_minihttp tiny_http astra floor)
#   SCENARIOS   ka64 ka256 pipe16 close64 (default: all four)
#   PLACEMENTS  pinned shared            (default: both)
#   DURATION    wrk duration per run      (default: 5s)
#   WARMUP      untimed ka64 run before each server's scenarios (default: 1s; 0 = none)
#   PAUSE       seconds to sleep between runs (default: 1)
#   RETRY_NOISY re-runs of a scenario when other processes used >= 5% of the
#               host CPU during it (default: 2; the last attempt is kept)
#   ADDR        listen address            (default: 127.0.0.1:8080)
#   SERVER_CPU / CLIENT_CPU  CPUs for the pinned placement (default: 0 / 1)
#   SHOCKWAVE_WORKERS  passed through to shockwave when set (otherwise its default)
#   NO_BUILD=1  skip the builds (use binaries already built)
#   DATE_TAG    file name tag of the results (default: YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/peers-<tag>.md, plus
# peers-<tag>.csv and peers-<tag>.svg, copied to peers-latest.{md,csv,svg}.
set -euo pipefail

BENCH_TAG=bench-peers
# The exact command, for the report: every knob that the caller set.

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-peers.sh SERVERS SCENARIOS PLACEMENTS DURATION WARMUP PAUSE RETRY_NOISY ADDR SERVER_CPU CLIENT_CPU SHOCKWAVE_WORKERS NO_BUILD)${*:+ $*}"
cd "$ROOT"

SERVERS="${SERVERS:-shockwave fasthttp hyper actix may_minihttp tiny_http astra floor}"
SCENARIOS="${SCENARIOS:-ka64 ka256 pipe16 close64}"
PLACEMENTS="${PLACEMENTS:-pinned shared}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
PAUSE="${PAUSE:-1}"
RETRY_NOISY="${RETRY_NOISY:-2}"
NOISY_PCT=5
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
DUR_S="$(duration_secs "$DURATION")"
CLK_TCK="$(getconf CLK_TCK)"

for s in $SERVERS; do server_bin "$s" >/dev/null || die "unknown server '$s'"; done
for s in $SCENARIOS; do
  case "$s" in ka64|ka256|pipe16|close64) ;; *) die "unknown scenario '$s'";; esac
done
for p in $PLACEMENTS; do
  case "$p" in pinned|shared) ;; *) die "unknown placement '$p'";; esac
done

trap_cleanup

# ------------------------------------------------------------------ setup
ensure_tools
prepare_servers SERVERS
if [ -n "${NO_BUILD:-}" ] && [[ " $SERVERS " == *" fasthttp "* ]]; then
  ensure_go
fi
port_busy && die "port $PORT is already in use; stop whatever listens there first"

mkdir -p "$RESULTS_DIR" "$WORK_DIR"
RAW="$WORK_DIR/raw-$DATE_TAG.csv"
echo "placement,scenario,server,connections,wrk_threads,duration_s,requests,req_per_s,p99_us,non2xx,err_connect,err_read,err_write,err_timeout,cpu_ticks,cpu_us_per_req,peak_rss_kb,wrk_cpu_pct,other_cpu_pct,status" >"$RAW"

# p99 from wrk's "Latency Distribution" block, converted to microseconds.
wrk_p99_us() {
  awk '/Latency Distribution/ {d=1} d && $1 == "99%" {
         v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         m = (u=="us") ? 1 : (u=="ms") ? 1000 : (u=="s") ? 1e6 : (u=="m") ? 6e7 : 1;
         if (v*m > 0) printf "%.1f", v*m; exit }' "$1"   # wrk prints 0.00us when it has no data
}

# run_wrk PLACEMENT SCENARIO DURATION OUTFILE
run_wrk() {
  local placement="$1" scen="$2" dur="$3" out="$4" conns t pin=() extra=() tail_args=()
  conns="$(scenario_conns "$scen")"
  mapfile -t extra < <(scenario_args "$scen")
  mapfile -t tail_args < <(scenario_tail "$scen")
  if [ "$placement" = pinned ]; then t=1; pin=(taskset -c "$CLIENT_CPU"); else t=2; fi
  local secs; secs="$(duration_secs "$dur")"
  # In the background + wait, so that INT/TERM reach our trap at once.
  timeout -k 5 $(( secs + 30 )) "${pin[@]}" wrk -t"$t" -c"$conns" -d"$dur" --timeout 2s --latency \
    "${extra[@]}" "http://$ADDR/" "${tail_args[@]}" >"$out" 2>&1 </dev/null &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

record_run() { # placement scenario server -> LAST_ROW (one CSV row), LAST_OTHER
  local placement="$1" scen="$2" server="$3"
  local out="$WORK_DIR/logs/wrk-$placement-$scen-$server.txt"
  local conns t0 t1 rc=0 status=ok
  conns="$(scenario_conns "$scen")"
  local wt=1; [ "$placement" = shared ] && wt=2
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true # reset VmHWM to current RSS
  local h0 h1 w0 w1
  h0="$(host_cpu)"; w0="$(child_ticks $$)"
  t0="$(cpu_ticks "$SERVER_PID")"
  run_wrk "$placement" "$scen" "$DURATION" "$out" || rc=$?
  t1="$(cpu_ticks "$SERVER_PID")"
  h1="$(host_cpu)"; w1="$(child_ticks $$)"
  # Interference check: CPU used on the host during the run by anything other
  # than the server and wrk (wrk = children this shell reaped meanwhile), as a
  # % of all CPUs; and wrk's own CPU as a % of one CPU (client saturation).
  local other_pct wrk_pct
  read -r other_pct wrk_pct < <(awk -v a="$h0" -v b="$h1" -v sv=$(( ${t1:-0} - ${t0:-0} )) -v wk=$(( w1 - w0 )) \
    'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; tot = y[2] - x[2];
            ncpu = '"$(nproc)"'; if (tot <= 0) {print "", ""; exit}
            o = (busy - sv - wk) / tot * 100; if (o < 0) o = 0
            printf "%.1f %.1f\n", o, wk / (tot / ncpu) * 100}')
  local hwm; hwm="$(status_kb "$SERVER_PID" VmHWM)"
  local reqs rps p99 non2xx ec er ew et ticks cpu_us
  reqs="$(awk '/requests in/ {print $1; exit}' "$out")"
  rps="$(awk '/^Requests\/sec:/ {print $2; exit}' "$out")"
  p99="$(wrk_p99_us "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$out")"
  read -r ec er ew et < <(awk '/Socket errors:/ {gsub(/,/, ""); print $4, $6, $8, $10; exit}' "$out"; echo)
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then status=server-died
  elif [ "$rc" -ne 0 ] || [ -z "$rps" ]; then status="wrk-failed($rc)"
  elif [ "${reqs:-0}" = 0 ]; then status=no-requests
  elif [ "$scen" = close64 ] && [ "$CLOSE_PROBE" = open ]; then status=ignores-close
  fi
  ticks=""; cpu_us=""
  if [ -n "$t0" ] && [ -n "$t1" ] && [ "${reqs:-0}" != 0 ]; then
    ticks=$(( t1 - t0 ))
    cpu_us="$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN {printf "%.3f", t / hz / n * 1e6}')"
  fi
  LAST_ROW="$placement,$scen,$server,$conns,$wt,$DUR_S,${reqs:-},${rps:-},${p99:-},${non2xx:-0},${ec:-0},${er:-0},${ew:-0},${et:-0},$ticks,$cpu_us,${hwm:-},${wrk_pct:-},${other_pct:-},$status"
  LAST_OTHER="${other_pct:-0}"
  log "$placement $scen $server: ${rps:-?} req/s, p99 ${p99:-?} us, cpu ${cpu_us:-?} us/req, hwm ${hwm:-?} kB, errors c/r/w/t ${ec:-0}/${er:-0}/${ew:-0}/${et:-0}, non-2xx ${non2xx:-0}, wrk cpu ${wrk_pct:-?}%, other load ${other_pct:-?}% [$status]"
  [ "$status" != server-died ]
}

# ------------------------------------------------------------------ runs
log "servers: $SERVERS | scenarios: $SCENARIOS | placements: $PLACEMENTS | duration: $DURATION"
for placement in $PLACEMENTS; do
  for server in $SERVERS; do
    cpus=""; envs=()
    if [ "$placement" = pinned ]; then
      cpus="$SERVER_CPU"; envs=(THREADS=1 SHOCKWAVE_POLLERS=1)
    else
      envs=(THREADS=2 SHOCKWAVE_POLLERS=2)
    fi
    LOG_TAG="$placement"
    if ! start_server "$server" "$cpus" "${envs[@]}"; then
      for scen in $SCENARIOS; do
        echo "$placement,$scen,$server,$(scenario_conns "$scen"),,,,,,,,,,,,,,,,start-failed" >>"$RAW"
      done
      continue
    fi
    CLOSE_PROBE="$(probe_close)"
    [ "$CLOSE_PROBE" = closed ] || warn "$server keeps the connection open after 'Connection: close' ($CLOSE_PROBE)"
    if [ "$WARMUP" != 0 ]; then
      run_wrk "$placement" ka64 "$WARMUP" "$WORK_DIR/logs/wrk-warmup.txt" || warn "warm-up run failed"
      sleep "$PAUSE"
    fi
    for scen in $SCENARIOS; do
      died=""
      for attempt in $(seq 0 "$RETRY_NOISY"); do
        if ! record_run "$placement" "$scen" "$server"; then died=1; break; fi
        # Other processes disturbed this run: try again (up to RETRY_NOISY times).
        awk -v o="$LAST_OTHER" -v m="$NOISY_PCT" 'BEGIN {exit !(o < m)}' && break
        [ "$attempt" -lt "$RETRY_NOISY" ] && warn "other load ${LAST_OTHER}% during $placement $scen $server: running it again"
        sleep "$PAUSE"
      done
      echo "$LAST_ROW" >>"$RAW"
      if [ -n "$died" ]; then
        warn "$server died during $scen; its log ends with:"; tail -5 "$SERVER_LOG" >&2 || true
        break
      fi
      sleep "$PAUSE"
    done
    stop_server
  done
done

# ------------------------------------------------------------------ report
MD="$RESULTS_DIR/peers-$DATE_TAG.md"
CSV="$RESULTS_DIR/peers-$DATE_TAG.csv"
SVG="$RESULTS_DIR/peers-$DATE_TAG.svg"
TABLE="$WORK_DIR/table-$DATE_TAG.md"
python3 "$ROOT/scripts/bench-chart.py" "$RAW" --csv "$CSV" --md "$TABLE" --svg "$SVG" \
  --title "Shockwave vs peers — plaintext, $(date +%Y-%m-%d), $(nproc) CPUs"

{
  echo "# Peer comparison — plaintext \`Hello, World!\`"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Kernel: $(uname -r)"
  echo "- CPU: $(cpu_model) ($(nproc) CPUs online)"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $(git_rev)"
  echo "- wrk: $(wrk --version 2>&1 | head -1 | awk '{print $1, $2}'); duration $DURATION per run (after a ${WARMUP} warm-up per server); CPU per request from /proc/PID/stat utime+stime (CLK_TCK=$CLK_TCK)"
  echo "- Peers: hyper $(crate_version hyper), tokio $(crate_version tokio), actix-web $(crate_version actix-web), may_minihttp $(crate_version may_minihttp) (may $(crate_version may)), tiny_http $(crate_version tiny_http), astra $(crate_version astra), floor = mio $(crate_version mio); fasthttp $(dpkg-query -W -f='${Version}' golang-github-valyala-fasthttp-dev 2>/dev/null || echo '?') with $(go version 2>/dev/null | awk '{print $3}' || echo 'go ?')"
  echo "- Scenarios: ka64 / ka256 = keep-alive with 64 / 256 connections; pipe16 = 16 requests per write (scripts/wrk/pipeline.lua), 64 connections; close64 = \`Connection: close\`, 64 connections"
  echo "- Placements: pinned = server (THREADS=1, SHOCKWAVE_POLLERS=1) on CPU $SERVER_CPU, \`wrk -t1\` on CPU $CLIENT_CPU; shared = no pinning, THREADS=2, SHOCKWAVE_POLLERS=2, \`wrk -t2\`"
  echo "- Ratios: \"vs floor\" / \"vs fasthttp\" = this row ÷ that server in the same scenario and placement (req/s: higher is better; CPU: lower is better). Peak RSS = VmHWM over the run (reset before each run via /proc/PID/clear_refs)."
  echo
  echo "- wrk CPU = wrk's CPU time over the run as % of one CPU (near 100% × wrk threads means the client, not the server, was the limit). other load = CPU used during the run by processes other than the server and wrk, as % of all CPUs; ⚠ marks runs at ≥ 5%, whose numbers are disturbed by other work on the host (such runs are repeated up to RETRY_NOISY=$RETRY_NOISY times; the last attempt is reported)."
  echo "- Status in parentheses: ignores-close = the server kept the connection open after \`Connection: close\` (probed before the runs), so its close64 row measures keep-alive, not connection setup."
  echo "- p99 under pipe16: wrk records one latency sample per 16-request batch and its percentiles there are unreliable (it often prints 0); shown as — when wrk gave 0."
  echo
  cat "$TABLE"
  echo
  echo "Chart: [peers-$DATE_TAG.svg](peers-$DATE_TAG.svg) · raw numbers: [peers-$DATE_TAG.csv](peers-$DATE_TAG.csv)"
} >"$MD"

cp "$MD" "$RESULTS_DIR/peers-latest.md"
cp "$CSV" "$RESULTS_DIR/peers-latest.csv"
cp "$SVG" "$RESULTS_DIR/peers-latest.svg"
# peers-latest.md links the dated chart/CSV; point it at the latest copies instead.
sed -i "s/peers-$DATE_TAG\.\(svg\|csv\)/peers-latest.\1/g" "$RESULTS_DIR/peers-latest.md"

cat "$MD"
log "wrote $MD, $CSV, $SVG (and peers-latest.*)"
