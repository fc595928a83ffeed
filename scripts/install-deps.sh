#!/usr/bin/env bash
# Installs the named commands from Debian packages when they are missing.
# usage: scripts/install-deps.sh CMD[:PACKAGE] ...
set -euo pipefail
missing=()
for spec in "$@"; do
    cmd=${spec%%:*}
    pkg=${spec#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
