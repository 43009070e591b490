#!/usr/bin/env bash
# The built wheel, as a user gets it: installed with the README's command into a fresh venv outside
# the checkout, with no Rust toolchain (cargo, rustc) on PATH, and used from a directory that is not
# the source tree. Checks: the extension imports and embeds the catalogue; `maskgate mask` /
# `unmask` round-trip; `maskgate scan` finds a key and exits 1; `maskgate doctor` passes; uvicorn
# serves maskgate.server:app and one request goes through it to tests/fake_upstream.py, which must
# see the pseudonym and never the original, while the reply comes back restored.
#
#   bash .ci/wheel-smoke.sh [dist/maskgate-*.whl]      (`make wheel` first)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
if [ $# -ge 1 ]; then wheels=("$1"); else wheels=("$repo"/dist/maskgate-*.whl); fi
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "wheel-smoke: want exactly one dist/maskgate-*.whl (run \`make wheel\`), found ${#wheels[@]}" >&2
    exit 1
fi
wheel=$(cd "$(dirname "${wheels[0]}")" && pwd)/$(basename "${wheels[0]}")
python=$(python3 -c 'import sys; print(sys.executable)')

work=$(mktemp -d "${TMPDIR:-/tmp}/maskgate-wheel.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# PATH without any directory that holds cargo or rustc (node stays: Claude Code needs it).
clean_path=""
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ ! -e "$d/cargo" ] && [ ! -e "$d/rustc" ] && clean_path="${clean_path:+$clean_path:}$d"
done
export PATH="$work/venv/bin:$clean_path"
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
    echo "wheel-smoke: a Rust toolchain is still on PATH" >&2
    exit 1
fi
unset CARGO_TARGET_DIR VIRTUAL_ENV PYTHONPATH
export HOME="$work/home" MASKGATE_HOME="$work/home/maskgate" NO_COLOR=1
mkdir -p "$HOME"
cd "$work"

echo "-- fresh venv at $work/venv (no cargo/rustc on PATH), pip install $(basename "$wheel")"
"$python" -m venv "$work/venv"
pip install --disable-pip-version-check -q "$wheel"
python - <<'EOF'
import maskgate, maskgate._core as core
from pathlib import Path
assert "/venv/" in maskgate.__file__, maskgate.__file__
assert core.BUILTIN_CATALOGUE.count("[[pattern]]") > 0
for f in ("py.typed", "_core.pyi", "patterns/builtin.toml", "console/templates/base.html"):
    assert (Path(maskgate.__file__).parent / f).is_file(), f
print(f"import ok: maskgate {maskgate.__version__} from {maskgate.__file__}")
EOF

MASKGATE_MASTER_KEY=$(maskgate keygen)
export MASKGATE_MASTER_KEY
original="stop i-0123456789abcdef0 in vpc-0a1b2c3d"
masked=$(echo "$original" | maskgate mask)
case "$masked" in *i-0123456789abcdef0* | *vpc-0a1b2c3d*) echo "mask left an original: $masked" >&2; exit 1 ;; esac
[ "$(echo "$masked" | maskgate unmask)" = "$original" ] || { echo "unmask did not restore the original" >&2; exit 1; }
echo "mask/unmask ok: $masked"

echo 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE' >"$work/config.ini"
set +e
maskgate scan "$work/config.ini" >"$work/scan.out"
status=$?
set -e
[ "$status" -eq 1 ] && grep -q config.ini "$work/scan.out" || { echo "scan: exit $status" >&2; cat "$work/scan.out"; exit 1; }
echo "scan ok: $(wc -l <"$work/scan.out") finding(s), exit 1"

python "$repo/tests/fake_upstream.py" --port 0 >"$work/upstream.out" 2>"$work/upstream.err" &
pids+=($!)
for _ in $(seq 100); do grep -q READY "$work/upstream.out" && break; sleep 0.1; done
upstream_port=$(awk '/READY/ {print $2}' "$work/upstream.out")
[ -n "$upstream_port" ] || { echo "fake upstream did not start" >&2; cat "$work/upstream.err"; exit 1; }
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export MASKGATE_UPSTREAM_URL="http://127.0.0.1:$upstream_port" MASKGATE_UPSTREAM_API_KEY=sk-upstream-smoke
export MASKGATE_PORT=$port MASKGATE_CLAUDE_BIN="${MASKGATE_CLAUDE_BIN:-$repo/.tools/node_modules/.bin/claude}"
maskgate doctor || { echo "doctor failed" >&2; exit 1; }

uvicorn maskgate.server:app --host 127.0.0.1 --port "$port" >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS -X POST "http://127.0.0.1:$upstream_port/_fake/script" -H 'content-type: application/json' \
    -d '[{"type": "text", "text": "Stopping {{first:ec2-[0-9]+}} now."}]' >/dev/null
reply=$(curl -fsS "http://127.0.0.1:$port/v1/messages" -H "authorization: Bearer $MASKGATE_MASTER_KEY" \
    -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    -d '{"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "stop i-0123456789abcdef0"}]}') ||
    { echo "request through the gateway failed" >&2; cat "$work/gateway.log"; exit 1; }
seen=$(curl -fsS "http://127.0.0.1:$upstream_port/_fake/requests")
if grep -q 'i-0123456789abcdef0' <<<"$seen" || ! grep -q 'ec2-' <<<"$seen"; then
    echo "the provider saw the original, or no pseudonym" >&2
    exit 1
fi
grep -q 'Stopping i-0123456789abcdef0 now.' <<<"$reply" || { echo "reply not restored: $reply" >&2; exit 1; }
echo "gateway ok: the provider saw a pseudonym only, the reply came back restored"
echo "wheel smoke test passed: $(basename "$wheel")"
