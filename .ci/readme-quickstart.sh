#!/usr/bin/env bash
# The README's "Quick start", run as written. Proves that a new user who copies it gets what it
# promises: its ```sh block (install the wheel into ~/.maskgate, keys, `maskgate doctor`) and the
# commands of its ```console example session are taken from README.md itself (not copied here, so
# renaming a command there without fixing the README fails this), then run in one bash session in a
# throwaway HOME and project directory, from the wheel in dist/, with no Rust toolchain and no other
# maskgate on PATH. Each console command's output must be exactly the lines the README shows under
# it. `maskgate claude -p ...` must succeed through tests/fake_upstream.py (the only fake: the model
# provider), answer with the README's original restored, and the provider must have been sent the
# README's pseudonyms and none of its originals.
#
# The only changes to what the README says, the ones a user makes: `sk-ant-...` is a fake key; the
# environment points the gateway at the fake provider (MASKGATE_UPSTREAM_URL) and at a free port
# (MASKGATE_PORT, so nothing else on this machine answers in its place); Claude Code is the pinned
# CLI in .tools, put on PATH as `claude` (what `npm install -g` does); the project directory holds
# the deploy.sh the example asks about; the interactive `maskgate claude` line (no -p) is skipped.
#
#   bash .ci/readme-quickstart.sh [dist/maskgate-*.whl]      (`make wheel` first)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
if [ $# -ge 1 ]; then wheels=("$1"); else wheels=("$repo"/dist/maskgate-*.whl); fi
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "readme-quickstart: want exactly one dist/maskgate-*.whl (run \`make wheel\`), found ${#wheels[@]}" >&2
    exit 1
fi
wheel=$(cd "$(dirname "${wheels[0]}")" && pwd)/$(basename "${wheels[0]}")
claude_bin=${MASKGATE_CLAUDE_BIN:-$repo/.tools/node_modules/.bin/claude}
[ -x "$claude_bin" ] || { echo "readme-quickstart: no Claude Code at $claude_bin (make claude)" >&2; exit 1; }
# The fake provider runs on the test tools' Python (make install's .venv), outside the user's venv.
fake_python=${MASKGATE_FAKE_PYTHON:-$repo/.venv/bin/python}
[ -x "$fake_python" ] || { echo "readme-quickstart: no $fake_python (make install)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/maskgate-readme.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home" "$work/project/dist" "$work/bin" "$work/out"
cp "$wheel" "$work/project/dist/"
ln -s "$claude_bin" "$work/bin/claude"

# 1. The quick start, from README.md: session.sh (the sh block, then each console command with its
#    stdout and stderr in out/N.*) and expect.json (per console command: what to check).
python3 - "$repo/README.md" "$work" <<'EOF'
import json, re, shlex, sys
from pathlib import Path

readme, work = Path(sys.argv[1]).read_text(encoding="utf-8"), Path(sys.argv[2])
section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M)
if not section:
    sys.exit("README.md has no '## Quick start' section")
blocks = re.findall(r"^```(\w*)\n(.*?)^```", section.group(1), re.S | re.M)
sh = [body for lang, body in blocks if lang == "sh"]
console = [body for lang, body in blocks if lang == "console"]
if len(sh) != 1 or len(console) != 1:
    sys.exit(f"the quick start should have one ```sh and one ```console block, has {len(sh)} and {len(console)}")

FAKE_KEY = "sk-ant-fake-readme-quickstart"
if sh[0].count("sk-ant-...") != 1:
    sys.exit("the ```sh block should set the Anthropic key once, as sk-ant-...")
script = ["set -e -o pipefail"]
for line in sh[0].replace("sk-ant-...", FAKE_KEY).splitlines():
    command = line.split("#", 1)[0].strip()
    if command == "maskgate claude":  # interactive: the console block's `maskgate claude -p` runs it
        script.append(f"echo {shlex.quote('skipped (interactive): ' + command)}")
        continue
    script += [f"echo {shlex.quote('$ ' + line)}", line]

checks, current = [], None
for line in console[0].splitlines():
    if line.startswith("$ "):
        current = {"command": line[2:], "expect": []}
        checks.append(current)
    elif current is None:
        sys.exit(f"console block: output before any $ command: {line!r}")
    else:
        current["expect"].append(line)
for n, check in enumerate(checks):
    check["claude"] = check["command"].split("#", 1)[0].split()[:2] == ["maskgate", "claude"]
    out, err = (shlex.quote(str(work / "out" / f"{n}.{ext}")) for ext in ("out", "err"))
    script += [  # the newline before } ends the command's own trailing comment
        f"echo {shlex.quote('$ ' + check['command'])}",
        "{ " + check["command"],
        f'}} >{out} 2>{err} </dev/null || {{ echo "exit $?"; cat {err}; exit 1; }}',
        f"cat {out}",
    ]
if not any(c["claude"] for c in checks):
    sys.exit("the console block runs no `maskgate claude -p ...`")
(work / "session.sh").write_text("\n".join(script) + "\n")
(work / "expect.json").write_text(json.dumps(checks))
EOF

# The README's originals and pseudonyms: what its `maskgate mask` example changes.
read -r originals pseudonyms < <(python3 - "$work/expect.json" <<'EOF'
import json, re, sys
masks = [c for c in json.load(open(sys.argv[1])) if re.match(r'echo "[^"]*" \| maskgate mask\b', c["command"])]
if not masks:
    sys.exit('the console block has no `echo "..." | maskgate mask` example')
mask = masks[0]
before = set(re.match(r'echo "([^"]*)"', mask["command"]).group(1).split())
after = set(" ".join(mask["expect"]).split())
print(",".join(sorted(before - after)), ",".join(sorted(after - before)))
EOF
)
instance=$(tr , '\n' <<<"$originals" | grep -m1 '^i-') ||
    { echo "readme-quickstart: the mask example has no instance ID (i-...) for deploy.sh to stop" >&2; exit 1; }
echo "-- the README's originals: $originals; their pseudonyms: $pseudonyms"

# 2. A user's machine: no cargo/rustc and no maskgate on PATH (node stays: Claude Code needs it).
clean_path="$work/bin"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
    [ -n "$d" ] && [ ! -e "$d/cargo" ] && [ ! -e "$d/rustc" ] && [ ! -e "$d/maskgate" ] && clean_path="$clean_path:$d"
done
if PATH=$clean_path command -v cargo >/dev/null || PATH=$clean_path command -v maskgate >/dev/null; then
    echo "readme-quickstart: cargo or maskgate is still on PATH" >&2
    exit 1
fi

# 3. The provider: the fake, scripted as a model that reads deploy.sh and names the instance it stops.
"$fake_python" "$repo/tests/fake_upstream.py" --port 0 >"$work/upstream.out" 2>"$work/upstream.err" &
pids+=($!)
for _ in $(seq 100); do grep -q READY "$work/upstream.out" && break; sleep 0.1; done
upstream_port=$(awk '/READY/ {print $2}' "$work/upstream.out")
[ -n "$upstream_port" ] || { echo "fake upstream did not start" >&2; cat "$work/upstream.err"; exit 1; }
upstream="http://127.0.0.1:$upstream_port"
printf '#!/bin/sh\n# %s\naws ec2 stop-instances --instance-ids %s\n' "$(tr , ' ' <<<"$originals")" "$instance" \
    >"$work/project/deploy.sh"
curl -fsS -X POST "$upstream/_fake/script" -H 'content-type: application/json' -d @- >/dev/null <<EOF
[{"type": "tool_use", "name": "Read", "input": {"file_path": "$work/project/deploy.sh"}},
 {"type": "text", "text": "deploy.sh stops {{first:ec2-[0-9]+}}."}]
EOF
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# 4. The session, in a clean environment: only what any shell has, plus how this machine reaches
#    the package index (pip settings, proxies, CA files), plus the provider and port above.
echo "-- the quick start in $work/project (HOME=$work/home), from $(basename "$wheel")"
passed=()
for name in $(compgen -e); do
    case "$name" in
    PIP_* | [Hh][Tt][Tt][Pp]*_[Pp][Rr][Oo][Xx][Yy] | [Nn][Oo]_[Pp][Rr][Oo][Xx][Yy] | SSL_CERT_* | REQUESTS_CA_BUNDLE)
        passed+=("$name=${!name}") ;;
    esac
