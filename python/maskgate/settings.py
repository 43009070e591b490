"""All of maskgate's settings, from environment variables and an optional TOML file.

No other module reads the environment: they take a `Settings`. Environment variables win over
the file, so one file can serve several deployments.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_UPSTREAM = "https://api.anthropic.com"
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_MAX_BODY = 32 * 1024 * 1024
DEFAULT_MAX_IDENTIFIERS = 10_000
DEFAULT_MAX_STRING = 8 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 60.0
DEFAULT_TENANT = "default"
# Strings whose scan results the engine remembers across requests (twice this many at most).
DEFAULT_SCAN_CACHE = 16_384


class SettingsError(Exception):
    """A setting is missing or invalid; the message says how to fix it."""


@dataclass(frozen=True)
class Tenant:
    """A client key and the namespace its pseudonyms live in."""

    name: str
    key: str = field(repr=False)


@dataclass(frozen=True)
class Route:
    """A model name served through LiteLLM instead of the Anthropic-compatible upstream."""

    model: str
    litellm_model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClaudeCodeSettings:
    """`[claude_code]`: the headless Claude Code endpoint. Off by default because it runs an agent
    on this host; its own admin key because a client key only buys masking, not code execution."""

    enabled: bool = False
    admin_key: str | None = field(default=None, repr=False)
    roots: tuple[Path, ...] = ()
    allow_bypass_permissions: bool = False
    max_concurrent: int = 2
    timeout_seconds: float = 300.0
    max_turns: int = 50
    tenant: str = DEFAULT_TENANT
    gateway_url: str | None = None
    pass_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsoleAdmin:
    """Someone allowed into the audit console. `tenants` None means every tenant (the operator)."""

    name: str
    key: str = field(repr=False)
    tenants: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConsoleSettings:
    """The audit console (`[console]`): off unless enabled, and then only for admin keys.

    Captures keep prompt text, so they are bounded three ways: a capture window closes by itself
    (`capture_max_minutes`), captures are deleted after `capture_retention_hours`, and at most
    `capture_max_entries` are kept."""

    enabled: bool = False
    admins: tuple[ConsoleAdmin, ...] = ()
    path: Path | None = None
    session_seconds: int = 8 * 3600
    capture_max_seconds: int = 3600
    capture_retention_seconds: int = 24 * 3600
    capture_max_entries: int = 200
    capture_max_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    master_key: str = field(repr=False)
    upstream_url: str = DEFAULT_UPSTREAM
    upstream_api_key: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "maskgate:"
    store_key: str | None = field(default=None, repr=False)
    store_key_previous: tuple[str, ...] = field(default=(), repr=False)
    store_path: Path = Path("maskgate-store.db")
    store_ttl_seconds: int = DEFAULT_TTL_SECONDS
    config_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # `maskgate serve`'s worker processes. One by default: it holds hundreds of streams on its
    # own, and each more keeps its own copy of the mappings in memory (README, `maskgate serve`).
    workers: int = 1
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_identifiers: int = DEFAULT_MAX_IDENTIFIERS
    max_string_bytes: int = DEFAULT_MAX_STRING
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    upstream_timeout: float = 600.0
    catalogues: tuple[Path, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    scan_cache: int = DEFAULT_SCAN_CACHE
    tenants: tuple[Tenant, ...] = ()
    routes: tuple[Route, ...] = ()
    log_format: str = "auto"
    claude_bin: str | None = None
    claude_code: ClaudeCodeSettings = ClaudeCodeSettings()
    console: ConsoleSettings = ConsoleSettings()

    @property
    def all_tenants(self) -> tuple[Tenant, ...]:
        """The master key is the `default` tenant; configured tenants come after it."""
        return (Tenant(DEFAULT_TENANT, self.master_key), *self.tenants)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_master_key: bool = True, **overrides: Any
    ) -> Settings:
        """`require_master_key=False` is for commands that never serve (mask, unmask, scan, ...)."""
        env = os.environ if environ is None else environ
        config_path = Path(env["MASKGATE_CONFIG"]) if env.get("MASKGATE_CONFIG") else None
        doc = _read_config(config_path) if config_path else {}
        server, upstream, store, masking = (doc.get(k, {}) for k in ("server", "upstream", "store", "masking"))
        base = config_path.parent if config_path else Path.cwd()

        def num(var: str, section: Mapping[str, Any], name: str, key: str, default: float, cast: type) -> Any:
            return _number(env, var, section, f"[{name}] {key}", key, default, cast)

        master_key = env.get("MASKGATE_MASTER_KEY", "")
        if not master_key and not require_master_key:
            master_key = "unused-" + "x" * 16
        elif not master_key:
            raise SettingsError(
                "MASKGATE_MASTER_KEY is not set. maskgate has no default key: choose a long random one, "
                "e.g. export MASKGATE_MASTER_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\""
            )
        if len(master_key) < 16:
            raise SettingsError("MASKGATE_MASTER_KEY is too short: use at least 16 characters (32+ random is better)")

        enable = list(masking.get("enable", []))
        private = env.get("MASKGATE_MASK_PRIVATE_NETWORK", str(masking.get("private_network", ""))).lower()
        if private in {"1", "true", "yes", "on"}:
            enable.append("private-network")

        values: dict[str, Any] = {
            "master_key": master_key,
            "upstream_url": (env.get("MASKGATE_UPSTREAM_URL") or upstream.get("url") or DEFAULT_UPSTREAM).rstrip("/"),
            "upstream_api_key": env.get("MASKGATE_UPSTREAM_API_KEY")
            or _env_ref(env, upstream.get("api_key_env"))
            or env.get("ANTHROPIC_API_KEY")
            or None,
            "redis_url": env.get("MASKGATE_REDIS_URL") or store.get("redis_url") or None,
            "redis_prefix": env.get("MASKGATE_REDIS_PREFIX") or store.get("redis_prefix") or "maskgate:",
            "store_key": env.get("MASKGATE_STORE_KEY") or None,
            "store_key_previous": _previous_keys(env.get("MASKGATE_STORE_KEY_PREVIOUS", "")),
            "store_path": Path(env.get("MASKGATE_STORE_PATH") or store.get("path") or _data_dir(env) / "store.db"),
            "store_ttl_seconds": num("MASKGATE_STORE_TTL", store, "store", "ttl_seconds", DEFAULT_TTL_SECONDS, int),
            "config_path": config_path,
            "host": env.get("MASKGATE_HOST") or server.get("host") or "127.0.0.1",
            "port": num("MASKGATE_PORT", server, "server", "port", 8000, int),
            "workers": num("MASKGATE_WORKERS", server, "server", "workers", 1, int),
            "max_body_bytes": num("MASKGATE_MAX_BODY_BYTES", server, "server", "max_body_bytes", DEFAULT_MAX_BODY, int),
            "max_identifiers": num(
                "MASKGATE_MAX_IDENTIFIERS", server, "server", "max_identifiers", DEFAULT_MAX_IDENTIFIERS, int
            ),
            "max_string_bytes": num(
                "MASKGATE_MAX_STRING_BYTES", server, "server", "max_string_bytes", DEFAULT_MAX_STRING, int
            ),
            "body_timeout": num(
                "MASKGATE_BODY_TIMEOUT", server, "server", "body_timeout_seconds", DEFAULT_BODY_TIMEOUT, float
            ),
            "upstream_timeout": num("MASKGATE_UPSTREAM_TIMEOUT", upstream, "upstream", "timeout_seconds", 600.0, float),
            "catalogues": tuple(base / p for p in masking.get("catalogues", [])),
            "enable": tuple(enable),
            "disable": tuple(masking.get("disable", [])),
            "scan_cache": num("MASKGATE_SCAN_CACHE", masking, "masking", "scan_cache", DEFAULT_SCAN_CACHE, int),
            "tenants": tuple(_tenant(env, t) for t in doc.get("tenants", [])),
            "routes": tuple(_route(env, r) for r in doc.get("routes", [])),
            "log_format": env.get("MASKGATE_LOG_FORMAT") or server.get("log_format") or "auto",
            "claude_bin": env.get("MASKGATE_CLAUDE_BIN") or _cli_path(doc.get("claude_code", {}), base),
            "claude_code": _claude_code(env, doc.get("claude_code", {}), base),
            "console": _console(env, doc.get("console", {}), base),
        }
        values.update(overrides)
        settings = cls(**values)
        _check(settings)
        return settings


def _number(
    env: Mapping[str, str], var: str, section: Mapping[str, Any], where: str, key: str, default: float, cast: type
) -> Any:
    """The environment variable, else the file's key, else the default, cast; a bad value names its source."""
    raw: Any = env.get(var)
    source = var
    if not raw:
        raw, source = section.get(key), f"config {where}"
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise SettingsError(f"{source}: expected a number, got {type(raw).__name__}")
    try:
        return cast(raw)
    except ValueError:
        kind = "a whole number" if cast is int else "a number"
        raise SettingsError(f"{source}={raw!r} is not {kind}") from None


