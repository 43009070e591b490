#!/usr/bin/env bash
# Install the pinned Claude Code CLI into <repo>/.tools (gitignored). Idempotent: a no-op when that
# version is already there. tests/claude_cli.py finds it at .tools/node_modules/.bin/claude.
# The npm package ships the native binary in a per-platform optional dependency
# (@anthropic-ai/claude-code-linux-x64, ~400 MB) fetched from the npm registry itself: no other host.
set -euo pipefail

VERSION="${CLAUDE_CODE_VERSION:-2.1.332}"  # keep in sync with tests/claude_cli.py
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$ROOT/.tools"
BIN="$PREFIX/node_modules/.bin/claude"
PKG="$PREFIX/node_modules/@anthropic-ai/claude-code"

installed() {
    [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "$VERSION (Claude Code)" ]
}

if installed; then
    echo "claude $VERSION already installed in $PREFIX"
    exit 0
fi

command -v npm >/dev/null || { echo "install-claude: npm not found" >&2; exit 1; }
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$VERSION"

# The postinstall (install.cjs) puts the native binary in place of the bin/claude.exe stub. npm runs
# it today; should a future npm skip install scripts, run it by hand.
if ! installed && [ -f "$PKG/install.cjs" ]; then
    (cd "$PKG" && node install.cjs)
fi

if ! installed; then
    echo "install-claude: $BIN does not report version $VERSION" >&2
    exit 1
fi
echo "installed claude $VERSION in $PREFIX"
