"""Mapping store: original <-> (kind, n) per namespace, persistent and shared between workers.

Two backends with one contract (:class:`MappingStore`): :class:`EmbeddedStore` (SQLite file, one
machine, many worker processes) and :class:`RedisStore` (Redis or Redis Cluster, many replicas).
Originals are only ever stored HMAC-indexed and AES-GCM-encrypted (see :mod:`maskgate.store.crypto`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .base import DEFAULT_TTL_SECONDS, MappingStore, StoreError, StoreKeyMismatch, StoreUnavailable
from .crypto import StoreKey
from .embedded import EmbeddedStore
from .redis import RedisStore

if TYPE_CHECKING:
    from maskgate.settings import Settings

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "EmbeddedStore",
    "MappingStore",
    "RedisStore",
    "StoreError",
    "StoreKey",
    "StoreKeyMismatch",
    "StoreUnavailable",
    "key_file_for",
    "key_from_settings",
    "open_store",
    "open_store_from_settings",
]

KEY_FILE_SUFFIX = ".key"


def open_store(
    redis_url: str | None,
    embedded_path: Path,
    key: StoreKey | None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    redis_prefix: str = "maskgate:",
) -> MappingStore:
    """RedisStore when a URL is given, else EmbeddedStore at embedded_path.

    Redis needs an explicit key (every replica must share it, so it cannot be generated here). The
    embedded store without a key uses ``<db file>.key`` beside the database, created 0600 on first use.
    """
    if redis_url:
        if key is None:
            raise StoreError("a store key (MASKGATE_STORE_KEY) is required with a Redis store")
        return RedisStore.from_url(redis_url, key, ttl_seconds=ttl_seconds, prefix=redis_prefix)
    path = Path(embedded_path)
    if key is not None:
        return EmbeddedStore(path, key, ttl_seconds=ttl_seconds)
    key_file = key_file_for(path)
    return EmbeddedStore(path, StoreKey.load_or_create(key_file), ttl_seconds=ttl_seconds, key_file=key_file)


def key_file_for(embedded_path: Path) -> Path:
    """Where the embedded store keeps its key when MASKGATE_STORE_KEY is not set: beside the database."""
    return embedded_path.with_name(embedded_path.name + KEY_FILE_SUFFIX)


def key_from_settings(settings: Settings) -> StoreKey | None:
    """MASKGATE_STORE_KEY (with MASKGATE_STORE_KEY_PREVIOUS), or None: the embedded store's key file."""
    return StoreKey(settings.store_key, settings.store_key_previous) if settings.store_key else None


def open_store_from_settings(settings: Settings) -> MappingStore:
    """The store the settings name: the one place that turns settings into a store.

    Creates the embedded store's directory on first use; Redis needs `MASKGATE_STORE_KEY`.
    """
    key = key_from_settings(settings)
    if not settings.redis_url:
        settings.store_path.parent.mkdir(parents=True, exist_ok=True)
    return open_store(settings.redis_url, settings.store_path, key, settings.store_ttl_seconds, settings.redis_prefix)
