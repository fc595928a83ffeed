#!/usr/bin/env bash
# Soak: DURATION (default 600 s) of wrk load at 64 connections against examples/echo, plus a
# side loop of malformed requests, slow clients and abrupt disconnects (RST mid-body and
# mid-response). Samples the server's RSS and open fds every 10 s and prints a table.
# Pass: the server never dies or logs a panic, RSS at the end is within +10% of its value at
# minute 1, fds return to the baseline once the load stops, wrk sees no errors, and every abuse
# ends as expected (4xx, 408 or close).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-600}
PORT=${PORT:-18390}
scripts/install-deps.sh wrk python3
cargo build --release --quiet --example echo
OUT=$(mktemp -d)
target/release/examples/echo "127.0.0.1:$PORT" >"$OUT/server.out" 2>"$OUT/server.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
sleep 1
fds() { ls "/proc/$PID/fd" | wc -l; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
BASE_FDS=$(fds)
echo "soak: ${DURATION}s against pid $PID (baseline fds $BASE_FDS, rss $(rss) kB)"
wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:$PORT/" >"$OUT/wrk.txt" 2>&1 &
WRK=$!
python3 scripts/soak_abuse.py "$PORT" "$DURATION" >"$OUT/abuse.json" &
ABUSE=$!
echo "| t (s) | RSS (kB) | open fds |"
echo "|--:|--:|--:|"
t=0
RSS1=""
while kill -0 $WRK 2>/dev/null; do
    kill -0 $PID 2>/dev/null || { echo "soak: FAIL: the server died" >&2; exit 1; }
    r=$(rss); f=$(fds)
    echo "| $t | $r | $f |"
    [ $t -eq 60 ] && RSS1=$r
    sleep 10
    t=$((t + 10))
done
wait $ABUSE || true
RSS1=${RSS1:-$(rss)}
# let header/idle timeouts close whatever the abusers left behind
for _ in $(seq 30); do [ "$(fds)" -le "$BASE_FDS" ] && break; sleep 1; done
RSS_END=$(rss); FDS_END=$(fds)
echo
grep -E "requests in|Requests/sec|Socket errors|Non-2xx" "$OUT/wrk.txt" || true
echo "abuse: $(cat "$OUT/abuse.json")"
fail=0
kill -0 $PID 2>/dev/null || { echo "FAIL: server died"; fail=1; }
grep -q "panicked" "$OUT/server.err" && { echo "FAIL: a panic reached stderr"; grep -m3 panicked "$OUT/server.err"; fail=1; }
python3 - "$RSS1" "$RSS_END" <<'PY' || fail=1
import sys
a, b = int(sys.argv[1]), int(sys.argv[2])
print(f"RSS minute 1: {a} kB, end: {b} kB ({(b - a) / a * 100:+.1f}%)")
sys.exit(0 if b <= a * 1.10 else 1)
PY
echo "fds baseline: $BASE_FDS, end: $FDS_END"
[ "$FDS_END" -le "$BASE_FDS" ] || { echo "FAIL: fds did not return to the baseline"; fail=1; }
grep -q "Socket errors" "$OUT/wrk.txt" && { echo "FAIL: wrk saw socket errors"; fail=1; }
grep -q "Non-2xx" "$OUT/wrk.txt" && { echo "FAIL: wrk saw non-2xx answers"; fail=1; }
python3 -c "import json,sys; d=json.load(open('$OUT/abuse.json')); sys.exit(1 if d['unexpected'] else 0)" || { echo "FAIL: unexpected outcomes in the abuse loop"; fail=1; }
[ $fail -eq 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit $fail
