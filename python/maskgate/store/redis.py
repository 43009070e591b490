"""Redis mapping store, shared by every gateway replica (standalone Redis or Redis Cluster).

Layout per namespace; the ``{ns}`` hash tag keeps all five keys in one cluster slot, so one Lua script
can touch them atomically::

    <prefix>{<ns>}:o2p   hash  index_hash (32-byte HMAC) -> "kind:n"       TTL, refreshed on use
    <prefix>{<ns>}:p2o   hash  "kind:n" -> version|nonce|AES-GCM(original)  TTL, refreshed on use
    <prefix>{<ns>}:ctr   hash  kind -> last n                               no TTL: n never goes back
    <prefix>{<ns>}:log   zset  "kind:n" scored by seq (creation order)     TTL, refreshed on use
    <prefix>{<ns>}:head  hash  epoch, seq (the change log's head)          TTL, refreshed on use

One more key, outside every namespace's hash tag, holds the key check (see `MappingStore.verify`)::

    <prefix>keycheck     string  the canary sealed under the current store key    no TTL

The change log holds no original: ``changes()`` reads the sealed values from p2o in the same script.
A namespace whose keys expired or were flushed loses its head, and the next write starts a new epoch
(a random number the client sends), so every process notices and reloads.

get_or_create is one EVALSHA (EVAL on NOSCRIPT) per attempt. The ciphertext is bound to its slot
``(namespace, kind, n)``, and only the client holds the key, so the client has to encrypt for the n the
script is going to allocate. It therefore sends, with the items, its expectation of each new item's n
(from the counters the previous call returned, 0 for an unknown namespace; originals this process
has already seen mapped are sent as "expected to exist", without ciphertext). The script looks every
item up (under the index hash of each configured key) and, only if every new item's n equals
``counter + rank`` as expected, writes all of them and bumps the counters; otherwise it writes nothing
and returns what exists plus the real counters, and the client retries once with exact data. Usually
that is one round trip (a new namespace, or the same process adding to it); a namespace that another
replica wrote to since this process last saw it costs a second one. Atomicity, "same original -> same
(kind, n)" and "n never reused" come from the script alone.

Each call also sends, per kind, the highest n this process has seen (a floor): a Redis that lost its
latest writes (restarted without persistence, or killed between two AOF fsyncs) then never hands a
number this process already gave out to another original: the model may still have it in context.

Every command is idempotent, so redis-py's retries after a lost reply are safe. Connection problems and
timeouts become StoreUnavailable; the connection pool reconnects by itself when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import random
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Sequence
from typing import Any, TypeVar, cast

from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from .base import (
    DEFAULT_TTL_SECONDS,
    StoreError,
    StoreKeyMismatch,
    StoreUnavailable,
    check_kind,
    check_mark,
    check_namespace,
    check_ttl,
    dedupe,
    make_mark,
    mark_epoch,
    mark_seq,
    new_epoch,
    reserve_floors,
)
from .crypto import StoreKey

__all__ = ["DEFAULT_PREFIX", "RedisStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PREFIX = "maskgate:"
_MAX_ATTEMPTS = 40
_LOCK_STRIPES = 64
_COUNTER_CACHE_SIZE = 4096
_REKEY_BATCH = 500
_KEY_CHECK_SAMPLE = 16  # entries tried on a store from before the canary
_KEY_CHECK_SCAN_SECONDS = 60.0  # finding one entry in a big store from before the canary (once)
_SEEN_CACHE_SIZE = 50_000  # hints only: the script re-checks everything, so staleness costs a retry

# KEYS: o2p, p2o, ctr, log, head.  ARGV: ttl_ms, H, F, epoch, then F pairs kind, floor, then per item:
# kind, expected_n, blob, hash_1..hash_H (hash_1 = current key). expected_n 0 means "I believe it
# exists"; a kind's next n is max(counter, floor) + 1; epoch is used when the log has no head yet.
# Returns {ok, ref_1..ref_N, kind, counter, kind, counter, ...}; on ok=0 nothing was written and the
# refs of items that do not exist are "".
_GET_OR_CREATE = r"""
local o2p, p2o, ctr, log, head = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local ttl = tonumber(ARGV[1])
local H = tonumber(ARGV[2])
local F = tonumber(ARGV[3])
local floor = {}
for f = 1, F do
  floor[ARGV[3 + 2 * f]] = tonumber(ARGV[4 + 2 * f])
