#!/usr/bin/env bash
# Blocking HTTP/1.1 clients: Shockwave's client vs fasthttp's client vs ureq 3, each doing the
# same keep-alive loops against ONE server that is none of them: the fasthttp hello peer
# (benches/peers/fasthttp, THREADS=1 → GOMAXPROCS 1) pinned to SERVER_CPU, the client under test
# pinned to CLIENT_CPU.
#
# The load tools (benches/peers: fasthttp-client/main.go, src/bin/ureq-client.rs,
# src/bin/shockwave-client.rs) share one CLI and one output:
#   <tool> URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]
#   → {"client":..,"threads":N,"requests":R,"errors":E,"secs":S,"rps":X,"cpu_us_per_req":C,
#      "allocs_per_req":A,"bytes_per_req":B}
# THREADS threads (goroutines for fasthttp, GOMAXPROCS 1) share one client; each loops: send,
# read the whole body, count an error unless status 200 and the 13-byte body. After the warm-up
# the tool measures over DURATION: successful requests (req/s), its own CPU (getrusage,
# utime+stime, all threads) and allocations (Go: runtime.MemStats Mallocs/TotalAlloc deltas;
# Rust: a counting #[global_allocator], a realloc counted as one allocation of its new size).
#
# Scenarios: get1 / get16 / get64 = GET with 1 / 16 / 64 threads; post1 / post16 = POST of
# POST_BYTES (1 KB) with 1 / 16 threads. ROUNDS rounds, each client once per scenario and round,
# the client order reversed every other round; ratios (Shockwave ÷ fasthttp req/s and CPU/req,
# Shockwave ÷ ureq req/s) taken within a round, medians over the rounds, printed next to the
# targets: req/s ≥ 1.0 × fasthttp, CPU/req ≤ 0.8 × fasthttp, req/s ≥ 1.5 × ureq.
#
# Environment knobs (all optional):
#   CLIENTS      run order within a round (default: shockwave fasthttp ureq); a shockwave-client
#                that does not build is skipped with a warning (and no ratios)
#   SCENARIOS    default: get1 get16 get64 post1 post16
#   ROUNDS       rounds (default 3)
#   DURATION     measured loop per run (default 3s), after WARMUP seconds (default 0.5) in the
#                same process
#   POST_BYTES   body size of the post scenarios (default 1024)
#   PAUSE        seconds between runs (default 1)
#   RETRY_NOISY  re-runs of a measurement when other processes used >= 5% of the host CPU
#                during it (default 1; the least disturbed attempt is kept, marked ⚠ if still >= 5%)
#   SERVER_CPU / CLIENT_CPU  (default 0 / 1);  ADDR (default 127.0.0.1:8080)
#   GOMAXPROCS   fasthttp client's (default: 1, as every client gets one CPU); the shared run:
#                GOMAXPROCS=2 SERVER_CPU=0,1 CLIENT_CPU=0,1 DATE_TAG=shared-HHMM (then restore *-latest)
#   NO_BUILD=1   build nothing (server and tools from an earlier build)
#   DATE_TAG     results file tag (default YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/client-<tag>.md plus the chart
# client-<tag>.svg, copied to client-latest.{md,svg}; per-run rows in
# target/bench-peers/client-<tag>.txt, tool output and the server log in target/bench-peers/logs/.
set -euo pipefail
BENCH_TAG=bench-client
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-client.sh CLIENTS SCENARIOS ROUNDS DURATION WARMUP POST_BYTES PAUSE RETRY_NOISY SERVER_CPU CLIENT_CPU ADDR NO_BUILD GOMAXPROCS)"
cd "$ROOT"
# Taken now: the results files written below would make the tree look dirty.
SHOCKWAVE_REV="$(git_rev)"

CLIENTS="${CLIENTS:-shockwave fasthttp ureq}"
SCENARIOS="${SCENARIOS:-get1 get16 get64 post1 post16}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-3s}"
WARMUP="${WARMUP:-0.5}"
POST_BYTES="${POST_BYTES:-1024}"
PAUSE="${PAUSE:-1}"
RETRY_NOISY="${RETRY_NOISY:-1}"
NOISY_PCT=5
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
CLK_TCK="$(getconf CLK_TCK)"
SECS="$(duration_secs "$DURATION")"
URL="http://$ADDR/"
TOOLS_DIR="$WORK_DIR/bin"
FASTHTTP_CLIENT_BUILT="$PEERS_DIR/target/fasthttp-client"

