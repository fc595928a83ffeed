#!/usr/bin/env bash
# Runs the shared RFC 9112 conformance sets (llhttp and Http11Probe raw-byte cases) against
# examples/echo and fails on any FAIL not listed in tests/conformance_exceptions.md.
# The sets live beside the checkout (../shared/conformance) or in $CONFORMANCE_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${CONFORMANCE_DIR:-../shared/conformance}
if [ ! -f "$DIR/run.py" ]; then
    echo "conformance: $DIR/run.py not found; set CONFORMANCE_DIR to run the shared sets (skipped)"
    exit 0
fi
command -v python3 >/dev/null || { echo "conformance: python3 is required" >&2; exit 1; }
cargo build --quiet --example echo
PORT=${CONFORMANCE_PORT:-18181}
target/debug/examples/echo "127.0.0.1:$PORT" >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.05
done
OUT=$(mktemp)
python3 "$DIR/run.py" "$PORT" >"$OUT" 2>"$OUT.sum"
cat "$OUT.sum"
allowed=$(grep -oE '^\| `[^`]+`' tests/conformance_exceptions.md | tr -d '|` ' || true)
unexpected=0
while read -r verdict set name _; do
    if grep -qxF "$name" <<<"$allowed"; then
        echo "  expected FAIL ($set $name): see tests/conformance_exceptions.md"
    else
        echo "  UNEXPECTED $verdict: $set $name"
        grep -F " $name " "$OUT" | sed 's/^/    /'
        unexpected=1
    fi
done < <(grep -E '^(FAIL|ERROR) ' "$OUT")
rm -f "$OUT" "$OUT.sum"
if [ $unexpected -ne 0 ]; then
    echo "conformance: failures not explained in tests/conformance_exceptions.md" >&2
    exit 1
fi
echo "conformance: ok"
