#!/usr/bin/env bash
# TechEmpower "json" test, pinned: Shockwave's JSON example vs the json peers of benches/peers
# (may-json, actix-json, fasthttp-json). Every server answers GET /json with a freshly
# serialised {"message":"Hello, World!"}; each is checked with curl first (status 200, Server,
# Date, Content-Type: application/json, Content-Length: 27, exact body) and not benchmarked
# if it answers wrong.
#
# Placement as bench-peers.sh's "pinned": the server alone on SERVER_CPU with THREADS=1
# SHOCKWAVE_POLLERS=1 (one poller / worker / GOMAXPROCS), `wrk -t1 -c64` keep-alive on
# CLIENT_CPU. Measured as scripts/bench-ab.sh does: ROUNDS rounds, each server once per round,
# the order reversed every other round; server CPU per request from /proc/PID/stat
# (utime+stime); Shockwave ÷ peer ratios taken within a round, medians over the rounds.
# On 2 CPUs the client is the limit (wrk -t1 saturates its CPU), so CPU µs/req is the figure.
#
# Environment knobs (all optional):
#   SERVERS      run order within a round (default: shockwave-json may-json actix-json fasthttp-json);
#                shockwave-json is required (the ratios are to it)
#   ROUNDS       rounds (default 3)
#   DURATION     measured wrk run per server and round (default 5s), after WARMUP (default 1s; 0 = none)
#   CONNS        wrk connections (default 64)
#   PAUSE        seconds between runs (default 1)
#   RETRY_NOISY  re-runs of a measurement when other processes used >= 5% of the host CPU
#                during it (default 2; the least disturbed attempt is kept, marked ⚠ if still >= 5%)
#   SERVER_CPU / CLIENT_CPU  (default 0 / 1);  ADDR (default 127.0.0.1:8080)
#   SHOCKWAVE_JSON_BIN  Shockwave binary to run (default target/release/examples/json, built here
#                with `cargo build --release --example json --features json`; when set, nothing
#                is built for Shockwave). It must take the address as first argument and honour
#                SHOCKWAVE_POLLERS / SHOCKWAVE_WORKERS like examples/hello.rs.
#   SHOCKWAVE_WORKERS  passed through to Shockwave when set
#   NO_BUILD=1   build nothing (peers from an earlier build; Shockwave's binary must exist)
#   DATE_TAG     results file tag (default YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/json-<tag>.md, copied to json-latest.md;
# per-run rows in target/bench-peers/json-<tag>.txt, wrk output and logs in target/bench-peers/logs/.
set -euo pipefail
BENCH_TAG=bench-json
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-json.sh SERVERS ROUNDS DURATION WARMUP CONNS PAUSE RETRY_NOISY SERVER_CPU CLIENT_CPU ADDR SHOCKWAVE_JSON_BIN SHOCKWAVE_WORKERS NO_BUILD)"
cd "$ROOT"

SERVERS="${SERVERS:-shockwave-json may-json actix-json fasthttp-json}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
CONNS="${CONNS:-64}"
PAUSE="${PAUSE:-1}"
RETRY_NOISY="${RETRY_NOISY:-2}"
NOISY_PCT=5
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
SHOCKWAVE_JSON_DEFAULT="$ROOT/target/release/examples/json"
CLK_TCK="$(getconf CLK_TCK)"
SECS="$(duration_secs "$DURATION")"
JSON_PATH=/json
JSON_BODY='{"message":"Hello, World!"}'
SERVER_READY_PATH="$JSON_PATH"
SERVER_CHECK_PATH="$JSON_PATH"
SERVER_CHECK_BODY="$JSON_BODY"

for s in $SERVERS; do
  case "$s" in shockwave-json|may-json|actix-json|fasthttp-json) ;; *) die "unknown json server '$s'" ;; esac
done
[[ " $SERVERS " == *" shockwave-json "* ]] || die "SERVERS must include shockwave-json (the ratios are to it)"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"

trap_cleanup

# ------------------------------------------------------------------ builds
ensure_tools
has() { [[ " $SERVERS " == *" $1 "* ]]; }