# Every key the code reads, per section: anything else in the file is a mistake (a misspelled
# section or key would otherwise be silently ignored, and its default used instead).
_SCHEMA: dict[str, frozenset[str]] = {
    "server": frozenset(
        {
            "host",
            "port",
            "workers",
            "max_body_bytes",
            "max_identifiers",
            "max_string_bytes",
            "body_timeout_seconds",
            "log_format",
        }
    ),
    "upstream": frozenset({"url", "api_key_env", "timeout_seconds"}),
    "store": frozenset({"redis_url", "redis_prefix", "path", "ttl_seconds"}),
    "masking": frozenset({"enable", "disable", "private_network", "catalogues", "scan_cache"}),
    "tenants": frozenset({"name", "key", "key_env"}),
    "routes": frozenset({"model", "litellm_model", "api_base", "api_key", "api_key_env"}),
    "claude_code": frozenset(
        {
            "enabled",
            "admin_key",
            "admin_key_env",
            "roots",
            "allow_bypass_permissions",
            "max_concurrent",
            "timeout_seconds",
            "max_turns",
            "tenant",
            "gateway_url",
            "pass_env",
            "cli_path",
        }
    ),
    "console": frozenset(
        {
            "enabled",
            "admin_key_env",
            "admins",
            "path",
            "session_hours",
            "capture_max_minutes",
            "capture_retention_hours",
            "capture_max_entries",
            "capture_max_bytes",
        }
    ),
}
_LISTS = {"tenants", "routes"}
_ADMIN_KEYS = frozenset({"name", "key", "key_env", "tenants"})