for c in $CLIENTS; do
  case "$c" in shockwave|fasthttp|ureq) ;; *) die "unknown client '$c' (shockwave, fasthttp, ureq)" ;; esac
done
for s in $SCENARIOS; do
  case "$s" in get1|get16|get64|post1|post16) ;; *) die "unknown scenario '$s' (get1 get16 get64 post1 post16)" ;; esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
if ! [[ "$SECS" =~ ^[0-9]*\.?[0-9]+$ ]] || ! awk -v s="$SECS" 'BEGIN {exit !(s > 0)}'; then
  die "DURATION must be a positive number of seconds"
fi
[[ "$WARMUP" =~ ^[0-9]*\.?[0-9]+$ ]] || die "WARMUP must be a number of seconds (0 = none)"
[[ "$POST_BYTES" =~ ^[1-9][0-9]*$ ]] || die "POST_BYTES must be a positive integer"

scen_threads() { local t="${1#get}"; echo "${t#post}"; }
scen_post() { case "$1" in post*) echo "$POST_BYTES" ;; *) echo 0 ;; esac; }
tool_bin() { echo "$TOOLS_DIR/$1-client"; }

trap_cleanup

# ------------------------------------------------------------------ builds
ensure_tools
has() { [[ " $CLIENTS " == *" $1 "* ]]; }
drop_client() { CLIENTS="$(tr ' ' '\n' <<<"$CLIENTS" | grep -vx "$1" | tr '\n' ' ')"; }
SKIPPED=""

# stage NAME BUILT: a private copy of a built tool, so a concurrent build cannot swap it mid-run.
stage() {
  [ -x "$2" ] || return 1
  mkdir -p "$TOOLS_DIR"
  cp -f "$2" "$(tool_bin "$1").tmp" && mv -f "$(tool_bin "$1").tmp" "$(tool_bin "$1")"
}

if [ -z "${NO_BUILD:-}" ]; then
  build_fasthttp
  has fasthttp && build_go_peer fasthttp-client "$FASTHTTP_CLIENT_BUILT"
  rust_bins=()
  has ureq && rust_bins+=(--bin ureq-client)
  if has shockwave; then
    mkdir -p "$WORK_DIR/logs"
    build_log="$WORK_DIR/logs/shockwave-client-build.log"
    log "building shockwave-client (cargo build --release --bin shockwave-client)"
    if ! (cd "$PEERS_DIR" && timeout "$BUILD_TIMEOUT" cargo build --release --quiet --bin shockwave-client) \
         >"$build_log" 2>&1; then
      why="benches/peers/src/bin/shockwave-client.rs did not build ($(grep -m1 '^error' "$build_log" || echo 'see the log'); log: target/bench-peers/logs/shockwave-client-build.log)"
      warn "$why: skipping the shockwave client (and every Shockwave ratio)"
      SKIPPED="shockwave: $why"
      drop_client shockwave
    fi
  fi
  if [ "${#rust_bins[@]}" -gt 0 ]; then
    log "building the other Rust client tools (cargo build --release ${rust_bins[*]})"
    (cd "$PEERS_DIR" && timeout "$BUILD_TIMEOUT" cargo build --release --quiet "${rust_bins[@]}") \
      || die "benches/peers build of ${rust_bins[*]} failed"
  fi
fi
[ -x "$FASTHTTP_BIN" ] || die "no fasthttp hello server at $FASTHTTP_BIN"
for c in $CLIENTS; do
  case "$c" in
    fasthttp) built="$FASTHTTP_CLIENT_BUILT" ;;
    *) built="$PEERS_BIN/$c-client" ;;
  esac
  if ! stage "$c" "$built"; then
    [ "$c" = shockwave ] || die "$c: no built load tool at $built"
    warn "shockwave: no built load tool at $built: skipping it"
    SKIPPED="shockwave: no built load tool ($built)"
    drop_client shockwave
  fi
