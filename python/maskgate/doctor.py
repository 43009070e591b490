"""`maskgate doctor`: checks the set-up the way the gateway will use it, and says how to fix each problem.

Each check is independent, so one broken setting does not hide the others. Nothing here prints a
key, and nothing is created (the embedded store is opened only when it already exists); the one
write is the store's key check, on a store that has none yet.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from maskgate import claude
from maskgate.extras import install_hint
from maskgate.settings import Settings, SettingsError

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def run(environ: Mapping[str, str]) -> list[Check]:
    """Every check, in the order a new user would fix them."""
    try:
        loaded = Settings.from_env(environ, require_master_key=False)
        settings: Settings | None = loaded
        checks = [Check("config", OK, str(loaded.config_path) if loaded.config_path else "no MASKGATE_CONFIG")]
    except SettingsError as e:
        settings = None
        checks = [Check("config", FAIL, str(e), "fix the setting named above")]
    checks.append(master_key(environ))
    if settings is not None:
        for check in (catalogue, store, upstream, port, litellm_routes, headless):
            checks.append(_guarded(check, settings))
    checks.append(claude_cli(settings.claude_bin if settings else environ.get("MASKGATE_CLAUDE_BIN")))
    checks.append(side_traffic(environ))
    checks.append(_guarded_env(claude_setup, environ, settings))
    return checks


def _guarded_env(
    check: Callable[[Mapping[str, str], Settings | None], Check], environ: Mapping[str, str], settings: Settings | None
) -> Check:
    try:
        return check(environ, settings)
    except Exception as e:  # reported, with its type, as the check's result
        return Check(check.__name__.replace("_", " "), FAIL, f"{type(e).__name__}: {e}")


def _guarded(check: Callable[[Settings], Check], settings: Settings) -> Check:
    """A check that crashes is a failed check, not a crashed doctor."""
    try:
        return check(settings)
    except Exception as e:  # reported, with its type, as the check's result
        return Check(check.__name__.replace("_", " "), FAIL, f"{type(e).__name__}: {e}")


def master_key(environ: Mapping[str, str]) -> Check:
    key = environ.get("MASKGATE_MASTER_KEY", "")
    fix = 'export MASKGATE_MASTER_KEY="$(maskgate keygen)"'
    if not key:
        return Check("master key", FAIL, "MASKGATE_MASTER_KEY is not set", fix)
    if len(key) < 16:
        return Check("master key", FAIL, "MASKGATE_MASTER_KEY is shorter than 16 characters", fix)
    return Check("master key", OK, f"set ({len(key)} characters)")


def store(settings: Settings) -> Check:
    if settings.redis_url:
        return _redis_store(settings)
    path = settings.store_path
    if not path.exists():
        parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
        if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            return Check(
                "store",
                FAIL,
                f"embedded store {path}: cannot be created ({parent} is not a writable directory)",
                "set MASKGATE_HOME (or MASKGATE_STORE_PATH) to a writable directory",
            )
        return Check("store", OK, f"embedded store {path} (created on first use)")
    if not os.access(path, os.R_OK | os.W_OK):
        return Check("store", FAIL, f"embedded store {path} is not writable", f"check the permissions of {path}")
    from maskgate.store import key_file_for

    ok, detail, key = _ping(settings)
    key_file = key_file_for(path)
    fix = "" if ok else f"check {path} and its key file {key_file} (MASKGATE_STORE_KEY must match if set)"
    if key:
        fix = KEY_FIX if settings.store_key else f"restore the key file {key_file} this store was created with"
    return Check("store", OK if ok else FAIL, f"embedded store {path}: {detail}", fix)


def _redis_store(settings: Settings) -> Check:
    ok, detail, key = _ping(settings)
    where = _redacted_url(settings.redis_url or "")
    fix = "" if ok else "start Redis (e.g. `redis-server`), or fix MASKGATE_REDIS_URL; unset it for the embedded store"
    if key:
        fix = KEY_FIX
    return Check("store", OK if ok else FAIL, f"redis {where}: {detail}", fix)


def _redacted_url(url: str) -> str:
    """A Redis URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


KEY_FIX = (
    "set MASKGATE_STORE_KEY to the key this store was created with; to change keys, put that one in "
    "MASKGATE_STORE_KEY_PREVIOUS and the new one in MASKGATE_STORE_KEY"
)