def _check_schema(path: Path, doc: Mapping[str, Any]) -> None:
    """Unknown sections and keys are an error that names every one of them."""
    unknown: list[str] = []
    for section, body in doc.items():
        if section not in _SCHEMA:
            unknown.append(f"[{section}]")
            continue
        if section in _LISTS:
            if not isinstance(body, list) or not all(isinstance(t, dict) for t in body):
                raise SettingsError(f"MASKGATE_CONFIG={path}: `{section}` must be a list of [[{section}]] tables")
            tables: list[tuple[str, Mapping[str, Any], frozenset[str]]] = [
                (f"[[{section}]]", t, _SCHEMA[section]) for t in body
            ]
        elif not isinstance(body, dict):
            raise SettingsError(f"MASKGATE_CONFIG={path}: `{section}` must be a [{section}] table")
        else:
            tables = [(f"[{section}]", body, _SCHEMA[section])]
            admins = body.get("admins", []) if section == "console" else []
            if not isinstance(admins, list) or not all(isinstance(a, dict) for a in admins):
                raise SettingsError(f"MASKGATE_CONFIG={path}: `console.admins` must be [[console.admins]] tables")
            tables += [("[[console.admins]]", a, _ADMIN_KEYS) for a in admins]
        for where, table, known in tables:
            unknown += [f"{where} {k}" for k in table if k not in known]
    if unknown:
        raise SettingsError(
            f"MASKGATE_CONFIG={path}: unknown {'entry' if len(unknown) == 1 else 'entries'} "
            f"{', '.join(unknown)} (sections: {', '.join(sorted(_SCHEMA))}; every key: the README, Settings)"
        )