done
read -r -a clients <<<"$CLIENTS"
[ "${#clients[@]}" -gt 0 ] || die "no client left to benchmark"
port_busy && die "port $PORT is already in use; stop whatever listens there first (or set ADDR)"
mkdir -p "$RESULTS_DIR" "$WORK_DIR/logs"

# ------------------------------------------------------------------ runs
# run_tool CLIENT THREADS POST_BYTES OUTFILE: the load tool on CLIENT_CPU (WRK_PID, so the
# clean-up trap stops it; timeout(1) passes the TERM on).
run_tool() {
  local limit
  limit="$(awk -v d="$SECS" -v w="$WARMUP" 'BEGIN {printf "%.0f", d + w + 30}')"
  timeout -k 5 "$limit" taskset -c "$CLIENT_CPU" "$(tool_bin "$1")" "$URL" "$2" "$SECS" "$WARMUP" "$3" \
    >"$4" 2>"$4.err" </dev/null &
  WRK_PID=$!
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  return "$rc"
}

# tool_fields OUT: "requests errors secs rps cpu_us allocs bytes" from a tool's JSON line.
tool_fields() {
  python3 - "$1" <<'PY' 2>/dev/null
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
j = json.loads(lines[-1])
print(j["requests"], j["errors"], j["secs"], j["rps"], j["cpu_us_per_req"], j["allocs_per_req"], j["bytes_per_req"])
PY
}

# measure ROUND SCENARIO CLIENT -> ROW (one line of the rows file) and OTHER (other load %)
# ROW: round scenario client threads post requests errors secs rps cpu_us allocs bytes server_cpu% other% status
measure() {
  local threads post out t0 t1 h0 h1 w0 w1 s0 s1 rc=0
  threads="$(scen_threads "$2")"; post="$(scen_post "$2")"
  out="$WORK_DIR/logs/client-$3-$2.json"
  h0="$(host_cpu)"; w0="$(child_ticks $$)"; s0="$(cpu_ticks "$SERVER_PID")"; t0="$(date +%s.%N)"
  run_tool "$3" "$threads" "$post" "$out" || rc=$?
  t1="$(date +%s.%N)"; s1="$(cpu_ticks "$SERVER_PID")"; h1="$(host_cpu)"; w1="$(child_ticks $$)"
  kill -0 "$SERVER_PID" 2>/dev/null || die "the fasthttp server died during $3 $2; log: $SERVER_LOG"
  local other srvpct
  read -r other srvpct < <(awk -v a="$h0" -v b="$h1" -v sv=$(( s1 - s0 )) -v cl=$(( w1 - w0 )) \
      -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" \
    'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; tot = y[2] - x[2];
            o = tot > 0 ? (busy - sv - cl) / tot * 100 : 0; if (o < 0) o = 0
            printf "%.1f %.0f\n", o, (t1 > t0 ? sv / hz / (t1 - t0) * 100 : 0)}')
  OTHER="$other"
  local fields
  if [ "$rc" != 0 ] || ! fields="$(tool_fields "$out")"; then
    warn "$3 $2 failed (exit $rc): $(tail -3 "$out.err" "$out" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
    ROW="$1 $2 $3 $threads $post 0 0 0 nan nan nan nan $srvpct $other failed"
    return 0
  fi
  local status=ok errs
  read -r _ errs _ <<<"$fields"
  [ "$errs" = 0 ] || status=errors
  ROW="$1 $2 $3 $threads $post $fields $srvpct $other $status"
}