def _ping(settings: Settings) -> tuple[bool, str, bool]:
    """(ok, detail, whether the problem is the store key): answering, and the key opens the store."""
    from maskgate.store import StoreError, StoreKeyMismatch, open_store_from_settings

    async def ping() -> bool:
        s = open_store_from_settings(settings)
        try:
            if not await asyncio.wait_for(s.ping(), 3.0):
                return False
            await asyncio.wait_for(s.verify(), 10.0)
            return True
        finally:
            await s.aclose()

    try:
        return (
            (True, "answering, the store key opens it", False)
            if asyncio.run(ping())
            else (False, "not answering", False)
        )
    except StoreKeyMismatch:
        return False, "the store key does not open it (the store was created with another key)", True
    except (StoreError, OSError, TimeoutError, ValueError) as e:
        return False, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__, False


def catalogue(settings: Settings) -> Check:
    """Compiles the catalogues exactly as `serve` will, so a broken one fails here and not at start-up."""
    from maskgate._core import MaskgateError
    from maskgate.engine import Engine

    try:
        engine = Engine.from_settings(settings)
    except MaskgateError as e:
        return Check("catalogue", FAIL, str(e), "fix or remove it in [masking] catalogues (docs/catalogue.md)")
    users = ", ".join(str(p) for p in settings.catalogues)
    return Check(
        "catalogue", OK, f"{len(engine.core.catalogue())} patterns; built-in" + (f" + {users}" if users else "")
    )


UPSTREAM_PROBE_SECONDS = 3.0


def upstream(settings: Settings) -> Check:
    """Reachable means any HTTP answer at all, within a few seconds: the key is not sent. Asked the
    way the gateway asks (`upstream.make_client`): directly, whatever proxy variables say, and
    verified against the system's CA certificates."""
    import httpx2

    try:
        httpx2.get(settings.upstream_url, timeout=UPSTREAM_PROBE_SECONDS, trust_env=False)
    except httpx2.HTTPError as e:
        timed_out = isinstance(e, httpx2.TimeoutException)
        reason = f"no answer within {UPSTREAM_PROBE_SECONDS:g} s" if timed_out else type(e).__name__
        return Check(
            "upstream",
            FAIL,
            f"{settings.upstream_url} cannot be reached ({reason})",
            "check MASKGATE_UPSTREAM_URL, the network and the system's CA certificates (no proxy is used)",
        )
    if not settings.upstream_api_key:
        return Check(
            "upstream",
            WARN,
            f"{settings.upstream_url}, no API key",
            "export MASKGATE_UPSTREAM_API_KEY=sk-ant-... (or use pass-through mode, see README)",
        )
    return Check("upstream", OK, f"{settings.upstream_url} answers, API key set")


def port(settings: Settings) -> Check:
    url = claude.local_url(settings.host, settings.port)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((settings.host, settings.port))
            return Check("port", OK, f"{settings.host}:{settings.port} is free")
        except OSError as e:
            error = e.strerror or str(e)
    found = claude.probe(url)
    if found == "maskgate":
        return Check("port", OK, f"a maskgate is already listening at {url}")
    return Check(
        "port",
        FAIL,
        f"cannot listen on {settings.host}:{settings.port}: {error}",
        "stop the program using it (`ss -ltnp`), or choose another: export MASKGATE_PORT=8001",
    )


def litellm_routes(settings: Settings) -> Check:
    if not settings.routes:
        return Check("litellm", SKIP, "no [[routes]] configured")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        from maskgate.providers import litellm_route  # noqa: F401
    except ImportError as e:
        return Check("litellm", FAIL, f"routes configured but not importable: {e}", install_hint("litellm"))
    import importlib.metadata

    models = ", ".join(r.model for r in settings.routes)
    return Check("litellm", OK, f"litellm {importlib.metadata.version('litellm')}; routes: {models}")


def headless(settings: Settings) -> Check:
    c = settings.claude_code
    if not c.enabled:
        return Check("headless", SKIP, "the /v1/claude-code endpoint is off ([claude_code] enabled = false)")
    try:
        import claude_agent_sdk
    except ImportError:
        return Check("headless", FAIL, "enabled, but claude-agent-sdk is not installed", claude.SDK_INSTALL_HINT)
    missing = [str(r) for r in c.roots if not r.is_dir()]
    if missing:
        return Check("headless", FAIL, f"roots that are not directories: {', '.join(missing)}", "fix `roots`")
    cli = claude.agent_cli(settings.claude_bin)
    if cli is None:
        return Check(
            "headless",
            FAIL,
            "enabled, but no Claude Code binary",
            f"set [claude_code] cli_path, or {claude.INSTALL_HINT}",
        )
    sdk = claude_agent_sdk.__version__
    return Check("headless", OK, f"enabled; claude-agent-sdk {sdk}; cli {cli}; roots: {', '.join(map(str, c.roots))}")


