# shellcheck shell=bash
# Shared helpers for scripts/bench-peers.sh and scripts/bench-memory.sh.
# Sourced, not run. Expects `set -euo pipefail` in the caller.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDR="${ADDR:-127.0.0.1:8080}"
PORT="${ADDR##*:}"
PEERS_DIR="$ROOT/benches/peers"
PEERS_BIN="$PEERS_DIR/target/release"
FASTHTTP_BIN="$PEERS_DIR/target/fasthttp-hello"
FASTHTTP_JSON_BIN="$PEERS_DIR/target/fasthttp-json"
SHOCKWAVE_BUILT="$ROOT/target/release/examples/hello"
# The benchmarks run a private copy, so a concurrent `cargo build` (or a
# `pkill hello`) elsewhere in the tree cannot swap or stop it mid-run.
SHOCKWAVE_BIN="$ROOT/target/bench-peers/bin/shockwave-hello"
# The same for the JSON example (scripts/bench-json.sh stages it there).
SHOCKWAVE_JSON_STAGED="$ROOT/target/bench-peers/bin/shockwave-json"
RESULTS_DIR="$ROOT/benches/results"
WORK_DIR="$ROOT/target/bench-peers"
BUILD_TIMEOUT="${BUILD_TIMEOUT:-1800}"

SERVER_PID=""
WRK_PID=""
SERVER_NAME=""
WATCHDOG_PID=""
# What start_server asks for: it waits until SERVER_READY_PATH answers 200, then warns unless
# SERVER_CHECK_PATH's body is SERVER_CHECK_BODY. Callers serving something else set these.
SERVER_READY_PATH="/"
SERVER_CHECK_PATH="/bench/check"
SERVER_CHECK_BODY="Hello, World!"
# https for TLS servers (scripts/bench-tls.sh); curl does not verify their self-signed certificate.
SERVER_SCHEME="http"

