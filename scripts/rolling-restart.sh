#!/usr/bin/env bash
# Restarts Shockwave instances behind real nginx and HAProxy under load, by each mechanism
# (systemd-style socket activation, exec hand-over on SIGUSR2, SO_REUSEPORT + drain), and
# fails unless every request succeeded: see scripts/rolling_restart.py for what it does.
#
# Run: scripts/rolling-restart.sh   (installs nginx-light, haproxy and python3 from Debian's
# packages; without them it prints "rolling-restart: SKIPPED: …" and exits 0)
# Env: ROLLING_DURATION (30 s of load per balancer and mechanism; each instance is restarted
# twice within it), ROLLING_BASE_PORT (18560; three ports from it per balancer and mechanism, 18 in all), ROLLING_SUMMARY (a file the
# result lines are appended to).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin" # nginx and haproxy live in sbin

if ! scripts/install-deps.sh nginx:nginx-light haproxy python3; then
    echo "rolling-restart: SKIPPED: could not install nginx-light, haproxy, python3 (no network or no apt?)"
    exit 0
fi
cargo build --quiet --release --example echo
args=(--echo target/release/examples/echo --duration "${ROLLING_DURATION:-30}")
[ -z "${ROLLING_SUMMARY:-}" ] || args+=(--summary "$ROLLING_SUMMARY")
exec python3 scripts/rolling_restart.py "${args[@]}" "$@"
