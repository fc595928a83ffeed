#!/usr/bin/env bash
# Alternating A/B: server CPU per request and req/s of two or more servers or builds, measured in
# turns. This VM's noise (±15% from one run to the next) hides a 5% change in any one
# comparison, so every round runs each server once, in turn, the order reversed every other
# round; ratios are taken within a round and the summary gives their medians.
#
# usage: scripts/bench-ab.sh SERVER SERVER...
#   SERVER  a bench-peers.sh name (shockwave, floor, fasthttp, hyper, ...) or the path of a binary
#           that serves hello like examples/hello (address as first argument), e.g. a copy of
#           target/release/examples/hello saved before a change. Ratios are to the first one.
# env: ROUNDS (8), DURATION (4s, after a 1 s warm-up), SCENARIO (as bench-peers.sh's; ka64),
#      SERVER_CPU (0), CLIENT_CPU (1), ADDR (127.0.0.1:8080)
# Placement as bench-peers.sh's "pinned": the server on SERVER_CPU with THREADS=1
# SHOCKWAVE_POLLERS=1, `wrk -t1` on CLIENT_CPU. Builds nothing: peers come from an earlier
# `scripts/bench-peers.sh` (or `cargo build --release` in benches/peers).
set -euo pipefail
BENCH_TAG=bench-ab
. "$(dirname "$0")/bench-lib.sh"

ROUNDS="${ROUNDS:-8}"
DURATION="${DURATION:-4s}"
SCENARIO="${SCENARIO:-ka64}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
CLK_TCK="$(getconf CLK_TCK)"
[ $# -ge 2 ] || die "usage: scripts/bench-ab.sh SERVER SERVER... (see the header)"
for s in "$@"; do
  b="$(server_bin "$s")" || die "unknown server '$s'"
  [ -x "$b" ] || die "$s: no executable at $b"
done
case "$SCENARIO" in ka64|ka256|pipe16|close64) ;; *) die "unknown scenario '$SCENARIO'" ;; esac
CONNS="$(scenario_conns "$SCENARIO")"
mapfile -t extra < <(scenario_args "$SCENARIO")
mapfile -t tail_args < <(scenario_tail "$SCENARIO")
ensure_tools
trap stop_server EXIT
mkdir -p "$WORK_DIR/logs"
OUT="$WORK_DIR/logs/wrk-ab.txt"
secs="$(duration_secs "$DURATION")"

wrk_run() { # DURATION
  timeout -k 5 $(( secs + 30 )) taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$1" --timeout 2s \
    "${extra[@]}" "http://$ADDR/" "${tail_args[@]}" >"$OUT" 2>&1 </dev/null
}

log "servers: $* | scenario: $SCENARIO | $ROUNDS rounds of $DURATION"
ROWS="$(mktemp)"
for r in $(seq "$ROUNDS"); do
  order=("$@")
  (( r % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "$@" | tac)
  for s in "${order[@]}"; do
    start_server "$s" "$SERVER_CPU" THREADS=1 SHOCKWAVE_POLLERS=1 || die "$s did not start"
    wrk_run 1s || warn "$s: warm-up failed"
    t0="$(cpu_ticks "$SERVER_PID")"
    wrk_run "$DURATION" || die "$s: wrk failed: $(tail -2 "$OUT")"
    t1="$(cpu_ticks "$SERVER_PID")"
    reqs="$(awk '/requests in/ {print $1; exit}' "$OUT")"
    [ "${reqs:-0}" -gt 0 ] || die "$s: no requests"
    stop_server
    echo "$r $s $reqs $(( t1 - t0 ))" | tee -a "$ROWS" >&2
  done
done

python3 - "$ROWS" "$CLK_TCK" "$secs" "$@" <<'PY'
import collections, statistics as st, sys
rows, hz, secs, servers = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
cpu, rps = collections.defaultdict(dict), collections.defaultdict(dict)
for line in open(rows):
    r, s, n, ticks = line.split()
    cpu[s][r] = int(ticks) / hz / int(n) * 1e6
    rps[s][r] = int(n) / secs
first = servers[0]
print(f"| server | CPU µs/req (median) | req/s (median) | CPU ratio to {first}: median (each round) |")
print("|---|--:|--:|---|")
for s in servers:
    ratios = [cpu[s][r] / cpu[first][r] for r in sorted(cpu[s], key=int)]
    print(f"| {s} | {st.median(cpu[s].values()):.2f} | {st.median(rps[s].values()):.0f} | "
          f"{st.median(ratios):.3f} ({', '.join(f'{x:.2f}' for x in ratios)}) |")
PY
rm -f "$ROWS"