def _data_dir(env: Mapping[str, str]) -> Path:
    if env.get("MASKGATE_HOME"):
        return Path(env["MASKGATE_HOME"])
    xdg = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".local" / "share")
    return Path(xdg) / "maskgate"


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            doc: dict[str, Any] = tomllib.load(f)
    except OSError as e:
        raise SettingsError(f"MASKGATE_CONFIG={path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"MASKGATE_CONFIG={path}: not valid TOML: {e}") from None
    _check_schema(path, doc)
    return doc


def _previous_keys(value: str) -> tuple[str, ...]:
    """MASKGATE_STORE_KEY_PREVIOUS: keys still read during a rotation, newest first."""
    return tuple(k for k in re.split(r"[\s,]+", value) if k)


def _env_ref(env: Mapping[str, str], name: object) -> str | None:
    return env.get(name) if isinstance(name, str) and name else None


def _tenant(env: Mapping[str, str], t: Mapping[str, Any]) -> Tenant:
    name = t.get("name")
    key = t.get("key") or _env_ref(env, t.get("key_env"))
    if not isinstance(name, str) or not name:
        raise SettingsError("config [[tenants]]: every tenant needs a name")
    if not isinstance(key, str) or len(key) < 16:
        raise SettingsError(f"config tenant {name!r}: needs `key` or `key_env` naming a set variable (16+ chars)")
    return Tenant(name, key)


def _route(env: Mapping[str, str], r: Mapping[str, Any]) -> Route:
    model, target = r.get("model"), r.get("litellm_model")
    if not isinstance(model, str) or not isinstance(target, str):
        raise SettingsError("config [[routes]]: every route needs `model` and `litellm_model`")
    return Route(model, target, r.get("api_base"), r.get("api_key") or _env_ref(env, r.get("api_key_env")))


def _cli_path(c: Mapping[str, Any], base: Path) -> str | None:
    """`cli_path` as given when it is a bare command name (looked up on PATH), else relative to the config."""
    raw = c.get("cli_path")
    if not isinstance(raw, str) or not raw:
        return None
    return str(base / raw) if "/" in raw else raw


def _claude_code(env: Mapping[str, str], c: Mapping[str, Any], base: Path) -> ClaudeCodeSettings:
    admin_key = c.get("admin_key") or _env_ref(env, c.get("admin_key_env"))
    try:
        return ClaudeCodeSettings(
            enabled=c.get("enabled", False) is True,
            admin_key=admin_key if isinstance(admin_key, str) and admin_key else None,
            roots=tuple(base / str(r) for r in c.get("roots", [])),
            allow_bypass_permissions=c.get("allow_bypass_permissions", False) is True,
            max_concurrent=int(c.get("max_concurrent", 2)),
            timeout_seconds=float(c.get("timeout_seconds", 300.0)),
            max_turns=int(c.get("max_turns", 50)),
            tenant=str(c.get("tenant", DEFAULT_TENANT)),
            gateway_url=str(c["gateway_url"]).rstrip("/") if c.get("gateway_url") else None,
            pass_env=tuple(str(n) for n in c.get("pass_env", [])),
        )
    except (TypeError, ValueError) as e:
        raise SettingsError(f"config [claude_code]: {e}") from None


def _check_claude_code(s: Settings) -> None:
    c = s.claude_code
    if not c.enabled:
        return
    where = "config [claude_code]"
    if not c.admin_key or len(c.admin_key) < 16:
        raise SettingsError(f"{where}: enabled needs `admin_key_env` naming a set variable (16+ random chars)")
    if any(c.admin_key == t.key for t in s.all_tenants):
        raise SettingsError(f"{where}: the admin key must differ from the master key and every tenant key")
    if not c.roots:
        raise SettingsError(f"{where}: enabled needs `roots`, the directories runs may use as their cwd")
    if c.max_concurrent < 1 or c.timeout_seconds <= 0 or c.max_turns < 1:
        raise SettingsError(f"{where}: max_concurrent, timeout_seconds and max_turns must be positive")
    if c.tenant not in {t.name for t in s.all_tenants}:
        raise SettingsError(f"{where}: tenant {c.tenant!r} is not a configured tenant")
    if c.gateway_url and not c.gateway_url.startswith(("http://", "https://")):
        raise SettingsError(f"{where}: gateway_url must start with http:// or https://")


def _check(s: Settings) -> None:
    names = [t.name for t in s.all_tenants]
    if len(set(names)) != len(names):
        raise SettingsError("config: tenant names must be unique (and `default` is the master key's)")
    keys = [t.key for t in s.all_tenants]
    if len(set(keys)) != len(keys):
        raise SettingsError("config: two tenants share a key")
    if not s.upstream_url.startswith(("http://", "https://")):
        raise SettingsError("MASKGATE_UPSTREAM_URL must start with http:// or https://")
    if s.redis_url and not s.store_key:
        raise SettingsError(
            "MASKGATE_STORE_KEY is required with MASKGATE_REDIS_URL: every replica must share the key that "
            "encrypts the map (generate one with `maskgate keygen`)"
        )
    if not 1 <= s.port <= 65535:
        raise SettingsError(f"port {s.port} (--port, MASKGATE_PORT or [server] port) is not a TCP port: use 1-65535")
    if s.workers < 1:
        raise SettingsError(
            f"workers {s.workers} (--workers, MASKGATE_WORKERS or [server] workers): use 1 or more worker processes"
        )
    for name, value in (
        ("MASKGATE_MAX_BODY_BYTES", s.max_body_bytes),
        ("MASKGATE_MAX_IDENTIFIERS", s.max_identifiers),
        ("MASKGATE_MAX_STRING_BYTES", s.max_string_bytes),
        ("MASKGATE_BODY_TIMEOUT", s.body_timeout),
        ("MASKGATE_UPSTREAM_TIMEOUT", s.upstream_timeout),
    ):
        if not value > 0:
            raise SettingsError(f"{name} must be positive")
    if s.scan_cache < 0:
        raise SettingsError("MASKGATE_SCAN_CACHE must be 0 (off) or a positive number of strings")
    if s.store_key_previous and not s.store_key:
        raise SettingsError("MASKGATE_STORE_KEY_PREVIOUS needs MASKGATE_STORE_KEY (the new current key)")
    if s.log_format not in {"auto", "json", "text"}:
        raise SettingsError("MASKGATE_LOG_FORMAT must be auto, json or text")
    _check_claude_code(s)
    _check_console(s)


def _console(env: Mapping[str, str], c: Mapping[str, Any], base: Path) -> ConsoleSettings:
    """`[console]`, with `MASKGATE_CONSOLE` and `MASKGATE_ADMIN_KEY` winning over the file."""
    enabled = str(env.get("MASKGATE_CONSOLE", c.get("enabled", ""))).lower() in {"1", "true", "yes", "on"}
    admins: list[ConsoleAdmin] = []
    operator_key = env.get("MASKGATE_ADMIN_KEY") or _env_ref(env, c.get("admin_key_env"))
    if operator_key:
        admins.append(ConsoleAdmin("admin", operator_key))
    for a in c.get("admins", []):
        name, key, tenants = a.get("name"), a.get("key") or _env_ref(env, a.get("key_env")), a.get("tenants")
        if not isinstance(name, str) or not name or not isinstance(key, str):
            raise SettingsError("config [[console.admins]]: every admin needs a name and `key` or `key_env` (set)")
        if tenants is not None and (not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants)):
            raise SettingsError(f"config console admin {name!r}: `tenants` must be a list of tenant names")
        admins.append(ConsoleAdmin(name, key, tuple(tenants) if tenants is not None else None))
    path = c.get("path")
    return ConsoleSettings(
        enabled=enabled,
        admins=tuple(admins),
        path=base / path if path else None,
        session_seconds=int(float(c.get("session_hours", 8)) * 3600),
        capture_max_seconds=int(float(c.get("capture_max_minutes", 60)) * 60),
        capture_retention_seconds=int(float(c.get("capture_retention_hours", 24)) * 3600),
        capture_max_entries=int(c.get("capture_max_entries", 200)),
        capture_max_bytes=int(c.get("capture_max_bytes", 2 * 1024 * 1024)),
    )


