"""`maskgate setup`: every `claude` on this machine goes through maskgate; `--undo` puts it back.

Three files, all in the user's home:

- the `env` block of Claude Code's user settings (`~/.claude/settings.json`, or `$CLAUDE_CONFIG_DIR`):
  `ANTHROPIC_BASE_URL` (the gateway), `ANTHROPIC_AUTH_TOKEN` (the maskgate key), the quiet switches,
  and the variables that would route around the gateway set empty (Claude Code reads empty as
  unset; its settings win over the shell's). Claude Code applies this block to every session,
  `claude --resume` included. Every other setting is kept as it was;
- `~/.config/maskgate/gateway.env` (mode 0600): the `MASKGATE_*` settings the gateway runs with;
- `~/.config/systemd/user/maskgate.service`: that gateway, always on, when `systemctl --user` works.

The first run keeps a byte-exact copy of the settings file (`setup-backup.json`) and what it found
(`setup.json`) beside `gateway.env`; running setup again changes nothing more. `--undo` restores the
copy byte for byte when the file is as setup left it; when it was edited since, only the keys setup
wrote go back to their earlier values (or away), and the other edits stay.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maskgate.claude import claude_code_env, local_url
from maskgate.settings import Settings

UNIT_NAME = "maskgate.service"
MANAGED_NOTE = "maskgate setup"  # in the files setup writes, so a person reading them knows whose they are


class SetupError(Exception):
    """A setup step that cannot be done; the message says what to do."""


@dataclass(frozen=True)
class Paths:
    settings: Path  # Claude Code's user settings
    config: Path  # ~/.config/maskgate
    unit: Path  # the systemd user unit

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Paths:
        home = Path(environ.get("HOME") or Path.home())
        claude_dir = Path(environ["CLAUDE_CONFIG_DIR"]) if environ.get("CLAUDE_CONFIG_DIR") else home / ".claude"
        xdg = Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"
        return cls(claude_dir / "settings.json", xdg / "maskgate", xdg / "systemd" / "user" / UNIT_NAME)

    @property
    def gateway_env(self) -> Path:
        return self.config / "gateway.env"

    @property
    def state(self) -> Path:
        return self.config / "setup.json"

    @property
    def backup(self) -> Path:
        return self.config / "setup-backup.json"


def gateway_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The gateway's settings: every MASKGATE_* variable of this shell (keys included)."""
    return {k: v for k, v in sorted(environ.items()) if k.startswith("MASKGATE_") and k != "MASKGATE_CLAUDE_BIN"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_settings(path: Path) -> tuple[bytes | None, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, {}
    try:
        doc = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError) as e:
        raise SetupError(f"{path} is not valid JSON ({e}): fix it, then run `maskgate setup` again") from None
    if not isinstance(doc, dict):
        raise SetupError(f"{path} is not a JSON object: fix it, then run `maskgate setup` again")
    env = doc.get("env")
    if env is not None and not isinstance(env, dict):
        raise SetupError(f"{path}: `env` is not an object: fix it, then run `maskgate setup` again")
    return raw, doc


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Written whole or not at all (a temporary file renamed over it), readable only by the user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.maskgate-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _dump(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _env_file(values: Mapping[str, str]) -> bytes:
    lines = [f"# Written by {MANAGED_NOTE}: the settings `maskgate serve` runs with. Holds keys: mode 0600."]
    for k, v in values.items():
        if "\n" in v:
            raise SetupError(f"{k} holds a line break, which a systemd environment file cannot carry")
        lines.append(f"{k}={json.dumps(v)}")  # a double-quoted value, as systemd's EnvironmentFile reads it
    return ("\n".join(lines) + "\n").encode("utf-8")


def unit_text(maskgate_bin: str, env_file: Path) -> str:
    return (
        f"# Written by {MANAGED_NOTE}; `maskgate setup --undo` removes it.\n"
        "[Unit]\n"
        "Description=maskgate, the masking gateway every claude on this machine uses\n"
        "\n"
        "[Service]\n"
        f"EnvironmentFile={env_file}\n"
        f"ExecStart={maskgate_bin} serve\n"
        "Restart=on-failure\n"
        "RestartSec=2\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def _maskgate_bin() -> str:
    """This installation's `maskgate`, by absolute path (a service has no venv on its PATH)."""
    beside = Path(sys.executable).parent / "maskgate"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("maskgate")
    if found:
        return str(Path(found).resolve())
    raise SetupError("cannot find the `maskgate` executable of this installation to put in the service")


def systemd_user_available(run: Callable[..., Any] = subprocess.run) -> bool:
    if shutil.which("systemctl") is None:
        return False
    try:
        out = run(["systemctl", "--user", "show-environment"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(out.returncode == 0)


def _systemctl(*args: str) -> None:
    out = subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        reason = (out.stderr or out.stdout).strip().splitlines()
        raise SetupError(f"systemctl --user {' '.join(args)} failed: {reason[-1] if reason else out.returncode}")


def setup(environ: Mapping[str, str], say: Callable[[str], None], *, service: bool = True) -> int:
    settings = Settings.from_env(environ)  # fails, naming the variable, before anything is written
    if not settings.upstream_api_key:
        say("note: MASKGATE_UPSTREAM_API_KEY is not set: the gateway will run in pass-through mode only")
    paths = Paths.from_env(environ)
    url = local_url(settings.host, settings.port)
    ours = claude_code_env(url, settings.master_key, blank=True)  # what `maskgate claude` gives its Claude Code

    raw, doc = _read_settings(paths.settings)
    state = _load_state(paths)
    if state is None:
        # The first run: keep the file as it is, byte for byte, and what the keys we set were.
        before = doc.get("env") or {}
        state = {
            "settings": str(paths.settings),
            "existed": raw is not None,
            "dir_existed": paths.settings.parent.is_dir(),
            "mode": paths.settings.stat().st_mode & 0o777 if raw is not None else None,
            "had_env": "env" in doc,
            "previous": {k: before.get(k) for k in ours},
        }
        if raw is not None:
            _write_private(paths.backup, raw)
    env = dict(doc.get("env") or {})
    env.update(ours)
    doc["env"] = env
    written = _dump(doc)
    if written != raw:
        _write_private(paths.settings, written)
    state["written_sha256"] = _sha256(written)
    _write_private(paths.gateway_env, _env_file(gateway_env(environ)))
    _write_private(paths.state, _dump(state))
    say(f"{paths.settings}: every claude now uses maskgate at {url} (the other settings are unchanged)")

    start = f"`set -a; . {paths.gateway_env}; set +a; maskgate serve`"
    if not service:
        say(f"no service (--no-service): start the gateway before claude with {start}")
        return 0
    if not systemd_user_available():
        say(
            "no systemd user session here (`systemctl --user` does not answer): start the gateway before claude "
            f"with {start} (or use `maskgate claude`, which starts one)"
        )
        return 0
    unit = unit_text(_maskgate_bin(), paths.gateway_env)
    _write_private(paths.unit, unit.encode("utf-8"), 0o644)
    _systemctl("daemon-reload")
    _systemctl("enable", UNIT_NAME)
    _systemctl("restart", UNIT_NAME)  # restart, not start: a second setup may have changed gateway.env
    say(f"{paths.unit}: the gateway runs now and at every login (`systemctl --user status {UNIT_NAME}`)")
    return 0


def _load_state(paths: Paths) -> dict[str, Any] | None:
    try:
        state = json.loads(paths.state.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise SetupError(f"{paths.state} cannot be read ({e}): restore it, or remove it to start over") from None
    return state if isinstance(state, dict) else None


def undo(environ: Mapping[str, str], say: Callable[[str], None]) -> int:
    paths = Paths.from_env(environ)
    state = _load_state(paths)
    if paths.unit.exists():
        if systemd_user_available():
            _systemctl("disable", "--now", UNIT_NAME)
        paths.unit.unlink()
        if systemd_user_available():
            _systemctl("daemon-reload")
        say(f"{paths.unit}: stopped and removed")
    if state is None:
        say("maskgate setup has not been run here (or was undone): nothing to undo")
        return 0
    settings_path = Path(state["settings"])
    try:
        current: bytes | None = settings_path.read_bytes()
    except FileNotFoundError:
        current = None
    if current is not None and _sha256(current) == state.get("written_sha256"):
        # Untouched since setup: put back exactly what was there.
        if state.get("existed"):
            _write_private(settings_path, paths.backup.read_bytes(), int(state.get("mode") or 0o600))
        else:
            settings_path.unlink()
            if not state.get("dir_existed", True) and not any(settings_path.parent.iterdir()):
                settings_path.parent.rmdir()
        say(f"{settings_path}: restored as it was before setup")
    elif current is not None:
        _, doc = _read_settings(settings_path)
        env = dict(doc.get("env") or {})
        for k, v in state.get("previous", {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        if env or state.get("had_env"):
            doc["env"] = env
        else:
            doc.pop("env", None)
        _write_private(settings_path, _dump(doc), int(state.get("mode") or 0o600))
        say(f"{settings_path}: edited since setup, so only the keys setup set were put back; other edits kept")
    for p in (paths.gateway_env, paths.backup, paths.state):
        p.unlink(missing_ok=True)
    say("claude talks to its provider directly again; a conversation resumed now is no longer masked")
    return 0