ROWS="$WORK_DIR/client-$DATE_TAG.txt"
: >"$ROWS"
read -r -a scenarios <<<"$SCENARIOS"
log "clients: ${clients[*]} | scenarios: ${scenarios[*]} | $ROUNDS rounds of ${SECS}s (+${WARMUP}s warm-up) | server fasthttp (GOMAXPROCS 1) on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU"
for r in $(seq "$ROUNDS"); do
  LOG_TAG=client start_server fasthttp "$SERVER_CPU" THREADS=1 || die "the fasthttp server did not start"
  order=("${clients[@]}")
  (( r % 2 == 0 )) && mapfile -t order < <(printf '%s\n' "${clients[@]}" | tac)
  for scen in "${scenarios[@]}"; do
    for c in "${order[@]}"; do
      best="" best_other=""
      for attempt in $(seq 0 "$RETRY_NOISY"); do
        measure "$r" "$scen" "$c"
        if [ -z "$best" ] || awk -v o="$OTHER" -v b="$best_other" 'BEGIN {exit !(o < b)}'; then
          best="$ROW" best_other="$OTHER"
        fi
        awk -v o="$OTHER" -v m="$NOISY_PCT" 'BEGIN {exit !(o < m)}' && break
        [ "$attempt" -lt "$RETRY_NOISY" ] && { warn "other load $OTHER% during round $r $scen $c: running it again"; sleep "$PAUSE"; }
      done
      echo "$best" >>"$ROWS"
      read -r _ _ _ _ _ n e _ rps cpu allocs bytes sp o st <<<"$best"
      log "round $r $scen $c: $n requests, $rps req/s, $cpu CPU us/req, $allocs allocs/req, $bytes B/req, errors $e, server CPU $sp%, other load $o% ($st)"
      sleep "$PAUSE"
    done
  done
  stop_server
done

# ------------------------------------------------------------------ report
SVG="$RESULTS_DIR/client-$DATE_TAG.svg"
TABLE="$(python3 - "$ROWS" "$NOISY_PCT" "$SVG" "$ROOT/scripts/bench-chart.py" \
  "Blocking HTTP/1.1 clients vs the fasthttp hello server — $(date +%Y-%m-%d), $(nproc) CPUs" \
  "$POST_BYTES" "${clients[@]}" <<'PY'
import collections, importlib.util, math, statistics as st, sys
from html import escape
rows_path, noisy, svg_path, chart_py, title, post_bytes = sys.argv[1:7]
clients = sys.argv[7:]
noisy = float(noisy)
LABEL = {
    "get1": "sequential GET, 1 thread",
    "get16": "GET, 16 threads",
    "get64": "GET, 64 threads",
    "post1": f"POST {post_bytes} B, 1 thread",
    "post16": f"POST {post_bytes} B, 16 threads",
}
runs = collections.defaultdict(dict)  # (scen, client) -> round -> dict
scens = []
for line in open(rows_path):
    r, scen, c, threads, post, n, e, secs, rps, cpu, allocs, nbytes, sp, o, status = line.split()
    if scen not in scens:
        scens.append(scen)
    f = lambda v: float(v) if v != "nan" else math.nan
    runs[(scen, c)][int(r)] = dict(n=int(n), e=int(e), rps=f(rps), cpu=f(cpu), allocs=f(allocs),
                                   bytes=f(nbytes), srv=float(sp), other=float(o), status=status)

def med(vals):
    vals = [v for v in vals if not math.isnan(v)]
    return st.median(vals) if vals else math.nan

def disturbed(x):
    return x["other"] >= noisy or x["status"] != "ok"

def ratios(scen, a, b, key):
    """a ÷ b within each round both ran: [(round, ratio, disturbed)]."""
    ra, rb = runs.get((scen, a), {}), runs.get((scen, b), {})
    out = []
    for r in sorted(set(ra) & set(rb)):
        x, y = ra[r][key], rb[r][key]
        if not (math.isnan(x) or math.isnan(y)) and y > 0:
            out.append((r, x / y, disturbed(ra[r]) or disturbed(rb[r])))
    return out

TARGETS = [  # (label, a, b, key, target text, test)
    ("Shockwave ÷ fasthttp, req/s", "shockwave", "fasthttp", "rps", "≥ 1.0", lambda v: v >= 1.0),
    ("Shockwave ÷ fasthttp, client CPU µs/req", "shockwave", "fasthttp", "cpu", "≤ 0.8", lambda v: v <= 0.8),
    ("Shockwave ÷ ureq, req/s", "shockwave", "ureq", "rps", "≥ 1.5", lambda v: v >= 1.5),
]

def ratio_cell(scen, a, b, key, test):
    rs = ratios(scen, a, b, key)
    if not rs:
        return None, "—"
    m = st.median(v for _, v, _ in rs)
    return m, f"{m:.2f} {'✅' if test(m) else '❌'}"

def fmt(v, d=0):
    return "—" if math.isnan(v) else f"{v:,.{d}f}"

