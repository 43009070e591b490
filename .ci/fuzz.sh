#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS (default 20) each. Installs cargo-fuzz from
# crates.io when missing. Uses the nightly toolchain when there is one, else stable with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz passes -Z flags). Exit status: 1 when a target crashed, 0 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-1}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz || { echo "FUZZ SKIPPED: could not install cargo-fuzz"; exit 0; }
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    run=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    run=(cargo fuzz)
    echo "(no nightly toolchain: stable with RUSTC_BOOTSTRAP=1)"
fi
extra=()
if [ "$jobs" -gt 1 ]; then extra=(-jobs="$jobs" -workers="$jobs"); fi
status=0
for target in $("${run[@]}" list); do
    mkdir -p "corpus/$target"
    echo "-- $target: ${seconds}s"
    if ! "${run[@]}" run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=65536 \
        "${extra[@]}" -print_final_stats=1 2>&1 | tail -n 12; then
        echo "FUZZ FAILED: $target (see fuzz/artifacts/$target)"
        status=1
    fi
done
exit $status
