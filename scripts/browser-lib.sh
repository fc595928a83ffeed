# shellcheck shell=bash
# Shared by scripts/browser.sh and scripts/browser-test.sh: Debian's Chromium, Node and
# playwright-core (npm, the exact version pinned in tests/browser/package-lock.json, installed into
# target/browser so nothing lands in the tree), examples started on 127.0.0.1:0 with their
# printed address read back, and the cleanup of all of it. Sourced, not run; expects
# `set -euo pipefail` and the repository root as the working directory, and BROWSER_TAG set to
# the name its messages start with.

browser_skip() {
    echo "$BROWSER_TAG: skipped: $*"
    exit 0
}

# Installs what is missing, or skips (exit 0) when Chromium, Node >= 20 or playwright-core cannot
# be had. Sets CHROMIUM, BROWSER_TARGET (cargo's target directory) and BROWSER_NODE_DIR (where
# node_modules/playwright-core is), and BROWSER_WORK, a fresh directory removed on exit.
browser_setup() {
    scripts/install-deps.sh chromium:chromium || browser_skip "cannot install Debian's chromium"
    scripts/install-deps.sh node:nodejs npm:npm || browser_skip "cannot install node and npm"
    CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
    [ -x "$CHROMIUM" ] || browser_skip "no Chromium at $CHROMIUM"
    local node_major
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$node_major" -ge 20 ] || browser_skip "playwright-core needs Node >= 20, this is $(node --version)"

    # playwright-core, exactly as locked; reinstalled only when the lock file changes
    BROWSER_TARGET=${CARGO_TARGET_DIR:-target}
    BROWSER_NODE_DIR=$(mkdir -p "$BROWSER_TARGET/browser" && cd "$BROWSER_TARGET/browser" && pwd)
    if ! cmp -s tests/browser/package-lock.json "$BROWSER_NODE_DIR/package-lock.json" ||
        [ ! -f "$BROWSER_NODE_DIR/node_modules/playwright-core/package.json" ]; then
        cp tests/browser/package.json tests/browser/package-lock.json "$BROWSER_NODE_DIR/"
        # --ignore-scripts: playwright-core downloads nothing, and must not (Chromium is Debian's)
        (cd "$BROWSER_NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
            { rm -f "$BROWSER_NODE_DIR/package-lock.json"; browser_skip "cannot install playwright-core with npm"; }
    fi
    export CHROMIUM BROWSER_NODE_DIR
    BROWSER_WORK=$(mktemp -d)
    trap browser_cleanup EXIT
}

BROWSER_PIDS=()
browser_cleanup() {
    local pid
    for pid in "${BROWSER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$BROWSER_WORK"
}

# browser_start LOG [NAME=VALUE...] EXAMPLE [ARG...]: runs target/debug/examples/EXAMPLE with those
# environment variables (and ADDR=127.0.0.1:0 unless given), stdout and stderr in LOG, and waits
# up to 10 s for the address it prints (`... http://ADDR/` or `https://ADDR/`), put in BROWSER_ADDR.
browser_start() {
    local log=$1 pid envs=(ADDR=127.0.0.1:0)
    shift
    while [[ $1 == *=* ]]; do
        envs+=("$1")
        shift
    done
    local example=$1
    shift
    : >"$log" # there before the first look at it (the background job opens it when it starts)
    env "${envs[@]}" "$BROWSER_TARGET/debug/examples/$example" "$@" >>"$log" 2>&1 &
    pid=$!
    BROWSER_PIDS+=("$pid")
    BROWSER_ADDR=""
    for _ in $(seq 100); do
        BROWSER_ADDR=$(sed -n 's|.*https\{0,1\}://\([^/]*\)/.*|\1|p' "$log" | head -n 1)
        [ -n "$BROWSER_ADDR" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "$BROWSER_TAG: FAIL: examples/$example printed no address:" >&2
    cat "$log" >&2
    exit 1
}
