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
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_identifiers: int = DEFAULT_MAX_IDENTIFIERS
    max_string_bytes: int = DEFAULT_MAX_STRING
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    upstream_timeout: float = 600.0
    catalogues: tuple[Path, ...] = ()
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    tenants: tuple[Tenant, ...] = ()
    routes: tuple[Route, ...] = ()
    log_format: str = "auto"

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
            "store_ttl_seconds": int(env.get("MASKGATE_STORE_TTL") or store.get("ttl_seconds") or DEFAULT_TTL_SECONDS),
            "config_path": config_path,
            "host": env.get("MASKGATE_HOST") or server.get("host") or "127.0.0.1",
            "port": int(env.get("MASKGATE_PORT") or server.get("port") or 8000),
            "max_body_bytes": int(
                env.get("MASKGATE_MAX_BODY_BYTES") or server.get("max_body_bytes") or DEFAULT_MAX_BODY
            ),
            "max_identifiers": int(
                env.get("MASKGATE_MAX_IDENTIFIERS") or server.get("max_identifiers") or DEFAULT_MAX_IDENTIFIERS
            ),
            "max_string_bytes": int(
                env.get("MASKGATE_MAX_STRING_BYTES") or server.get("max_string_bytes") or DEFAULT_MAX_STRING
            ),
            "body_timeout": float(
                env.get("MASKGATE_BODY_TIMEOUT") or server.get("body_timeout_seconds") or DEFAULT_BODY_TIMEOUT
            ),
            "upstream_timeout": float(env.get("MASKGATE_UPSTREAM_TIMEOUT") or upstream.get("timeout_seconds") or 600.0),
            "catalogues": tuple(base / p for p in masking.get("catalogues", [])),
            "enable": tuple(enable),
            "disable": tuple(masking.get("disable", [])),
            "tenants": tuple(_tenant(env, t) for t in doc.get("tenants", [])),
            "routes": tuple(_route(env, r) for r in doc.get("routes", [])),
            "log_format": env.get("MASKGATE_LOG_FORMAT") or server.get("log_format") or "auto",
        }
        values.update(overrides)
        settings = cls(**values)
        _check(settings)
        return settings


def _data_dir(env: Mapping[str, str]) -> Path:
    if env.get("MASKGATE_HOME"):
        return Path(env["MASKGATE_HOME"])
    xdg = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".local" / "share")
    return Path(xdg) / "maskgate"


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            doc: dict[str, Any] = tomllib.load(f)
            return doc
    except OSError as e:
        raise SettingsError(f"MASKGATE_CONFIG={path}: cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"MASKGATE_CONFIG={path}: not valid TOML: {e}") from None


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
    for name, value in (
        ("MASKGATE_MAX_BODY_BYTES", s.max_body_bytes),
        ("MASKGATE_MAX_IDENTIFIERS", s.max_identifiers),
        ("MASKGATE_MAX_STRING_BYTES", s.max_string_bytes),
        ("MASKGATE_BODY_TIMEOUT", s.body_timeout),
        ("MASKGATE_UPSTREAM_TIMEOUT", s.upstream_timeout),
    ):
        if not value > 0:
            raise SettingsError(f"{name} must be positive")
    if s.store_key_previous and not s.store_key:
        raise SettingsError("MASKGATE_STORE_KEY_PREVIOUS needs MASKGATE_STORE_KEY (the new current key)")
    if s.log_format not in {"auto", "json", "text"}:
        raise SettingsError("MASKGATE_LOG_FORMAT must be auto, json or text")
