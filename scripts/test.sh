#!/usr/bin/env bash
# The README's test command. Installs what the tests need (curl, python3, prlimit, go, nginx),
# runs every test target and the doctests, the shared RFC 9112 conformance sets against examples/echo, and
# examples/hello and examples/echo behind real nginx and HAProxy (scripts/proxies.sh), and headless
# Chromium driving examples/forms through Playwright (scripts/browser.sh) and loading a whole site
# from examples/files with a WebSocket to examples/websocket (scripts/browser-test.sh), and rolling restarts
# by every mechanism through nginx and HAProxy under load with 0 failed requests
# (scripts/rolling-restart.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh curl python3 prlimit:util-linux
scripts/install-deps.sh go:golang-go || echo "test: cannot install Go: the Go net/http client test will be skipped"
PATH="$PATH:/usr/sbin:/sbin" scripts/install-deps.sh nginx:nginx-light ||
    echo "test: cannot install nginx: the client's nginx tests (tests/client_peers.rs) will be skipped"
python3 -c "import requests" 2>/dev/null || python3 -m pip install -q requests || echo "test: cannot install Python's requests"
python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets || echo "test: cannot install Python's websockets: its test in tests/websocket.rs will be skipped"
cargo build --examples   # tests/limits.rs runs examples/hello as a subprocess
# every feature on: the feature-gated APIs are tested (and their doc examples run) too
cargo test --all-targets --all-features
cargo test --doc --all-features
scripts/browser.sh
scripts/browser-test.sh
scripts/conformance.sh
scripts/proxies.sh
scripts/rolling-restart.sh