end
local base = 4 + 2 * F
local stride = 3 + H
local count = (#ARGV - base) / stride
local refs, at, nxt, kinds, stored = {}, {}, {}, {}, {}
local ok = 1
for i = 1, count do
  local b = base + (i - 1) * stride
  local kind = ARGV[b + 1]
  local ref = false
  for j = 1, H do
    local v = redis.call('HGET', o2p, ARGV[b + 3 + j])
    if v and redis.call('HEXISTS', p2o, v) == 1 then
      ref = v
      at[i] = j
      break
    end
  end
  if nxt[kind] == nil then
    stored[kind] = tonumber(redis.call('HGET', ctr, kind) or '0')
    nxt[kind] = math.max(stored[kind], floor[kind] or 0)
    kinds[#kinds + 1] = kind
  end
  if ref then
    refs[i] = ref
  else
    at[i] = 0
    local n = nxt[kind] + 1
    nxt[kind] = n
    refs[i] = kind .. ':' .. n
    if tonumber(ARGV[b + 2]) ~= n then ok = 0 end
  end
end
local out = {ok}
if ok == 1 then
  local seq = false
  for i = 1, count do
    local b = base + (i - 1) * stride
    if at[i] == 0 then
      redis.call('HSET', o2p, ARGV[b + 4], refs[i])
      redis.call('HSET', p2o, refs[i], ARGV[b + 3])
      if not seq then
        if redis.call('HSETNX', head, 'epoch', ARGV[4]) == 1 then redis.call('HSET', head, 'seq', 0) end
        seq = tonumber(redis.call('HGET', head, 'seq') or '0')
      end
      seq = seq + 1
      redis.call('ZADD', log, seq, refs[i])
    elseif at[i] > 1 then
      redis.call('HSET', o2p, ARGV[b + 4], refs[i])
      redis.call('HDEL', o2p, ARGV[b + 3 + at[i]])
    end
    out[#out + 1] = refs[i]
  end
  for _, kind in ipairs(kinds) do
    if nxt[kind] > stored[kind] then redis.call('HSET', ctr, kind, nxt[kind]) end
  end
  if seq then redis.call('HSET', head, 'seq', seq) end
  for _, k in ipairs({o2p, p2o, log, head}) do redis.call('PEXPIRE', k, ttl) end
else
  for i = 1, count do
    if at[i] == 0 then out[#out + 1] = '' else out[#out + 1] = refs[i] end
  end
end
for _, kind in ipairs(kinds) do
  out[#out + 1] = kind
  out[#out + 1] = tostring(tonumber(redis.call('HGET', ctr, kind) or '0'))
end
return out
"""

# KEYS: o2p, p2o, log, head.  ARGV: ttl_ms, field...  -> values (nil when missing); refreshes the TTL.
_LOOKUP = r"""
local out = {}
for i = 2, #ARGV do
  out[i - 1] = redis.call('HGET', KEYS[2], ARGV[i])
end
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[1]) end
return out
"""

# KEYS: o2p, p2o, log, head.  ARGV: ttl_ms  -> flat HGETALL of p2o; refreshes the TTL.
_LOAD = r"""
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[1]) end
return redis.call('HGETALL', KEYS[2])
"""

# KEYS: o2p, p2o, log, head.  ARGV: ttl_ms, since_epoch, since_seq  -> {epoch, seq, field, blob, ...}
# with the entries logged after since_seq in log order, or after 0 when the epoch is another one or
# since_seq is ahead of the head (a Redis that lost writes). {"0", "0"} when the namespace is empty.
_CHANGES = r"""
local head = redis.call('HMGET', KEYS[4], 'epoch', 'seq')
if not head[1] then return {'0', '0'} end
local seq = tonumber(head[2] or '0')
local from = tonumber(ARGV[3])
if head[1] ~= ARGV[2] or from > seq then from = 0 end
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[1]) end
local out = {head[1], tostring(seq)}
if from < seq then
  for _, field in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. from, '+inf')) do
    local blob = redis.call('HGET', KEYS[2], field)
    if blob then
      out[#out + 1] = field
      out[#out + 1] = blob
    end
  end
end
return out
"""

# KEYS: o2p, p2o.  ARGV: H, then per entry: field, old_blob, new_blob, hash_1..hash_H.
# Compare-and-set per entry, so a concurrent get_or_create is never overwritten. Returns entries applied.
_REKEY = r"""
local H = tonumber(ARGV[1])
local stride = 3 + H
local count = (#ARGV - 1) / stride
local done = 0
for i = 1, count do
  local b = 1 + (i - 1) * stride
  local field = ARGV[b + 1]
  if redis.call('HGET', KEYS[2], field) == ARGV[b + 2] then
    if ARGV[b + 3] ~= ARGV[b + 2] then redis.call('HSET', KEYS[2], field, ARGV[b + 3]) end
    redis.call('HSET', KEYS[1], ARGV[b + 4], field)
    for j = 2, H do
      local h = ARGV[b + 3 + j]
      if redis.call('HGET', KEYS[1], h) == field then redis.call('HDEL', KEYS[1], h) end
    end
    done = done + 1
  end
end
local pttl = redis.call('PTTL', KEYS[2])
if pttl > 0 and redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], pttl) end
return done
"""

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    rexc.ConnectionError,  # includes BusyLoadingError, MaxConnectionsError, auth failures
    rexc.TimeoutError,
    rexc.ClusterDownError,  # includes MasterDownError
    rexc.TryAgainError,
    rexc.ReadOnlyError,
    rexc.OutOfMemoryError,
    rexc.RedisClusterException,  # includes SlotNotCoveredError
    OSError,
    asyncio.TimeoutError,
)


def redis_client(
    url: str,
    *,
    cluster: bool | None = None,
    socket_timeout: float = 2.0,
    connect_timeout: float = 1.0,
    retries: int = 2,
) -> Redis | RedisCluster:
    """A client for ``redis://``, ``rediss://``, ``unix://`` or ``redis+cluster://`` / ``rediss+cluster://``.

    Timeouts are short on purpose: a gateway request should fail fast with StoreUnavailable rather
    than hang; redis-py retries a couple of times with jittered backoff and reconnects by itself.
    Shared by the mapping store and the console's store.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreError("redis url must have a scheme, e.g. redis://host:6379/0")
    if scheme.endswith("+cluster"):
        scheme = scheme[: -len("+cluster")]
        cluster = True if cluster is None else cluster
    plain_url = f"{scheme}://{rest}"
    common: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "socket_keepalive": True,
        "health_check_interval": 30,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries),
        "decode_responses": False,
    }
    try:
        if cluster:
            return RedisCluster.from_url(plain_url, **common)
        return Redis.from_url(plain_url, retry_on_timeout=True, **common)
    except (ValueError, rexc.RedisError, rexc.RedisClusterException) as exc:
        raise StoreError(f"invalid redis url or options: {type(exc).__name__}") from None


