#!/usr/bin/env bash
# examples/todo (SQLite through rusqlite, handlers calling the database from the workers) under
# wrk with mixed traffic (scripts/wrk/todo.lua: 80% single reads, 10% list reads, 10% inserts),
# the server in its default configuration (every CPU, the elastic pool), on a fresh database
# seeded with 100 todos. Reports req/s, p50/p99 and every error; fails if any request failed.
# env: DURATION (20s), CONNS (64), THREADS (2), ROUNDS (3), ADDR (127.0.0.1:8080)
set -euo pipefail
BENCH_TAG=bench-todo
. "$(dirname "$0")/bench-lib.sh"
DURATION="${DURATION:-20s}"
CONNS="${CONNS:-64}"
WRK_THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
ensure_tools
log "building examples/todo (release, feature json)"
(cd "$ROOT" && cargo build --release --quiet --features json --example todo)
BIN="$ROOT/target/release/examples/todo"
mkdir -p "$WORK_DIR/logs" "$RESULTS_DIR"
DB="$WORK_DIR/todo-bench.db"
out="$RESULTS_DIR/todo-latest.md"
rows=()
fail=0
for r in $(seq 1 "$ROUNDS"); do
  rm -f "$DB" "$DB-wal" "$DB-shm"
  wait_port_free
  TODO_DB="$DB" TODO_QUIET=1 "$BIN" "$ADDR" >"$WORK_DIR/logs/todo.out" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://$ADDR/todos" && break; sleep 0.1; done
  for i in $(seq 1 100); do
    curl -s -o /dev/null -H 'Content-Type: application/json' -d "{\"title\":\"seed $i\"}" "http://$ADDR/todos"
  done
  workers_before=$(ls /proc/$pid/task | wc -l)
  res=$(TODO_SEEDED=100 timeout 120 wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" -s "$ROOT/scripts/wrk/todo.lua" "http://$ADDR" | grep '^RESULT' || true)
  threads_after=$(ls /proc/$pid/task | wc -l)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "$res" ] || die "round $r: wrk printed no result"
  eval "$(echo "${res#RESULT }" | tr ' ' '\n' | sed 's/^/R_/')"
  rps=$(python3 -c "print(round($R_requests / ($R_duration_us / 1e6)))")
  errs=$((R_non2xx + R_errors_connect + R_errors_read + R_errors_write + R_errors_timeout))
  [ "$errs" -eq 0 ] || fail=1
  log "round $r: $rps req/s, p50 $((R_p50_us)) µs, p99 $((R_p99_us)) µs, errors $errs, threads $workers_before -> $threads_after"
  rows+=("| $r | $rps | $(python3 -c "print(f'{$R_p50_us/1000:.2f}')") | $(python3 -c "print(f'{$R_p99_us/1000:.2f}')") | $(python3 -c "print(f'{$R_max_us/1000:.1f}')") | $R_non2xx | $((R_errors_connect + R_errors_read + R_errors_write + R_errors_timeout)) | $threads_after |")
done
{
  echo "# examples/todo under wrk ($(date -u +%Y-%m-%d), $(nproc) CPUs, shared)"
  echo
  echo "\`scripts/bench-todo.sh\`: default server configuration (pollers = CPUs, 8 workers per CPU growing to 256),"
  echo "one SQLite connection per worker thread (WAL, synchronous=NORMAL), \`wrk -t$WRK_THREADS -c$CONNS -d$DURATION\`,"
  echo "80% \`GET /todos/{id}\`, 10% \`GET /todos?limit=20\`, 10% \`POST /todos\`; a fresh database of 100 todos each round."
  echo
  echo "| round | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors | server threads at the end |"
  echo "|--:|--:|--:|--:|--:|--:|--:|--:|"
  printf '%s\n' "${rows[@]}"
} >"$out"
cat "$out"
[ "$fail" -eq 0 ] || die "some requests failed"
