#!/usr/bin/env bash
# Memory per idle keep-alive connection: for each server, start it (unpinned),
# read its baseline VmRSS, open CONNS keep-alive connections with one request
# answered on each (benches/peers idleconns), wait SETTLE seconds, read VmRSS
# again: (RSS - baseline) / CONNS = bytes per idle connection.
#
# Environment knobs (all optional):
#   MEM_SERVERS  servers to measure   (default: shockwave fasthttp hyper)
#   CONNS        idle connections      (default: 10000)
#   SETTLE       seconds to wait once all are answered (default: 2)
#   THREADS      when set, given to the peers (and as SHOCKWAVE_POLLERS to
#                shockwave); otherwise every server runs its default
#                (peers: 1 thread; shockwave: its own defaults)
#   ADDR         listen address (default: 127.0.0.1:8080)
#   NO_BUILD=1   skip the builds
#   DATE_TAG     file name tag (default: YYYY-MM-DD-HHMM)
#
# Output: Markdown on stdout and in benches/results/memory-<tag>.md, copied to
# benches/results/memory-latest.md.
set -euo pipefail

BENCH_TAG=bench-memory

# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"
CMD_LINE="$(command_line bench-memory.sh MEM_SERVERS CONNS SETTLE THREADS ADDR NO_BUILD)${*:+ $*}"
cd "$ROOT"

MEM_SERVERS="${MEM_SERVERS:-shockwave fasthttp hyper}"
CONNS="${CONNS:-10000}"
SETTLE="${SETTLE:-2}"
DATE_TAG="${DATE_TAG:-$(date +%Y-%m-%d-%H%M)}"
USER_THREADS="${THREADS:-}"
IDLECONNS="$PEERS_BIN/idleconns"

for s in $MEM_SERVERS; do server_bin "$s" >/dev/null || die "unknown server '$s'"; done

# Each process has its own RLIMIT_NOFILE: the server inherits this one
# (CONNS server-side sockets), idleconns raises its own soft limit to the
# hard limit (CONNS client-side sockets), so CONNS must fit under the hard
# limit in each process, not twice in one.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $(( CONNS + 100 )) ]; then
  die "RLIMIT_NOFILE is $NOFILE (hard $(ulimit -Hn)); $CONNS connections need at least $(( CONNS + 100 ))"
fi

CLEANUP_EXTRA=stop_idle
trap_cleanup

ensure_tools
prepare_servers MEM_SERVERS
[ -x "$IDLECONNS" ] || die "missing $IDLECONNS (build benches/peers)"
port_busy && die "port $PORT is already in use; stop whatever listens there first"
mkdir -p "$RESULTS_DIR" "$WORK_DIR/logs"

ROWS=()
for server in $MEM_SERVERS; do
  envs=()
  if [ -n "$USER_THREADS" ]; then envs=(THREADS="$USER_THREADS" SHOCKWAVE_POLLERS="$USER_THREADS"); fi
  if ! start_server "$server" "" "${envs[@]}"; then
    ROWS+=("| $server | — | — | — | — | start failed | — |")
    continue
  fi
  sleep 1
  base_kb="$(status_kb "$SERVER_PID" VmRSS)"
  out="$WORK_DIR/logs/idleconns-$server.out"
  errf="$WORK_DIR/logs/idleconns-$server.err"
  # Hold far longer than needed; it is stopped explicitly below.
  "$IDLECONNS" "$CONNS" "$ADDR" 600 >"$out" 2>"$errf" </dev/null &
  IDLE_PID=$!
  ready="$(wait_ready "$out" 120)" # up to 120 s to open and answer every connection
  if [ -z "$ready" ]; then
    warn "$server: idleconns did not finish; stderr tail:"; tail -3 "$errf" >&2 || true
    ROWS+=("| $server | $(( base_kb / 1024 )) MiB | — | — | — | idleconns failed | — |")
    stop_idle; stop_server; continue
  fi
  read -r _ ok failed <<<"$ready"
  sleep "$SETTLE"
  rss_kb="$(status_kb "$SERVER_PID" VmRSS)"
  fds="$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  est="$(ss -Htn state established "sport = :$PORT" 2>/dev/null | wc -l)"
  alive=yes; kill -0 "$SERVER_PID" 2>/dev/null || alive=no
  per_conn="—"
  if [ "$ok" -gt 0 ] && [ -n "$rss_kb" ]; then
    per_conn="$(awk -v r="$rss_kb" -v b="$base_kb" -v n="$ok" 'BEGIN {printf "%.0f", (r - b) * 1024 / n}')"
  fi
  log "$server: baseline ${base_kb} kB, with $ok idle conns ${rss_kb} kB -> $per_conn B/conn ($failed failed, server fds $fds, established $est, alive $alive)"
  ROWS+=("| $server | $(awk -v k="$base_kb" 'BEGIN {printf "%.1f MiB", k / 1024}') | $(awk -v k="$rss_kb" 'BEGIN {printf "%.1f MiB", k / 1024}') | $(awk -v a="$rss_kb" -v b="$base_kb" 'BEGIN {printf "%.1f MiB", (a - b) / 1024}') | **$per_conn** | $ok ok, $failed failed | $fds |")
  stop_idle
  stop_server
done

MD="$RESULTS_DIR/memory-$DATE_TAG.md"
{
  echo "# Memory per idle keep-alive connection"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Kernel: $(uname -r)"
  echo "- CPU: $(cpu_model) ($(nproc) CPUs online)"
  echo "- Command: \`$CMD_LINE\`"
  echo "- Shockwave commit: $(git_rev)"
  echo "- Method: server started unpinned (threads: ${USER_THREADS:-the default of each server: 1 for the peers, its own for shockwave}); baseline VmRSS read 1 s after it answers; \`idleconns $CONNS\` opens $CONNS keep-alive connections, sends \`GET / HTTP/1.1\` on each and reads the answer, then leaves them idle; ${SETTLE} s later VmRSS is read again. bytes/conn = (RSS − baseline) / connections answered."
  echo "- RSS counts the server's user-space memory only; kernel socket buffers (the same for every server) are not in it."
  echo "- RLIMIT_NOFILE: script/server $NOFILE; idleconns raises its own soft limit to the hard limit ($(ulimit -Hn))."
  echo
  echo "| server | baseline RSS | RSS with $CONNS idle conns | Δ RSS | bytes / idle conn | connections | server fds |"
  echo "|---|--:|--:|--:|--:|--:|--:|"
  printf '%s\n' "${ROWS[@]}"
} >"$MD"
cp "$MD" "$RESULTS_DIR/memory-latest.md"
cat "$MD"
log "wrote $MD (and memory-latest.md)"
