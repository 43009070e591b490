#!/usr/bin/env bash
# Debian's Chromium for the console's browser tests (tests/console/test_browser.py), which drive it
# with the PyPI `playwright` package through executable_path: Playwright's own browser download is
# never used (closed networks reach the distribution's mirror, not a browser CDN).
# Idempotent; without root or apt-get it only says so, and the browser tests skip with that reason.
set -uo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "install-chromium: not root or no apt-get; install Debian's chromium to run the browser tests" >&2
    exit 0
fi
echo "install-chromium: installing Debian's chromium and fonts-dejavu-core system-wide with apt-get (as root)," \
    "for the console's browser tests only; remove with: apt-get remove chromium fonts-dejavu-core"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-dejavu-core >/dev/null \
    && echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null)" \
    || echo "install-chromium: apt-get failed; the browser tests will skip" >&2
exit 0