def _check_console(s: Settings) -> None:
    c = s.console
    if not c.enabled:
        return
    if not c.admins:
        raise SettingsError(
            "the console is enabled but has no admin key: set MASKGATE_ADMIN_KEY (not a client key), "
            "or add [[console.admins]]"
        )
    client_keys = {t.key for t in s.all_tenants}
    tenant_names = {t.name for t in s.all_tenants}
    if len({a.name for a in c.admins}) != len(c.admins) or len({a.key for a in c.admins}) != len(c.admins):
        raise SettingsError("config console: admin names and keys must be unique")
    for a in c.admins:
        if len(a.key) < 16:
            raise SettingsError(f"console admin {a.name!r}: the key is too short (16+ characters)")
        if a.key in client_keys:
            raise SettingsError(f"console admin {a.name!r}: the admin key must not be a client key")
        unknown = set(a.tenants or ()) - tenant_names
        if unknown:
            raise SettingsError(f"console admin {a.name!r}: unknown tenants {sorted(unknown)}")
    for name, value in (
        ("session_hours", c.session_seconds),
        ("capture_max_minutes", c.capture_max_seconds),
        ("capture_retention_hours", c.capture_retention_seconds),
        ("capture_max_entries", c.capture_max_entries),
        ("capture_max_bytes", c.capture_max_bytes),
    ):
        if not value > 0:
            raise SettingsError(f"config console: {name} must be positive")