out = []
# Summary: every target, every scenario.
out.append("### Targets (Shockwave's client; ratios within a round, median over rounds)")
out.append("")
out.append("| scenario | " + " | ".join(f"{t[0]} (target {t[4]})" for t in TARGETS) + " |")
out.append("|---|" + "--:|" * len(TARGETS))
for scen in scens:
    cells = [ratio_cell(scen, a, b, k, test)[1] for _, a, b, k, _, test in TARGETS]
    out.append(f"| {scen} ({LABEL[scen]}) | " + " | ".join(cells) + " |")
if "shockwave" not in clients:
    out.append("")
    out.append("Shockwave's client was not measured, so there are no ratios yet (see above).")
out.append("")
for scen in scens:
    out.append(f"### {scen}: {LABEL[scen]}")
    out.append("")
    out.append("| client | req/s | client CPU µs/req | allocs/req | bytes/req | errors (all rounds) "
               "| server CPU % | other load % | rounds |")
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c in clients:
        rr = runs.get((scen, c), {})
        if not rr:
            continue
        v = list(rr.values())
        failed = sum(x["status"] == "failed" for x in v)
        mark = " ⚠" if any(x["other"] >= noisy for x in v) else ""
        out.append(
            f"| {c} | {fmt(med(x['rps'] for x in v))} | {fmt(med(x['cpu'] for x in v), 2)} "
            f"| {fmt(med(x['allocs'] for x in v), 2)} | {fmt(med(x['bytes'] for x in v), 0)} "
            f"| {sum(x['e'] for x in v)}{f' ({failed} runs failed)' if failed else ''} "
            f"| {fmt(med(x['srv'] for x in v))} | {fmt(med(x['other'] for x in v), 1)}{mark} | {len(v)} |")
    if "shockwave" in clients:
        out.append("")
        out.append("| ratio | median | each round | target |")
        out.append("|---|--:|---|---|")
        for label, a, b, k, target, test in TARGETS:
            if b not in clients:
                continue
            rs = ratios(scen, a, b, k)
            each = ", ".join(f"{v:.2f}" + ("⚠" if d else "") for _, v, d in rs) or "—"
            m, cell = ratio_cell(scen, a, b, k, test)
            out.append(f"| {label} | {cell} | {each} | {target} |")
    out.append("")
print("\n".join(out))

# ---- chart: the peers benchmark's grouped log-scale bar panels (scripts/bench-chart.py)
spec = importlib.util.spec_from_file_location("bench_chart", chart_py)
bc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bc)
bc.SCENARIO_LABEL.update(LABEL)
bars = []
for scen in scens:
    for c in clients:
        rr = runs.get((scen, c), {})
        if rr:
            v = list(rr.values())
            n = lambda x: None if math.isnan(x) else x
            bars.append({"scenario": scen, "server": c, "status": "ok",
                         "req_per_s_f": n(med(x["rps"] for x in v)),
                         "cpu_us_per_req_f": n(med(x["cpu"] for x in v)),
                         "other_cpu_pct_f": med(x["other"] for x in v)})
colors, extra = {}, iter(bc.EXTRA_COLORS * 4)
for c in clients:
    colors[c] = bc.PALETTE.get(c) or next(extra)
W = max(980, 140 + len(scens) * (len(clients) * 30 + 40))
PH, top = 330, 84
H = top + 2 * PH + 34
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
       'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
       "<style>.title{font-size:17px;font-weight:bold}.ptitle{font-size:13px;font-weight:bold}"
       ".ytick{font-size:10px;text-anchor:end;fill:#444}.ylab{font-size:11px;text-anchor:middle;fill:#444}"
       ".xlab{font-size:11px;text-anchor:middle}.val{font-size:9px;fill:#222}"
       ".na{font-size:9px;text-anchor:middle;fill:#a00}.leg{font-size:12px}"
       ".grid{stroke:#bbb;stroke-width:0.8}.grid2{stroke:#ddd;stroke-width:0.6;stroke-dasharray:2,3}"
       ".frame{fill:none;stroke:#888;stroke-width:0.8}</style>",
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="12" y="26" class="title">{escape(title)}</text>']
lx = 14
for c in clients:
    svg.append(f'<rect x="{lx}" y="44" width="14" height="14" fill="{colors[c]}"/>')
    svg.append(f'<text x="{lx + 19}" y="56" class="leg">{escape(c)}</text>')
    lx += 30 + 8 * len(c)
