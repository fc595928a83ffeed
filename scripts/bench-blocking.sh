#!/usr/bin/env bash
# Blocking handlers: throughput when every request waits 50 ms in its handler (as one waiting
# on a database does), and the latency of a quick route meanwhile. Measures Shockwave with its
# default configuration (an elastic pool), Shockwave with a fixed pool of 256 workers, and
# fasthttp with a time.Sleep handler, in turns within each round, the order reversed every
# other round; the summary gives medians over rounds.
#   wrk -t2 -c200 /sleep (each request sleeps SLEEP_MS)  +  wrk -t1 -c1 --latency /fast
# Unpinned and in each server's default configuration (the load is not CPU-bound: the
# handlers wait), except the fixed pool of the second row.
# usage: scripts/bench-blocking.sh [EXTRA_BINARY...]   (another hello build, e.g. an old one,
#        run with its defaults as an extra row)
# env: ROUNDS (3), DURATION (10s), SLEEP_MS (50), CONNS (200), NO_BUILD, ADDR (127.0.0.1:8080)
set -euo pipefail
BENCH_TAG=bench-blocking
. "$(dirname "$0")/bench-lib.sh"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
SLEEP_MS="${SLEEP_MS:-50}"
CONNS="${CONNS:-200}"
secs="$(duration_secs "$DURATION")"
ensure_tools
SERVERS="shockwave fasthttp"
prepare_servers SERVERS
trap stop_server EXIT
mkdir -p "$WORK_DIR/logs" "$RESULTS_DIR"

# ROW NAME: the server and environment of each row
rows=("shockwave (default: elastic pool)" "shockwave workers(256)" "fasthttp (time.Sleep)")
for b in "$@"; do rows+=("$b"); done
start_row() {
  case "$1" in
    "shockwave (default: elastic pool)") start_server shockwave "" SHOCKWAVE_SLEEP_MS="$SLEEP_MS" ;;
    "shockwave workers(256)") start_server shockwave "" SHOCKWAVE_SLEEP_MS="$SLEEP_MS" SHOCKWAVE_WORKERS=256 ;;
    "fasthttp (time.Sleep)") start_server fasthttp "" SLEEP_MS="$SLEEP_MS" THREADS="$(nproc)" ;;
    *) start_server "$1" "" SHOCKWAVE_SLEEP_MS="$SLEEP_MS" ;;
  esac
}

OUT="$WORK_DIR/logs/blocking"
ROWS="$(mktemp)"
for r in $(seq "$ROUNDS"); do
  order=("${rows[@]}")
  (( r % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "${rows[@]}" | tac)
  for row in "${order[@]}"; do
    start_row "$row" || die "$row did not start"
    timeout 20 wrk -t2 -c"$CONNS" -d2s --timeout 5s "http://$ADDR/sleep" >/dev/null 2>&1 || true # warm-up
    timeout -k 5 $(( secs + 30 )) wrk -t1 -c1 -d"$DURATION" --latency "http://$ADDR/fast" >"$OUT.fast" 2>&1 &
    probe=$!
    timeout -k 5 $(( secs + 30 )) wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s "http://$ADDR/sleep" >"$OUT.sleep" 2>&1 \
      || die "$row: wrk failed: $(tail -2 "$OUT.sleep")"
    wait "$probe" || true
    stop_server
    rps="$(awk '/^Requests\/sec/ {print $2}' "$OUT.sleep")"
    errs="$(awk '/Socket errors|Non-2xx/ {printf "%s ", $0}' "$OUT.sleep")"
    p50="$(awk '$1 == "50%" {print $2}' "$OUT.fast")"
    p99="$(awk '$1 == "99%" {print $2}' "$OUT.fast")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$row" "$rps" "$p50" "$p99" "${errs:-none}" | tee -a "$ROWS" >&2
  done
done

STAMP="$(date -u +%Y-%m-%d-%H%M)"
REPORT="$RESULTS_DIR/blocking-$STAMP.md"
python3 - "$ROWS" "$SLEEP_MS" "$CONNS" "$DURATION" "$ROUNDS" "$(git_rev)" "$(command_line bench-blocking.sh ROUNDS DURATION SLEEP_MS CONNS)" >"$REPORT" <<'PY'
import sys, statistics, collections
rows, sleep, conns, dur, rounds, rev, cmd = sys.argv[1:]
def ms(v):
    if v.endswith("us"): return float(v[:-2]) / 1000
    if v.endswith("ms"): return float(v[:-2])
    if v.endswith("s"): return float(v[:-1]) * 1000
    return float("nan")
by = collections.defaultdict(list)
for line in open(rows):
    r, name, rps, p50, p99, errs = line.rstrip("\n").split("\t")
    by[name].append((float(rps), ms(p50), ms(p99), errs))
ref = statistics.median(x[0] for x in by["shockwave workers(256)"])
print(f"# Blocking handlers ({sleep} ms each), {conns} connections — {rev}\n")
print(f"`{cmd}`: {rounds} rounds of {dur}, unpinned, default configurations; medians over rounds.")
print(f"The ceiling is {conns} / {sleep} ms = {int(conns) * 1000 // int(sleep)} req/s.\n")
print("| server | /sleep req/s | ÷ workers(256) | /fast p50 ms | /fast p99 ms | per round req/s | errors |")
print("|---|--:|--:|--:|--:|---|---|")
for name, v in by.items():
    rps = statistics.median(x[0] for x in v)
    print(f"| {name} | {rps:.0f} | {rps / ref:.2f} | {statistics.median(x[1] for x in v):.2f} | "
          f"{statistics.median(x[2] for x in v):.2f} | {', '.join(f'{x[0]:.0f}' for x in v)} | "
          f"{'; '.join(sorted(set(x[3] for x in v)))} |")
PY
cp "$REPORT" "$RESULTS_DIR/blocking-latest.md"
cat "$REPORT"
