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
# The installation and the server start are scripts/browser-lib.sh's, shared with
# scripts/browser-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

BROWSER_TAG=browser
# shellcheck source=scripts/browser-lib.sh
source scripts/browser-lib.sh
browser_setup

# every feature on, as scripts/test.sh builds the tests: the library is compiled once
cargo build --quiet --example forms --all-features
browser_start "$BROWSER_WORK/server.log" forms 127.0.0.1:0
addr=$BROWSER_ADDR

if ! timeout 120 node tests/browser/forms.mjs "http://$addr/"; then
    echo "browser: FAIL: tests/browser/forms.mjs against http://$addr/; the server said:" >&2
    cat "$BROWSER_WORK/server.log" >&2
    exit 1
fi