if [ -n "${SHOCKWAVE_JSON_BIN:-}" ]; then
  sw_src="$SHOCKWAVE_JSON_BIN"
  [[ "$sw_src" = /* ]] || sw_src="$ROOT/$sw_src"
  [ -x "$sw_src" ] || die "SHOCKWAVE_JSON_BIN=$SHOCKWAVE_JSON_BIN is not an executable"
else
  sw_src="$SHOCKWAVE_JSON_DEFAULT"
  if [ -z "${NO_BUILD:-}" ]; then
    log "building shockwave (cargo build --release --example json --features json)"
    if ! (timeout "$BUILD_TIMEOUT" cargo build --release --example json --features json --quiet); then
      if [ ! -f "$ROOT/examples/json.rs" ]; then
        die "Shockwave's examples/json.rs does not exist yet, so there is nothing to benchmark (or set SHOCKWAVE_JSON_BIN to a JSON server binary)"
      fi
      die "cargo build --release --example json --features json failed (see above)"
    fi
  fi
  [ -x "$sw_src" ] || die "no Shockwave JSON binary at $sw_src (examples/json.rs not built; NO_BUILD=${NO_BUILD:-})"
fi
# A private copy, so a concurrent cargo build cannot swap it mid-run (as bench-lib's stage_shockwave).
mkdir -p "$(dirname "$SHOCKWAVE_JSON_STAGED")"
cp -f "$sw_src" "$SHOCKWAVE_JSON_STAGED.tmp" && mv -f "$SHOCKWAVE_JSON_STAGED.tmp" "$SHOCKWAVE_JSON_STAGED"

if [ -z "${NO_BUILD:-}" ]; then
  if has may-json || has actix-json; then
    log "building the json peers (cargo build --release --bin may-json --bin actix-json)"
    (cd "$PEERS_DIR" && timeout "$BUILD_TIMEOUT" cargo build --release --quiet --bin may-json --bin actix-json) \
      || die "benches/peers build failed"
  fi
  has fasthttp-json && build_fasthttp_json
fi
for s in $SERVERS; do
  [ -x "$(server_bin "$s")" ] || die "$s: no binary at $(server_bin "$s")"
done
port_busy && die "port $PORT is already in use; stop whatever listens there first"
mkdir -p "$RESULTS_DIR" "$WORK_DIR/logs"

# ------------------------------------------------------------------ response check
# check_json NAME: the running server's answer to GET /json, by TechEmpower's json rules.
# Prints the problems found (nothing when it is right).
check_json() {
  local dir="$WORK_DIR/logs/check-$1" code
  mkdir -p "$dir"
  rm -f "$dir/head" "$dir/body"
  code="$(curl -s -m 3 -D "$dir/head" -o "$dir/body" -w '%{http_code}' "http://$ADDR$JSON_PATH" || true)"
  python3 - "$code" "$dir/head" "$dir/body" "$JSON_BODY" <<'PY'
import sys
code, head, body, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
def read(path):
    try:
        return open(path, "rb").read()
    except OSError:
        return b""
h = {}
for line in read(head).decode("latin-1").split("\r\n")[1:]:
    if ":" in line:
        k, v = line.split(":", 1)
        h.setdefault(k.strip().lower(), []).append(v.strip())
b = read(body)
bad = []
if code != "200":
    bad.append(f"status {code or 'none'}, not 200")
for f in ("server", "date"):
    if f not in h:
        bad.append(f"no {f.title()} header")
ct = h.get("content-type", [""])[0]
if ct.split(";")[0].strip().lower() != "application/json":
    bad.append(f"Content-Type {ct!r}, not application/json")
cl = h.get("content-length", [])
if cl != [str(len(want))]:
    bad.append(f"Content-Length {cl or 'missing'}, not [{len(want)}]" + (" (chunked)" if "transfer-encoding" in h else ""))
if b != want:
    bad.append(f"body {b[:60]!r}, not {want.decode()!r}")
print("; ".join(bad))
PY
}

# ------------------------------------------------------------------ runs
wrk_run() { # DURATION OUTFILE
  local secs; secs="$(duration_secs "$1")"
  timeout -k 5 $(( secs + 30 )) taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$1" --timeout 2s \
    "http://$ADDR$JSON_PATH" >"$2" 2>&1 </dev/null &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

# measure ROUND NAME -> ROW: "round server requests ticks wrk_cpu% other% errors flag"
measure() {
  local out="$WORK_DIR/logs/wrk-json-$2.txt" t0 t1 h0 h1 w0 w1 rc=0
  h0="$(host_cpu)"; w0="$(child_ticks $$)"; t0="$(cpu_ticks "$SERVER_PID")"
  wrk_run "$DURATION" "$out" || rc=$?
  t1="$(cpu_ticks "$SERVER_PID")"; h1="$(host_cpu)"; w1="$(child_ticks $$)"
  kill -0 "$SERVER_PID" 2>/dev/null || die "$2 died during the run; log: $SERVER_LOG"
  [ "$rc" = 0 ] || die "$2: wrk failed ($rc): $(tail -2 "$out")"
  local reqs non2xx errs
  reqs="$(awk '/requests in/ {print $1; exit}' "$out")"
  [ "${reqs:-0}" -gt 0 ] || die "$2: no requests"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF; exit}' "$out")"
  [ "${non2xx:-0}" = 0 ] || die "$2 answered $non2xx non-2xx responses under load: $out"
  errs="$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; exit}' "$out")"
  local other wrkpct
  read -r other wrkpct < <(awk -v a="$h0" -v b="$h1" -v sv=$(( t1 - t0 )) -v wk=$(( w1 - w0 )) -v n="$(nproc)" \
    'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; tot = y[2] - x[2];
            if (tot <= 0) {print 0, 0; exit}
            o = (busy - sv - wk) / tot * 100; if (o < 0) o = 0
            printf "%.1f %.1f\n", o, wk / (tot / n) * 100}')
  ROW="$1 $2 $reqs $(( t1 - t0 )) $wrkpct $other ${errs:-0}"
  OTHER="$other"
}

ROWS="$WORK_DIR/json-$DATE_TAG.txt"
: >"$ROWS"
REFUSED=""
log "checking every server's /json answer"
ok_servers=""
for s in $SERVERS; do
  LOG_TAG=json start_server "$s" "$SERVER_CPU" THREADS=1 SHOCKWAVE_POLLERS=1 || die "$s did not start"
  problems="$(check_json "$s")"
  stop_server
  if [ -n "$problems" ]; then
    [ "$s" = shockwave-json ] && die "shockwave-json answers /json wrong: $problems"
    warn "$s answers /json wrong, not benchmarking it: $problems"
    REFUSED+="$s: $problems"$'\n'
  else
    ok_servers+="$s "
  fi
done
read -r -a servers <<<"$ok_servers"

log "servers: ${servers[*]} | $ROUNDS rounds of $DURATION (+$WARMUP warm-up) | wrk -t1 -c$CONNS on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU"
for r in $(seq "$ROUNDS"); do
  order=("${servers[@]}")
  (( r % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "${servers[@]}" | tac)
  for s in "${order[@]}"; do
    LOG_TAG=json start_server "$s" "$SERVER_CPU" THREADS=1 SHOCKWAVE_POLLERS=1 || die "$s did not start"
    problems="$(check_json "$s")"
    [ -z "$problems" ] || die "$s answers /json wrong in round $r: $problems"
    if [ "$WARMUP" != 0 ]; then wrk_run "$WARMUP" "$WORK_DIR/logs/wrk-json-warmup.txt" || warn "$s: warm-up failed"; fi
    best="" best_other=""
    for attempt in $(seq 0 "$RETRY_NOISY"); do
      measure "$r" "$s"
      if [ -z "$best" ] || awk -v o="$OTHER" -v b="$best_other" 'BEGIN {exit !(o < b)}'; then
        best="$ROW" best_other="$OTHER"
      fi
      awk -v o="$OTHER" -v m="$NOISY_PCT" 'BEGIN {exit !(o < m)}' && break
      [ "$attempt" -lt "$RETRY_NOISY" ] && { warn "other load $OTHER% during round $r $s: running it again"; sleep "$PAUSE"; }
    done
    stop_server
    echo "$best" >>"$ROWS"
    read -r _ _ n t w o e <<<"$best"
    log "round $r $s: $(awk -v n="$n" -v t="$t" -v hz="$CLK_TCK" -v d="$SECS" \
      'BEGIN {printf "%.0f req/s, %.2f CPU us/req", n / d, t / hz / n * 1e6}'), wrk cpu $w%, other load $o%, socket errors $e"
    sleep "$PAUSE"
  done
done

# ------------------------------------------------------------------ report
TABLE="$(python3 - "$ROWS" "$CLK_TCK" "$SECS" "$NOISY_PCT" "${servers[@]}" <<'PY'
import collections, statistics as st, sys
rows, hz, secs, noisy, servers = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5:]
cpu, rps, wrk, flag = (collections.defaultdict(dict) for _ in range(4))
for line in open(rows):
    r, s, n, ticks, w, o, e = line.split()
    cpu[s][r] = int(ticks) / hz / int(n) * 1e6
    rps[s][r] = int(n) / secs
    wrk[s][r] = float(w)
    if float(o) >= noisy or int(e) > 0:
        flag[s][r] = True
sw = "shockwave-json"
print("| server | req/s (median) | CPU µs/req (median) | Shockwave ÷ server, CPU µs/req: median (each round) | wrk CPU % (median) |")
print("|---|--:|--:|---|--:|")
for s in servers:
    rounds = sorted(cpu[s], key=int)
    ratios = [cpu[sw][r] / cpu[s][r] for r in rounds]
    each = ", ".join(f"{x:.2f}" + ("⚠" if flag[s].get(r) or flag[sw].get(r) else "") for x, r in zip(ratios, rounds))
    ratio = "—" + (f" ({each})" if "⚠" in each else "") if s == sw else f"{st.median(ratios):.3f} ({each})"
    print(f"| {s} | {st.median(rps[s].values()):.0f} | {st.median(cpu[s].values()):.2f} | "
          f"{ratio} | {st.median(wrk[s].values()):.0f} |")
PY
)"

MD="$RESULTS_DIR/json-$DATE_TAG.md"
{
  echo "# TechEmpower json — Shockwave vs peers, pinned"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $(git_rev); binary: ${SHOCKWAVE_JSON_BIN:-target/release/examples/json (--features json)}"
  echo "- Host: $(cpu_model) ($(nproc) CPUs online), kernel $(uname -r)"
  echo "- Peers: may_minihttp $(crate_version may_minihttp), actix-web $(crate_version actix-web), serde_json $(crate_version serde_json); fasthttp $(dpkg-query -W -f='${Version}' golang-github-valyala-fasthttp-dev 2>/dev/null || echo '?') with $(go version 2>/dev/null | awk '{print $3}' || echo 'go ?') encoding/json"
  echo "- Test: \`GET $JSON_PATH\`, body \`$JSON_BODY\` serialised per request; each answer checked first (200, Server, Date, Content-Type: application/json, Content-Length: 27, exact body)"
  echo "- Placement: each server alone on CPU $SERVER_CPU (THREADS=1, SHOCKWAVE_POLLERS=1${SHOCKWAVE_WORKERS:+, SHOCKWAVE_WORKERS=$SHOCKWAVE_WORKERS}), \`wrk -t1 -c$CONNS\` keep-alive on CPU $CLIENT_CPU"
  echo "- $ROUNDS rounds of $DURATION per server (warm-up $WARMUP before each), order reversed every other round; CPU per request from /proc/PID/stat utime+stime (CLK_TCK=$CLK_TCK); ratios within a round, medians over rounds (lower ratio = Shockwave uses less CPU per request). wrk CPU near 100% = the client was the limit, so req/s says little here. ⚠ = other load ≥ ${NOISY_PCT}% of the host or socket errors in that round."
  echo
  echo "$TABLE"
  if [ -n "$REFUSED" ]; then
    echo
    echo "Not benchmarked (answered /json wrong):"
    echo
    while IFS= read -r line; do [ -n "$line" ] && echo "- $line"; done <<<"$REFUSED"
  fi
} >"$MD"
cp "$MD" "$RESULTS_DIR/json-latest.md"
cat "$MD"
log "wrote $MD (and json-latest.md); rows in $ROWS"
[ -z "$REFUSED" ] || die "some servers were not benchmarked (see above)"
