#!/usr/bin/env bash
# Instructions per keep-alive request, counted by callgrind: repeatable where wall time on
# this shared VM is not. Runs examples/hello (one poller, one worker) under valgrind, warms it
# up with WARM requests, zeroes the counters, sends REQS more over CONNS keep-alive
# connections (one request in flight per connection), and divides. Two figures: everything
# the process ran, and only Shockwave's own functions on the request path (the first also
# counts how often threads happened to park and wake, which varies by ~2% run to run under
# valgrind's scheduler; the second varies less, by ~1%: compare builds on it, over runs).
#   scripts/bench-callgrind.sh            # 20000 requests over 64 connections
#   BIN=path/to/hello scripts/bench-callgrind.sh   # another build (an A/B)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh valgrind callgrind_control:valgrind python3
REQS=${REQS:-20000}
WARM=${WARM:-2000}
CONNS=${CONNS:-64}
PORT=${PORT:-18321}
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --example hello
    BIN=target/release/examples/hello
fi
OUT=$(mktemp -d)
SHOCKWAVE_POLLERS=1 SHOCKWAVE_WORKERS=1 valgrind --tool=callgrind --compress-strings=no --compress-pos=no --callgrind-out-file="$OUT/cg.%p" \
    "$BIN" "127.0.0.1:$PORT" >/dev/null 2>"$OUT/valgrind.log" &
VG=$!
trap 'kill $VG 2>/dev/null || true; rm -rf "$OUT"' EXIT
load() {
    python3 - "$PORT" "$1" "$CONNS" <<'PY'
import selectors, socket, sys
port, total, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
req = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
sel = selectors.DefaultSelector()
left = {}
per = total // conns
for _ in range(conns):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    left[s] = [per - 1, b""]
    sel.register(s, selectors.EVENT_READ)
done = 0
while done < conns:
    for key, _ in sel.select(timeout=30):
        s = key.fileobj
        st = left[s]
        st[1] += s.recv(65536)
        while b"Hello, World!" in st[1]:
            st[1] = st[1].split(b"Hello, World!", 1)[1]
            if st[0] == 0:
                sel.unregister(s); s.close(); done += 1
                break
            st[0] -= 1
            s.sendall(req)
PY
}
for _ in $(seq 600); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.1
done
load "$WARM"
callgrind_control -z "$VG" >/dev/null
load "$REQS"
callgrind_control -d "$VG" >/dev/null
sleep 1
f=$(ls -t "$OUT"/cg.* | head -1)
[ -n "${KEEP:-}" ] && cp "$f" "$KEEP"   # for callgrind_annotate
python3 - "$f" "$REQS" "$CONNS" "$BIN" <<'PY'
import re, sys
path, reqs = sys.argv[1], int(sys.argv[2])
total = own = 0
fn, after_call = "", False
for line in open(path):
    m = re.match(r"^fn=(?:\(\d+\) ?)?(.*)$", line)
    if m:
        fn = m.group(1)
        continue
    if line.startswith("calls="):
        after_call = True  # the next cost line is the callee's, counted there
        continue
    if line[:1].isdigit() or line[:1] in "+-*":
        parts = line.split()
        if len(parts) >= 2:
            if after_call:
                after_call = False
                continue
            total += int(parts[1])
            if "shockwave::" in fn and not re.search(r"park|monitor|wake", fn):
                own += int(parts[1])
print(f"instructions per request: {total // reqs} in all, {own // reqs} in Shockwave's request path "
      f"({reqs} requests, {sys.argv[3]} connections, {sys.argv[4]})")
PY