done
cd "$work/project"
status=0
env -i PATH="$clean_path" HOME="$work/home" LANG="${LANG:-C.UTF-8}" TMPDIR="${TMPDIR:-/tmp}" TERM=dumb \
    "${passed[@]}" MASKGATE_UPSTREAM_URL="$upstream" MASKGATE_PORT="$port" \
    timeout 900 bash "$work/session.sh" || status=$?
[ "$status" -eq 0 ] || { echo "readme-quickstart: the quick start failed (exit $status)" >&2; exit 1; }
[ -x "$work/home/.maskgate/bin/maskgate" ] || { echo "maskgate is not in ~/.maskgate" >&2; exit 1; }

# 5. What the README promises.
curl -fsS "$upstream/_fake/requests" >"$work/provider.json"
python3 - "$work" "$originals" "$pseudonyms" "$instance" <<'EOF'
import json, re, sys, urllib.request
from pathlib import Path

work, originals, pseudonyms, instance = Path(sys.argv[1]), *sys.argv[2:]
failures = []


def gateway_answers(url):
    try:
        urllib.request.urlopen(url + "/health", timeout=3)
        return True
    except OSError:
        return False


for n, check in enumerate(json.loads((work / "expect.json").read_text())):
    out = (work / "out" / f"{n}.out").read_text().splitlines()
    if not check["claude"]:
        if out != check["expect"]:
            failures.append(f"$ {check['command']}\n  README shows {check['expect']!r}\n  it printed  {out!r}")
        continue
    answer = f"deploy.sh stops {instance}."  # the fake model's reply, its pseudonym restored
    if answer not in out:
        failures.append(f"$ {check['command']}\n  wanted the line {answer!r}, got {out!r}")
    # "`maskgate claude` starts a gateway on a free local port ... and stops it when Claude Code exits"
    started = re.search(r"started a maskgate for this session at (\S+)", (work / "out" / f"{n}.err").read_text())
    if not started:
        failures.append(f"$ {check['command']}\n  started no gateway for the session")
    elif gateway_answers(started.group(1)):
        failures.append(f"the session's gateway at {started.group(1)} still answers after Claude Code exited")
requests = json.loads((work / "provider.json").read_text())
seen = json.dumps(requests)
messages = [r for r in requests if r["path"] == "/v1/messages"]
if not messages:
    failures.append("maskgate claude -p never reached the provider")
failures += [f"the provider was sent the original {o}" for o in originals.split(",") if o in seen]
failures += [f"the provider was never sent the pseudonym {p}" for p in pseudonyms.split(",") if p not in seen]
if {r["headers"].get("x-api-key") for r in messages} - {"sk-ant-fake-readme-quickstart"}:
    failures.append("the provider got another key than the quick start's MASKGATE_UPSTREAM_API_KEY")
if failures:
    sys.exit("readme-quickstart: the README's quick start is not true:\n" + "\n".join(failures))
print(f"readme quick start ok: {len(messages)} request(s) to the provider, pseudonyms only; outputs as shown")
EOF