log() { printf '[%s] %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
warn() { printf '[%s] WARNING: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

APT_UPDATED=""
apt_install() {
  [ "$#" -gt 0 ] || return 0
  command -v apt-get >/dev/null || die "missing $*, and no apt-get to install them"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    as_root timeout 600 apt-get update -qq || warn "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -qq "$@" >&2 \
    || die "apt-get install $* failed"
}

# Base tools every benchmark needs.
ensure_tools() {
  local pkgs=()
  command -v wrk >/dev/null || pkgs+=(wrk)
  command -v curl >/dev/null || pkgs+=(curl)
  command -v ss >/dev/null || pkgs+=(iproute2)
  command -v taskset >/dev/null || pkgs+=(util-linux)
  command -v python3 >/dev/null || pkgs+=(python3)
  apt_install "${pkgs[@]}"
  command -v cargo >/dev/null || die "cargo not found"
}

# Go toolchain + Debian's fasthttp source (GOPATH mode, fully offline build).
ensure_go() {
  local pkgs=()
  command -v go >/dev/null || pkgs+=(golang-go)
  [ -d /usr/share/gocode/src/github.com/valyala/fasthttp ] || pkgs+=(golang-github-valyala-fasthttp-dev)
  apt_install "${pkgs[@]}"
}

build_peers() {
  log "building benches/peers (cargo build --release)"
  (cd "$PEERS_DIR" && timeout "$BUILD_TIMEOUT" cargo build --release --quiet) \
    || die "benches/peers build failed"
}

# build_go_peer DIR OUT: a Go peer in benches/peers/DIR, built offline against Debian's fasthttp.
build_go_peer() {
  ensure_go
  log "building $1 peer (go, GOPATH mode, Debian's fasthttp)"
  mkdir -p "$PEERS_DIR/target"
  (cd "$PEERS_DIR/$1" && env -u GOFLAGS GO111MODULE=off GOPATH=/usr/share/gocode \
     GOCACHE="$PEERS_DIR/target/go-cache" timeout "$BUILD_TIMEOUT" go build -o "$2" .) \
    || die "$1 build failed"
}
build_fasthttp() { build_go_peer fasthttp "$FASTHTTP_BIN"; }
build_fasthttp_json() { build_go_peer fasthttp-json "$FASTHTTP_JSON_BIN"; }

# Returns non-zero (with a warning) if Shockwave's example does not build.
build_shockwave() {
  log "building shockwave (cargo build --release --example hello)"
  if (cd "$ROOT" && timeout "$BUILD_TIMEOUT" cargo build --release --example hello --quiet) \
      && stage_shockwave; then
    return 0
  fi
  warn "shockwave example 'hello' did not build: shockwave will be skipped"
  return 1
}

stage_shockwave() {
  [ -x "$SHOCKWAVE_BUILT" ] || return 1
  mkdir -p "$(dirname "$SHOCKWAVE_BIN")"
  cp -f "$SHOCKWAVE_BUILT" "$SHOCKWAVE_BIN.tmp" && mv -f "$SHOCKWAVE_BIN.tmp" "$SHOCKWAVE_BIN"
}

server_bin() {
  case "$1" in
    shockwave) echo "$SHOCKWAVE_BIN" ;;
    fasthttp) echo "$FASTHTTP_BIN" ;;
    hyper) echo "$PEERS_BIN/hyper-hello" ;;
    actix) echo "$PEERS_BIN/actix-hello" ;;
    may_minihttp) echo "$PEERS_BIN/may-hello" ;;
    tiny_http) echo "$PEERS_BIN/tiny-hello" ;;
    astra) echo "$PEERS_BIN/astra-hello" ;;
    floor) echo "$PEERS_BIN/floor" ;;
    # TechEmpower json servers (scripts/bench-json.sh): GET /json only.
    shockwave-json) echo "$SHOCKWAVE_JSON_STAGED" ;;
    may-json) echo "$PEERS_BIN/may-json" ;;
    actix-json) echo "$PEERS_BIN/actix-json" ;;
    fasthttp-json) echo "$FASTHTTP_JSON_BIN" ;;
    */*) echo "$1" ;; # a path: a binary that serves hello like examples/hello (scripts/bench-ab.sh)
    *) return 1 ;;
  esac
}

# A wrk scenario: connections; extra wrk arguments (before the URL) and script arguments
# (after it), one per line.
scenario_conns() {
  case "$1" in ka256) echo 256 ;; *) echo 64 ;; esac
}
scenario_args() {
  case "$1" in
    pipe16) printf '%s\n' -s "$ROOT/scripts/wrk/pipeline.lua" ;;
    close64) printf '%s\n' -H "Connection: close" ;;
  esac
}
scenario_tail() {
  case "$1" in pipe16) printf '%s\n' -- 16 ;; esac
}

port_busy() { ss -Htln "sport = :$PORT" 2>/dev/null | grep -q .; }

wait_port_free() {
  local i
  for i in $(seq 100); do
    port_busy || return 0
    sleep 0.1
  done
  return 1
}

# start_server NAME CPU_LIST_OR_EMPTY VAR=VALUE...  -> sets SERVER_PID
# The server gets exactly the given variables on top of the environment
# (THREADS / SHOCKWAVE_* from the caller's environment are removed first,
# except SHOCKWAVE_WORKERS, which is passed through when set).
start_server() {
  local name="$1" cpus="$2"; shift 2
  local bin logf pin=()
  bin="$(server_bin "$name")" || die "unknown server $name"
  [ -x "$bin" ] || { warn "$name: binary $bin missing"; return 1; }
  wait_port_free || die "port $PORT is busy (another process listens on it); not starting $name"
  mkdir -p "$WORK_DIR/logs"
  logf="$WORK_DIR/logs/${name##*/}${LOG_TAG:+-$LOG_TAG}.log"
  [ -n "$cpus" ] && pin=(taskset -c "$cpus")
  # env and taskset both exec, so $! is the server process itself.
  env -u THREADS -u SHOCKWAVE_POLLERS -u GOMAXPROCS "$@" "${pin[@]}" "$bin" "$ADDR" >"$logf" 2>&1 &
  SERVER_PID=$!
  SERVER_NAME="$name"
  # Watchdog: if this script dies without running its traps (SIGKILL), the
  # server is killed within a second anyway.
  # (sleep runs in the background + wait, so a TERM from stop_server
  # interrupts the wait at once and the trap reaps the sleep too.)
  local me=$$ spid=$SERVER_PID
  ( nap=""
    trap '[ -n "$nap" ] && { kill "$nap"; wait "$nap"; } 2>/dev/null; exit 0' TERM
    while kill -0 "$me" 2>/dev/null && kill -0 "$spid" 2>/dev/null; do
      sleep 1 & nap=$!; wait "$nap" || true; nap=""
    done
    kill -KILL "$spid" 2>/dev/null ) >/dev/null 2>&1 </dev/null &
  WATCHDOG_PID=$!
  local i code
  for i in $(seq 150); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      warn "$name exited during startup; log tail:"; tail -5 "$logf" >&2 || true
      stop_server; return 1
    fi
    code="$(curl -sk -m 1 -o /dev/null -w '%{http_code}' "$SERVER_SCHEME://$ADDR$SERVER_READY_PATH" 2>/dev/null || true)"
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  SERVER_LOG="$logf"
  if [ "$code" != 200 ]; then
    warn "$name did not answer 200 within 15 s (last code '$code')"; stop_server; return 1
  fi
  # Make sure the listener really is ours (not some other process that took
  # the port in the meantime): ss shows the owning pid.
  # (SO_REUSEPORT servers can share a port, so every listener must be ours.)
  local listeners; listeners="$(ss -Htlnp "sport = :$PORT" 2>/dev/null || true)"
  if ! grep -q "pid=$SERVER_PID," <<<"$listeners" || grep -v "pid=$SERVER_PID," <<<"$listeners" | grep -q .; then
    warn "$name: port $PORT is not served by our pid $SERVER_PID: $(ss -Htlnp "sport = :$PORT" | head -2 | tr '\n' ' ')"
    stop_server; return 1
  fi
  local body
  body="$(curl -sk -m 2 "$SERVER_SCHEME://$ADDR$SERVER_CHECK_PATH" || true)"
  [ "$body" = "$SERVER_CHECK_BODY" ] || warn "$name answered an unexpected body: '${body:0:60}'"
  log "$name started (pid $SERVER_PID${cpus:+, cpus $cpus})"
}

