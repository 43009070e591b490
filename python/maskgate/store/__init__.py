"""Mapping store: original <-> (kind, n) per namespace, persistent and shared between workers.

Two backends with one contract (:class:`MappingStore`): :class:`EmbeddedStore` (SQLite file, one
machine, many worker processes) and :class:`RedisStore` (Redis or Redis Cluster, many replicas).
Originals are only ever stored HMAC-indexed and AES-GCM-encrypted (see :mod:`maskgate.store.crypto`).
"""

from __future__ import annotations

from pathlib import Path

from .base import DEFAULT_TTL_SECONDS, MappingStore, StoreError, StoreUnavailable
from .crypto import StoreKey
from .embedded import EmbeddedStore
from .redis import RedisStore

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "EmbeddedStore",
    "MappingStore",
    "RedisStore",
    "StoreError",
    "StoreKey",
    "StoreUnavailable",
    "open_store",
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
    if key is None:
        key = StoreKey.load_or_create(path.with_name(path.name + KEY_FILE_SUFFIX))
    return EmbeddedStore(path, key, ttl_seconds=ttl_seconds)
