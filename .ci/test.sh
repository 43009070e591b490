#!/usr/bin/env bash
# What `make test` runs, for people and CI alike: cargo test, then pytest on tests/ and on benches/
# (the engine/baseline agreement; each benchmark runs once). Every part runs even when an earlier
# one failed; the exit status is 1 when any failed. pytest's exit status is made strict: 5 (no
# tests collected) is a failure, so a mistyped path or an over-eager filter cannot pass. Each part
# prints its pytest summary line and its wall-clock time. PYTEST_ARGS adds arguments to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
failed=()
summaries=()
timings=()

timed() {
    local name=$1 started=$SECONDS
    shift
    "$@"
    local status=$?
    timings+=("$(printf '%-16s %5ss' "$name" "$((SECONDS - started))")")
    return $status
}

run_pytest() {
    local name=$1
    shift
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/maskgate-test-$name.XXXXXX")
    # shellcheck disable=SC2086
    "$PY" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} "$@" 2>&1 | tee "$log" | tail -n 40
    local status=${PIPESTATUS[0]}
    local summary
    summary=$(grep -E '^=+ .*(passed|failed|error|skipped|xfailed|deselected|no tests ran).* =+$' "$log" | tail -n 1)
    rm -f "$log"
    echo "pytest summary ($name): ${summary:-<none>}"
    summaries+=("$name: ${summary:-<no summary line: pytest exited $status>}")
    if [ "$status" -eq 5 ]; then
        failed+=("pytest $name collected no tests (exit 5): check the paths and -k/-m filters")
    elif [ "$status" -ne 0 ]; then
        failed+=("pytest $name (exit $status)")
    fi
}

run_cargo() {
    echo "== cargo test"
    cargo test --quiet 2>&1 | tail -n 30
    [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("cargo test")
}

timed "cargo test" run_cargo
if [ -n "${MASKGATE_TEST_INSTALLED:-}" ]; then
    # CI: pytest runs against the wheel `make install` put in the venv, with no Rust toolchain on
    # PATH, so a wheel that lacks a file the source tree has (catalogue, templates, stub) fails here.
    PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '/\.cargo/' -e '/\.rustup/' | paste -sd: -)
    export PATH
    if command -v cargo >/dev/null 2>&1 || command -v rustc >/dev/null 2>&1; then
        failed+=("a Rust toolchain is still on PATH for pytest ($(command -v cargo rustc | head -n 1))")
    fi
    where=$("$PY" -c 'import maskgate; print(maskgate.__file__)')
    echo "pytest runs against $where (no cargo, no rustc on PATH)"
    case "$where" in
        */site-packages/maskgate/*) ;;
        *) failed+=("maskgate is imported from $where, not from the installed wheel") ;;
    esac
fi
echo "== pytest tests"
timed "pytest tests" run_pytest tests tests
echo "== pytest benches"
timed "pytest benches" run_pytest benches benches

printf '\n== make test\n'
printf '%s\n' "${timings[@]}" "${summaries[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "make test: passed"