stop_server() {
  if [ -n "$WATCHDOG_PID" ]; then
    kill "$WATCHDOG_PID" 2>/dev/null || true
    wait "$WATCHDOG_PID" 2>/dev/null || true
    WATCHDOG_PID=""
  fi
  [ -n "$SERVER_PID" ] || return 0
  local i
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for i in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  wait_port_free || warn "port $PORT still busy after stopping $SERVER_NAME"
}

# prepare_servers VAR: builds what the servers listed in $VAR need (with NO_BUILD set, only stages
# an already built Shockwave); a Shockwave that fails to build is dropped from the list with a warning.
prepare_servers() {
  local -n list="$1"
  if [ -z "${NO_BUILD:-}" ]; then
    build_peers
    [[ " $list " == *" fasthttp "* ]] && build_fasthttp
    if [[ " $list " == *" shockwave "* ]] && ! build_shockwave; then
      list="$(tr ' ' '\n' <<<"$list" | grep -vx shockwave | tr '\n' ' ')"
    fi
  elif [[ " $list " == *" shockwave "* ]]; then
    stage_shockwave || warn "no built shockwave example (target/release/examples/hello)"
  fi
  return 0
}

# command_line SCRIPT VAR...: the exact command for the report, with every knob the caller set.
command_line() {
  local script="$1" v env=""
  shift
  for v in "$@"; do
    if [ -n "${!v+x}" ]; then
      case "${!v}" in
        *[!A-Za-z0-9_.:/,-]*|"") env+="$v=\"${!v}\" " ;;
        *) env+="$v=${!v} " ;;
      esac
    fi
  done
  echo "${env}scripts/$script"
}