where = "server: fasthttp hello on CPU 0 (GOMAXPROCS 1); client on CPU 1; medians over rounds"
bc.panel(svg, 0, top, W, PH, f"Throughput (req/s) — {where}", bars, scens, clients, colors,
         "req_per_s_f", "req/s")
bc.panel(svg, 0, top + PH, W, PH, "Client CPU per request (µs, utime+stime of the client process)",
         bars, scens, clients, colors, "cpu_us_per_req_f", "CPU µs/req")
svg.append(f'<text x="12" y="{top + 2 * PH + 20}" class="leg">* other processes used ≥ {noisy:.0f}% '
           "of the host CPU during that run (disturbed)   n/a = run failed</text>")
svg.append("</svg>")
open(svg_path, "w").write("\n".join(svg) + "\n")
PY
)"

MD="$RESULTS_DIR/client-$DATE_TAG.md"
{
  echo "# Blocking HTTP/1.1 clients — Shockwave vs fasthttp vs ureq"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $SHOCKWAVE_REV"
  echo "- Host: $(cpu_model) ($(nproc) CPUs online), kernel $(uname -r)"
  echo "- Clients: Shockwave's \`Client::send_into\` (benches/peers/src/bin/shockwave-client.rs); fasthttp $(dpkg-query -W -f='${Version}' golang-github-valyala-fasthttp-dev 2>/dev/null || echo '?') \`Client.Do\` with $(go version 2>/dev/null | awk '{print $3}' || echo 'go ?'), GOMAXPROCS ${GOMAXPROCS:-1} (fasthttp-client/main.go; env GOMAXPROCS for the shared run); ureq $(crate_version ureq), default features off (src/bin/ureq-client.rs). Each: THREADS threads/goroutines sharing one client with THREADS pooled connections, keep-alive."
  echo "- Server: the fasthttp hello peer (THREADS=1, GOMAXPROCS 1) on CPU $SERVER_CPU, \`Hello, World!\` (13 bytes) for every request; each client on CPU $CLIENT_CPU (\`taskset\`)"
  echo "- $ROUNDS rounds; per run ${WARMUP}s warm-up then ${SECS}s measured in the same process; client order reversed every other round; $PAUSE s pause between runs"
  echo "- Measured inside each tool over the measured loop: successful requests → req/s; client CPU = getrusage utime+stime of the whole client process ÷ requests; allocations and bytes per request (Go: runtime.MemStats Mallocs / TotalAlloc deltas; Rust: a counting #[global_allocator], a realloc counting as one allocation of its new size). An error = a failed request, a status other than 200 or a body other than 13 bytes."
  echo "- server CPU % = the fasthttp server's utime+stime over the whole run (warm-up included) as % of one CPU: near 100% means the server, not the client, was the limit, and req/s then says little about the client. other load % = CPU used by other processes during the run, as % of all CPUs, median over the rounds; ⚠ = at least one round at ≥ ${NOISY_PCT}% (such runs are repeated up to RETRY_NOISY=$RETRY_NOISY times; the least disturbed attempt is kept)."
  echo "- Ratios: within each round, then the median over the rounds (each round's value in the column after it; ⚠ = that round was disturbed or had errors)."
  if [ -n "$SKIPPED" ]; then
    echo
    echo "**Not measured:** $SKIPPED."
  fi
  echo
  echo "$TABLE"
  echo
  echo "Chart: [client-$DATE_TAG.svg](client-$DATE_TAG.svg) (the peers benchmark's bar panels from scripts/bench-chart.py; log scale)"
} >"$MD"
cp "$MD" "$RESULTS_DIR/client-latest.md"
cp "$SVG" "$RESULTS_DIR/client-latest.svg"
sed -i "s/client-$DATE_TAG\.svg/client-latest.svg/g" "$RESULTS_DIR/client-latest.md"
cat "$MD"
log "wrote $MD, $SVG (and client-latest.*); rows in $ROWS"