def claude_cli(explicit: str | None) -> Check:
    cli = claude.find_cli(explicit)
    if cli is None:
        where = (
            f"MASKGATE_CLAUDE_BIN={explicit} is not executable"
            if explicit
            else "no Claude Code: not on PATH, not bundled in claude-agent-sdk, no .tools copy"
        )
        return Check("claude", FAIL, f"{where} (needed by `maskgate claude`)", claude.INSTALL_HINT)
    version = claude.cli_version(cli)
    if version is None:
        return Check("claude", FAIL, f"{cli} does not run (`{cli} --version` failed)", claude.INSTALL_HINT)
    if version != claude.TESTED_VERSION:
        return Check(
            "claude",
            WARN,
            f"{cli} is {version}; maskgate is tested with {claude.TESTED_VERSION}",
            f"npm install -g @anthropic-ai/claude-code@{claude.TESTED_VERSION} if something misbehaves",
        )
    return Check("claude", OK, f"{cli} {version}")


def side_traffic(environ: Mapping[str, str]) -> Check:
    """Claude Code started from this shell directly (not through `maskgate claude`) sends telemetry
    and error reports to Anthropic itself, around the gateway; those can carry prompt text."""
    configured = dict(_user_settings_env(environ))
    configured.update({k: v for k, v in environ.items() if k in claude.QUIET_ENV})
    missing = [k for k in claude.QUIET_ENV if not configured.get(k)]
    if not missing:
        return Check("side traffic", OK, "telemetry, error reports and other non-essential traffic are off")
    exports = " ".join(f"{k}=1" for k in missing)
    return Check(
        "side traffic",
        WARN,
        f"`claude` run directly from this shell would report to Anthropic itself ({', '.join(missing)} unset)",
        f"use `maskgate claude`, or: export {exports}",
    )


def claude_setup(environ: Mapping[str, str], settings: Settings | None) -> Check:
    """`maskgate setup` points every `claude` at a gateway: that gateway has to answer, or be started
    by the service setup installed, or every `claude` on the machine fails to connect."""
    from maskgate import setup

    name = "setup"
    paths = setup.Paths.from_env(environ)
    installed = paths.state.exists()
    url = _user_settings_env(environ).get("ANTHROPIC_BASE_URL", "").rstrip("/")
    ours = installed or bool(settings and url == claude.local_url(settings.host, settings.port))
    if not url:
        if installed:
            return Check(
                name,
                WARN,
                f"maskgate setup was run, but {paths.settings} no longer sets ANTHROPIC_BASE_URL",
                "run `maskgate setup` again, or `maskgate setup --undo`",
            )
        return Check(name, SKIP, "maskgate setup is not installed (`claude` run directly is not masked)")
    if not ours:
        return Check(name, SKIP, f"not installed; {paths.settings} points claude at {url}")
    found = claude.probe(url)
    if found == "maskgate":
        health = _health(url)
        if health != "ok":
            return Check(
                name,
                FAIL,
                f"every claude uses the maskgate at {url}, which answers but its store is {health}",
                "see the store check above",
            )
        return Check(name, OK, f"every claude uses the maskgate at {url} ({paths.settings}), and it answers")
    if found == "other":
        return Check(
            name,
            FAIL,
            f"every claude is pointed at {url}, but what answers there is not maskgate",
            "stop the program on that port, or run `maskgate setup` again with another MASKGATE_PORT",
        )
    start = f"set -a; . {paths.gateway_env}; set +a; maskgate serve"
    if paths.unit.exists() and setup.systemd_user_available():
        return Check(
            name,
            WARN,
            f"every claude is pointed at {url}, where nothing answers; the user service {setup.UNIT_NAME} starts it",
            f"systemctl --user restart {setup.UNIT_NAME} (why it stopped: journalctl --user -u {setup.UNIT_NAME})",
        )
    return Check(
        name,
        FAIL,
        f"every claude is pointed at {url}, but nothing answers there and no service starts it: claude cannot connect",
        f"start the gateway ({start}), or use `maskgate claude`, or undo it: `maskgate setup --undo`",
    )


def _health(url: str) -> str:
    """The store status a maskgate's /health reports ("ok", "unavailable", "wrong key")."""
    import httpx2

    try:
        body = httpx2.get(url + "/health", timeout=5).json()
    except (httpx2.HTTPError, ValueError):
        return "not answering"
    return str(body.get("store", "unknown")) if isinstance(body, dict) else "unknown"


def _user_settings_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The `env` block of ~/.claude/settings.json, which Claude Code applies on top of the shell's."""
    home = Path(environ.get("CLAUDE_CONFIG_DIR") or Path(environ.get("HOME", str(Path.home()))) / ".claude")
    try:
        doc = json.loads((home / "settings.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    env = doc.get("env") if isinstance(doc, dict) else None
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == FAIL for c in checks) else 0