# utime+stime of a whole process (all threads), in clock ticks.
# Fields 14 and 15 of /proc/PID/stat; parsed after the ")" closing comm.
cpu_ticks() {
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo ""; return 0; }
  s="${s##*) }"
  awk '{print $12 + $13}' <<<"$s"
}

# CPU ticks of a process and its children (nginx: master + worker).
tree_ticks() {
  local t=0 p x
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    x="$(cpu_ticks "$p")"; t=$(( t + ${x:-0} ))
  done
  echo "$t"
}

# CPU used during a run by anything but the server and the load tool, as % of all CPUs:
# other_pct "HOST_CPU_BEFORE" "HOST_CPU_AFTER" SERVER_TICKS CLIENT_TICKS (host_cpu's output).
other_pct() {
  awk -v a="$1" -v b="$2" -v sv="$3" -v wk="$4" 'BEGIN {split(a, x, " "); split(b, y, " ");
    tot = y[2] - x[2]; o = (y[1] - x[1] - sv - wk) / tot * 100; if (o < 0) o = 0; if (tot > 0) printf "%.0f", o}'
}

# status_kb PID FIELD  (VmRSS, VmHWM, ...) -> kB
status_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || true; }

# Seconds in a wrk-style duration (5, 5s, 2m, 1h).
duration_secs() {
  local d="$1"
  case "$d" in
    *ms) echo 1 ;;
    *s) echo "${d%s}" ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *h) echo $(( ${d%h} * 3600 )) ;;
    *) echo "$d" ;;
  esac
}

cpu_model() { awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo; }

git_rev() {
  (cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo "no-commit") | tr -d '\n'
  (cd "$ROOT" && [ -n "$(git status --porcelain 2>/dev/null)" ] && printf '+dirty') || true
}

crate_version() {
  awk -v n="$1" '$0 == "name = \"" n "\"" {getline; gsub(/version = |"/, ""); print; exit}' \
    "$PEERS_DIR/Cargo.lock" 2>/dev/null
}

# Does the server close the connection after answering a request that has
# `Connection: close`? Prints "closed" or "open" (or "error").
probe_close() {
  timeout 10 python3 - "$ADDR" <<'PY' 2>/dev/null || echo error
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=2)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(1.0)
try:
    while s.recv(4096):
        pass
    print("closed")
except socket.timeout:
    print("open")
PY
}

# "busy total" jiffies over all CPUs, from the first line of /proc/stat.
host_cpu() {
  awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat
}

# utime+stime of the children a process has waited for (cutime+cstime).
child_ticks() {
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return 0; }
  s="${s##*) }"
  awk '{print $14 + $15}' <<<"$s"
}

# The idle-connection load tool of the memory benchmarks (idleconns, tlsload idle), if running.
IDLE_PID=""
stop_idle() {
  [ -n "$IDLE_PID" ] || return 0
  kill -TERM "$IDLE_PID" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$IDLE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$IDLE_PID" 2>/dev/null || true
  wait "$IDLE_PID" 2>/dev/null || true
  IDLE_PID=""
}

# wait_ready FILE SECS: prints the `READY <ok> <failed>` line once IDLE_PID has written it to
# FILE; nothing if IDLE_PID exits first or SECS pass.
wait_ready() {
  local i
  for i in $(seq $(( $2 * 10 ))); do
    if grep -q '^READY' "$1" 2>/dev/null; then grep -m1 '^READY' "$1"; return 0; fi
    kill -0 "$IDLE_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 0
}

# On exit or interrupt: stop a wrk still running (WRK_PID), run the caller's own clean-up
# (CLEANUP_EXTRA, a function name, if set), stop the server, and keep the exit status.
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$WRK_PID" ]; then # timeout(1) passes the TERM on to wrk
    kill -TERM "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" 2>/dev/null || true
  fi
  [ -z "${CLEANUP_EXTRA:-}" ] || "$CLEANUP_EXTRA"
  stop_server
  exit "$rc"
}

# Installs bench_cleanup for EXIT, INT and TERM.
trap_cleanup() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
