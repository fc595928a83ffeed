#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60: the CI smoke), one after another, from the
# committed seeds in tests/fuzz/corpus. Needs cargo-fuzz (installed if missing) and uses the
# stable toolchain with RUSTC_BOOTSTRAP=1, as cargo-fuzz's sanitizer flags require.
#   scripts/fuzz.sh               # 60 s per target
#   SECONDS_PER_TARGET=1800 scripts/fuzz.sh parse_head   # a long run of one target
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
T=${SECONDS_PER_TARGET:-60}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_head chunked connection multipart response proxy)
for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${T}s"
    log=$(mktemp)
    rc=0
    RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz "$t" -- -max_total_time="$T" -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    grep -E "^(#[0-9]+ +DONE|Done|stat::|==[0-9]+==|.*panicked)" "$log" || true
    if ls tests/fuzz/artifacts/"$t"/crash-* >/dev/null 2>&1; then
        echo "fuzz: $t found a crash: tests/fuzz/artifacts/$t/" >&2
        exit 1
    fi
    if [ $rc -ne 0 ]; then # a build failure, or the fuzzer stopping on something else
        tail -n 30 "$log" >&2
        echo "fuzz: $t failed (exit $rc)" >&2
        exit 1
    fi
    rm -f "$log"
done
