#!/usr/bin/env bash
# A real browser uses examples/forms: headless Chromium (Debian's package), driven by Playwright's
# playwright-core (npm, the exact version pinned in tests/browser/package-lock.json, installed into
# target/browser so nothing lands in the tree), runs tests/browser/forms.mjs against the example
# started on 127.0.0.1:0: the CSRF cookie's attributes, the urlencoded form, a ~5 MB upload
# through the file input, and a 403 without the cookie.
#
# Run: scripts/browser.sh   (installs what is missing; if Chromium, Node >= 20 or playwright-core
# cannot be installed it prints "browser: skipped: <reason>" and exits 0; any failure with the tools
# present exits non-zero). Env: CHROMIUM (/usr/bin/chromium). The second run takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() {
    echo "browser: skipped: $*"
    exit 0
}

scripts/install-deps.sh chromium:chromium || skip "cannot install Debian's chromium"
scripts/install-deps.sh node:nodejs npm:npm || skip "cannot install node and npm"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no Chromium at $CHROMIUM"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || skip "playwright-core needs Node >= 20, this is $(node --version)"

# playwright-core, exactly as locked; reinstalled only when the lock file changes
target=${CARGO_TARGET_DIR:-target}
node_dir=$(mkdir -p "$target/browser" && cd "$target/browser" && pwd)
if ! cmp -s tests/browser/package-lock.json "$node_dir/package-lock.json" ||
    [ ! -f "$node_dir/node_modules/playwright-core/package.json" ]; then
    cp tests/browser/package.json tests/browser/package-lock.json "$node_dir/"
    # --ignore-scripts: playwright-core downloads nothing, and must not (Chromium is Debian's)
    (cd "$node_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
        { rm -f "$node_dir/package-lock.json"; skip "cannot install playwright-core with npm"; }
fi

# every feature on, as scripts/test.sh builds the tests: the library is compiled once
cargo build --quiet --example forms --all-features
work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
"$target/debug/examples/forms" 127.0.0.1:0 >"$work/server.log" 2>&1 &
server=$!
addr=""
for _ in $(seq 100); do # up to 10 s for the example to bind and print its address
    addr=$(sed -n 's|.*http://\([^/]*\)/.*|\1|p' "$work/server.log" | head -n 1)
    [ -n "$addr" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "browser: FAIL: examples/forms printed no address:" >&2
    cat "$work/server.log" >&2
    exit 1
fi

if ! BROWSER_NODE_DIR=$node_dir CHROMIUM=$CHROMIUM timeout 120 node tests/browser/forms.mjs "http://$addr/"; then
    echo "browser: FAIL: tests/browser/forms.mjs against http://$addr/; the server said:" >&2
    cat "$work/server.log" >&2
    exit 1
fi