async def redis_call(client: Redis | RedisCluster, aw: Awaitable[T], timeout: float, what: str = "redis") -> T:
    """Await a Redis operation, turning transport failures into StoreUnavailable (message-safe)."""
    try:
        return await asyncio.wait_for(_initialized(client, aw), timeout)
    except StoreError:
        raise
    except _UNAVAILABLE as exc:
        # Transport errors name host:port at most; keep them as the cause for operators.
        raise StoreUnavailable(f"{what} unavailable: {type(exc).__name__}") from exc
    except rexc.RedisError as exc:
        raise StoreError(f"{what} error: {type(exc).__name__}") from None


async def _initialized(client: Redis | RedisCluster, aw: Awaitable[T]) -> T:
    """Initialize a cluster client (once, under its lock) before the command is routed.

    redis-py resolves a command's routing policy before it initializes the cluster client, so
    commands issued concurrently on a fresh (or reset) client go to arbitrary nodes, collect MOVED
    replies, and after a few of those the client resets every connection, failing the others.
    ``initialize()`` is a no-op once done and serializes the first one.
    """
    if isinstance(client, RedisCluster):
        await client.initialize()
    return await aw


class _Script:
    """EVALSHA with EVAL fallback; EVAL also caches the script on whichever node ran it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, client: Redis | RedisCluster, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except rexc.NoScriptError:
            return await client.execute_command("EVAL", self.source, len(keys), *keys, *args)


class RedisStore:
    """MappingStore on Redis; safe to share between many replicas (see module docstring)."""

    def __init__(
        self,
        client: Redis | RedisCluster,
        key: StoreKey,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        *,
        prefix: str = DEFAULT_PREFIX,
        op_timeout: float = 5.0,
    ) -> None:
        check_ttl(ttl_seconds)
        if "{" in prefix or "}" in prefix:
            raise StoreError("prefix must not contain braces (they would change the cluster hash tag)")
        self._client = client
        self._key = key
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._prefix = prefix
        self._op_timeout = op_timeout
        self._counters: OrderedDict[str, dict[str, int]] = OrderedDict()
        self._seen: OrderedDict[bytes, tuple[str, int]] = OrderedDict()
        self._locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]
        self._goc = _Script(_GET_OR_CREATE)
        self._lookup = _Script(_LOOKUP)
        self._load = _Script(_LOAD)
        self._changes = _Script(_CHANGES)
        self._rekey = _Script(_REKEY)
        self._closed = False
        self._verified = False
        self.round_trips = 0
        """Script calls made by get_or_create (observability and tests)."""

    @classmethod
    def from_url(
        cls,
        url: str,
        key: StoreKey,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        cluster: bool | None = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 2.0,
        connect_timeout: float = 1.0,
        op_timeout: float = 5.0,
        retries: int = 2,
    ) -> RedisStore:
        """Build from a URL (the client, its timeouts and retries: `redis_client`)."""
        client = redis_client(
            url, cluster=cluster, socket_timeout=socket_timeout, connect_timeout=connect_timeout, retries=retries
        )
        return cls(client, key, ttl_seconds, prefix=prefix, op_timeout=op_timeout)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self._prefix!r}, ttl_seconds={self._ttl_ms / 1000:g})"

    def _keys(self, namespace: str) -> tuple[str, str, str, str, str]:
        """o2p, p2o, ctr, log, head: one hash tag, so one cluster slot."""
        base = f"{self._prefix}{{{namespace}}}:"
        return base + "o2p", base + "p2o", base + "ctr", base + "log", base + "head"

    def _ttl_keys(self, namespace: str) -> list[str]:
        """The keys that live and expire together (all but the counters)."""
        o2p, p2o, _, log_key, head = self._keys(namespace)
        return [o2p, p2o, log_key, head]

    async def _call(self, aw: Awaitable[T], timeout: float | None = None) -> T:
        """Await a Redis operation, turning transport failures into StoreUnavailable (message-safe)."""
        if self._closed:
            if inspect.iscoroutine(aw):
                aw.close()  # never started; avoids a "never awaited" warning
            raise StoreError("store is closed")
        return await redis_call(self._client, aw, timeout or self._op_timeout)

    # -- MappingStore -----------------------------------------------------------------------------------

    async def get_or_create(
        self, namespace: str, items: Sequence[tuple[str, str]], reserve: Sequence[tuple[str, int]] = ()
    ) -> list[tuple[str, int]]:
        check_namespace(namespace)
        unique, where = dedupe(items)
        if not unique:
            return []
        await self._verify_once()
        hashes = [self._key.index_hashes(namespace, original) for _, original in unique]
        # One writer per namespace in this process: its concurrent requests would otherwise plan the
        # same numbers and all but one retry, and a steady stream of them could starve one.
        async with self._locks[hash(namespace) % len(self._locks)]:
            return await self._get_or_create(namespace, unique, where, hashes, reserve_floors(reserve))

    async def _get_or_create(
        self,
        namespace: str,
        unique: list[tuple[str, str]],
        where: list[int],
        hashes: list[list[bytes]],
        reserved: dict[str, int],
    ) -> list[tuple[str, int]]:
        keys = self._keys(namespace)
        # Items this process has seen mapped are expected to exist (no ciphertext sent), so a batch
        # mixing known and new originals still plans the right n on the first attempt.
        known = [self._seen.get(hs[0]) for hs in hashes]
        kinds = sorted({kind for kind, _ in unique})
        for attempt in range(_MAX_ATTEMPTS):
            # The highest n seen per kind: the plan, and the floor below which Redis may not go.
            floors = self._counters.get(namespace, {})
            planned = {kind: max(floors.get(kind, 0), reserved.get(kind, 0)) for kind in kinds}
            args: list[Any] = [self._ttl_ms, self._key.key_count, len(kinds), new_epoch()]
            for kind in kinds:
                args += [kind, planned[kind]]
            for (kind, original), hs, ref in zip(unique, hashes, known, strict=True):
                if ref is not None:
                    args += [kind, 0, b"", *hs]
                    continue
                n = planned.get(kind, 0) + 1
                planned[kind] = n
                args += [kind, n, self._key.encrypt(namespace, kind, n, original), *hs]
            self.round_trips += 1
            reply = await self._call(self._goc(self._client, keys, args))
            ok, refs, counters = _parse_goc_reply(reply, len(unique))
            self._remember(namespace, counters)  # merged with max: never below what was seen
            if ok:
                out = [_parse_ref(r) for r in refs]
                self._remember_refs(hashes, out)
                return [out[i] for i in where]
            known = [_parse_ref(r) if r else None for r in refs]
            if attempt >= 1:  # real contention: exponential back-off with full jitter, capped
                await asyncio.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise StoreUnavailable("redis store: too much write contention on one namespace, try again")

    async def lookup(self, namespace: str, refs: Sequence[tuple[str, int]]) -> list[str | None]:
        check_namespace(namespace)
        norm = [(kind, int(n)) for kind, n in refs]
        for kind, _ in norm:
            check_kind(kind)
        if not norm:
            return []
        await self._verify_once()
        fields = [f"{kind}:{n}" for kind, n in norm]
        reply = await self._call(self._lookup(self._client, self._ttl_keys(namespace), [self._ttl_ms, *fields]))
        if not isinstance(reply, list) or len(reply) > len(norm):
            raise StoreError("redis store: unexpected reply")
        reply = reply + [None] * (len(norm) - len(reply))  # Lua drops trailing nils
        return [
            None if blob is None else self._decrypt_or_none(namespace, kind, n, blob)
            for (kind, n), blob in zip(norm, reply, strict=True)
        ]

    async def load(self, namespace: str) -> list[tuple[str, int, str]]:
        check_namespace(namespace)
        await self._verify_once()
        reply = await self._call(self._load(self._client, self._ttl_keys(namespace), [self._ttl_ms]))
        out = self._entries(namespace, reply)
        out.sort(key=lambda t: (t[0], t[1]))
        return out

    async def changes(self, namespace: str, since: int) -> tuple[list[tuple[str, int, str]], int]:
        check_namespace(namespace)
        check_mark(since)
        await self._verify_once()
        args = [self._ttl_ms, str(mark_epoch(since)), mark_seq(since)]
        reply = await self._call(self._changes(self._client, self._ttl_keys(namespace), args))
        if not isinstance(reply, list) or len(reply) < 2 or len(reply) % 2:
            raise StoreError("redis store: unexpected reply")
        try:
            epoch, seq = int(_text(reply[0])), int(_text(reply[1]))
        except ValueError:
            raise StoreError("redis store: unexpected reply") from None
        return self._entries(namespace, reply[2:]), make_mark(epoch, seq) if epoch else 0

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._client.ping()))
        except StoreError:
            return False

    async def verify(self) -> None:
        key = self._prefix + "keycheck"
        for _ in range(3):
            blob: Any = await self._call(self._client.get(key))
            if blob is not None:
                opened = self._key.open_canary(blob)
                if opened is None:
                    raise StoreKeyMismatch(f"redis prefix {self._prefix!r}")
                if not opened:  # a rotation: from now on the current key is the one that opens it
                    await self._call(self._client.set(key, self._key.canary()))
                break
            if not await self._call(self._old_entries_open(), _KEY_CHECK_SCAN_SECONDS):
                raise StoreKeyMismatch(f"redis prefix {self._prefix!r}")
            if await self._call(self._client.set(key, self._key.canary(), nx=True)):
                break
            # another process wrote the canary in between: check that one
        else:
            raise StoreUnavailable("redis store: the key check did not settle, try again")
        self._verified = True

    async def _verify_once(self) -> None:
        if not self._verified:
            await self.verify()

    async def _old_entries_open(self) -> bool:
        """A store from before the canary: True when it has no entry, or the key opens one of them."""
        tried = 0
        pattern = f"{self._prefix}{{*}}:p2o"
        names = cast(AsyncGenerator[Any, None], self._client.scan_iter(match=pattern, count=500))
        async with contextlib.aclosing(names):
            async for raw in names:
                name = raw.decode() if isinstance(raw, bytes) else str(raw)
                namespace = name[len(self._prefix) + 1 : -len("}:p2o")]
                flat: Any = await self._client.hrandfield(raw, _KEY_CHECK_SAMPLE, withvalues=True) or []
                for field, blob in zip(flat[0::2], flat[1::2], strict=True):
                    kind, n = _parse_ref(field)
                    try:
                        self._key.decrypt(namespace, kind, n, blob)
                    except StoreError:
                        continue
                    return True
                tried += len(flat) // 2
                if tried >= _KEY_CHECK_SAMPLE:
                    return False
        return tried == 0

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._client.aclose()

    # -- maintenance ------------------------------------------------------------------------------------

    async def rekey(self, namespace: str) -> int:
        """Re-encrypt and re-index one namespace under the current key; returns entries rewritten.

        Runs a compare-and-set script, so it is safe while the gateway keeps serving. Run it for every
        namespace (``rekey_all``) before removing a previous key from the configuration.
        """
        check_namespace(namespace)
        await self._verify_once()
        o2p, p2o, *_ = self._keys(namespace)
        values: dict[Any, Any] = await self._call(self._client.hgetall(p2o))
        index: dict[Any, Any] = await self._call(self._client.hgetall(o2p))
        batches: list[list[Any]] = []
        bad = 0
        for field, blob in values.items():
            kind, n = _parse_ref(field)
            try:
                original, current = self._key.decrypt(namespace, kind, n, blob)
            except StoreError:
                bad += 1
                continue
            hs = self._key.index_hashes(namespace, original)
            stale_index = index.get(hs[0]) != field or any(index.get(h) == field for h in hs[1:])
            if current and not stale_index:
                continue
            new_blob = blob if current else self._key.encrypt(namespace, kind, n, original)
            if not batches or len(batches[-1]) >= 1 + _REKEY_BATCH * (3 + len(hs)):
                batches.append([len(hs)])  # bounded scripts, so Redis is never blocked for long
            batches[-1] += [field, blob, new_blob, *hs]
        if bad:
            log.warning("redis store rekey: %d value(s) did not decrypt under any key", bad)
        done = 0
        for args in batches:
            done += int(await self._call(self._rekey(self._client, [o2p, p2o], args)))
        return done

    async def rekey_all(self) -> int:
        """rekey() every namespace under this store's prefix (SCAN; all nodes on a cluster)."""
        total = 0
        for namespace in await self.namespaces():
            total += await self.rekey(namespace)
        return total

    async def namespaces(self) -> list[str]:
        """Names of namespaces that currently have mappings (SCAN, so it does not block Redis)."""

        async def scan() -> list[str]:
            found: set[str] = set()
            pattern = f"{self._prefix}{{*}}:p2o"
            start = len(self._prefix) + 1
            async for raw in self._client.scan_iter(match=pattern, count=500):
                name = raw.decode() if isinstance(raw, bytes) else str(raw)
                found.add(name[start : -len("}:p2o")])
            return sorted(found)

        return await self._call(scan())

    # -- helpers ----------------------------------------------------------------------------------------

    def _remember_refs(self, hashes: list[list[bytes]], refs: list[tuple[str, int]]) -> None:
        """Bounded LRU of current-key index hash -> ref (the hash already binds the namespace)."""
        for hs, ref in zip(hashes, refs, strict=True):
            self._seen[hs[0]] = ref
            self._seen.move_to_end(hs[0])
        while len(self._seen) > _SEEN_CACHE_SIZE:
            self._seen.popitem(last=False)

    def _remember(self, namespace: str, counters: dict[str, int]) -> None:
        """Cache the latest counters so the next call can guess n right (bounded LRU)."""
        merged = self._counters.pop(namespace, {})
        for kind, n in counters.items():
            merged[kind] = max(n, merged.get(kind, 0))
        self._counters[namespace] = merged
        while len(self._counters) > _COUNTER_CACHE_SIZE:
            self._counters.popitem(last=False)

    def _entries(self, namespace: str, flat: list[Any]) -> list[tuple[str, int, str]]:
        """(kind, n, original) of a flat field, blob, field, blob... reply, in its order."""
        out: list[tuple[str, int, str]] = []
        for field, blob in zip(flat[0::2], flat[1::2], strict=True):
            kind, n = _parse_ref(field)
            original = self._decrypt_or_none(namespace, kind, n, blob)
            if original is not None:
                out.append((kind, n, original))
        return out

    def _decrypt_or_none(self, namespace: str, kind: str, n: int, blob: bytes) -> str | None:
        try:
            return self._key.decrypt(namespace, kind, n, blob)[0]
        except StoreError:
            log.warning("redis store: a stored value did not decrypt (wrong or dropped store key?)")
            return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, (str, int)):
        return str(value)
    raise StoreError("redis store: unexpected reply")


def _parse_ref(value: Any) -> tuple[str, int]:
    kind, sep, n = _text(value).rpartition(":")
    if not sep or not kind or not n.isdigit():
        raise StoreError("redis store: malformed stored reference")
    return kind, int(n)


def _parse_goc_reply(reply: Any, count: int) -> tuple[bool, list[str], dict[str, int]]:
    if not isinstance(reply, list) or len(reply) < 1 + count or (len(reply) - 1 - count) % 2:
        raise StoreError("redis store: unexpected reply")
    ok = int(reply[0]) == 1
    refs = [_text(r) for r in reply[1 : 1 + count]]
    tail = reply[1 + count :]
    counters = {_text(k): int(_text(v)) for k, v in zip(tail[0::2], tail[1::2], strict=True)}
    return ok, refs, counters
