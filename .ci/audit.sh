#!/usr/bin/env bash
# Dependency audit: pip-audit on requirements.lock (pinned, hashed) and cargo audit on Cargo.lock.
# Fails on a known vulnerability. When an advisory database cannot be reached from this machine
# (PyPI's JSON API, the RustSec database on GitHub), says so plainly and does not fail.
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
tools=.tools/audit
if [ ! -x "$tools/bin/pip-audit" ]; then
    python3 -m venv "$tools" && "$tools/bin/pip" install -q pip-audit==2.10.1 ||
        { echo "AUDIT SKIPPED: could not install pip-audit"; tools=""; }
fi
if [ -n "$tools" ]; then
    echo "-- pip-audit -r requirements.lock"
    out=$("$tools/bin/pip-audit" -r requirements.lock --disable-pip --progress-spinner off 2>&1)
    code=$?
    total=$(grep -cE '^[A-Za-z0-9_.-]+==' requirements.lock)
    skipped=$(grep -c 'could not be audited' <<<"$out")
    echo "$out" | grep -v 'could not be audited' | tail -n 30
    if [ "$skipped" -ge "$total" ]; then
        echo "AUDIT INCOMPLETE: pip-audit could audit none of the $total pinned packages (PyPI's"
        echo "  vulnerability data is not reachable from this machine); the lock file is pinned and hashed."
    elif [ "$code" -ne 0 ]; then
        echo "AUDIT FAILED: pip-audit reports known vulnerabilities"
        status=1
    else
        echo "pip-audit: no known vulnerabilities ($skipped of $total packages could not be audited)"
    fi
fi

echo "-- cargo audit"
if ! timeout 20 git ls-remote --heads https://github.com/rustsec/advisory-db.git >/dev/null 2>&1; then
    # Compiling cargo-audit takes ~16 minutes here; without its database it could audit nothing.
    echo "AUDIT INCOMPLETE: the RustSec advisory database (on GitHub) cannot be fetched from this machine;"
    echo "  Cargo.lock is committed and every crate version is pinned by it."
    exit $status
fi
if ! command -v cargo-audit >/dev/null 2>&1; then
    # A fresh machine compiles it (minutes); bounded so CI stays well within its time.
    timeout 900 cargo install --locked cargo-audit >/dev/null 2>&1 || echo "AUDIT SKIPPED: could not install cargo-audit"
fi
if command -v cargo-audit >/dev/null 2>&1; then
    out=$(timeout 300 cargo audit 2>&1)
    code=$?
    echo "$out" | tail -n 20
    if grep -qiE "couldn't fetch|failed to fetch|error.*(advisory|database|git)|resolve|network" <<<"$out" &&
        ! grep -q 'Vulnerable crates found' <<<"$out"; then
        echo "AUDIT INCOMPLETE: the RustSec advisory database (on GitHub) cannot be fetched from this machine"
    elif [ "$code" -ne 0 ]; then
        echo "AUDIT FAILED: cargo audit reports known vulnerabilities"
        status=1
    fi
fi
exit $status
