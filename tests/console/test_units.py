"""Unit tests: spans and segments, sealing, the sampler, activity, access helpers, settings, and the
console store (audit log, sessions, windows, captures with retention) on SQLite and on Redis."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from maskgate.console.access import LoginThrottle, csrf_token, find_admin, tenants_of, token_hash
from maskgate.console.activity import ActivityLog
from maskgate.console.capture import Span, Tee, byte_offsets, pack, segments, spans, unpack
from maskgate.console.persist import AuditEntry, CaptureMeta, ConsoleStore, RedisConsoleStore, SqliteConsoleStore
from maskgate.console.series import Series, quantile
from maskgate.console.state import capture_context
from maskgate.engine import Engine
from maskgate.metrics import Metrics
from maskgate.settings import ConsoleAdmin, Settings, SettingsError
from maskgate.store import StoreError, StoreKey, StoreUnavailable

from tests.proxy import drop_redis_prefix

# -- spans and segments ---------------------------------------------------------------------


def test_spans_follow_the_engine_on_a_real_body() -> None:
    body = '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"é i-0123456789abcdef0 / vpc-0a1b2c3d"}]}'
    masked = Engine().mask_body(body.encode())
    placed = spans([(f.start, f.end, f.kind, f.pseudonym or "") for f in masked.findings], masked.output)
    raw = body.encode()
    assert [raw[s.start : s.end] for s in placed] == [b"i-0123456789abcdef0", b"vpc-0a1b2c3d"]
    assert [masked.output[s.out_start : s.out_end] for s in placed] == [b"ec2-001", b"vpc-001"]


def test_spans_fall_back_to_searching_and_to_nothing() -> None:
    output = b"xx ec2-001 yy"
    [found] = spans([(0, 5, "ec2", "ec2-001")], output)
    assert (found.out_start, found.out_end) == (3, 10)
    [lost] = spans([(0, 5, "vpc", "vpc-001")], output)
    assert lost.out_start == -1


def test_segments_decode_pieces_and_skip_bad_marks() -> None:
    data = "aé-KEY-b".encode()
    start, end = byte_offsets("aé-KEY-b", 3, 6)
    parts = segments(data, [(start, end, "k", "k-001", "f0"), (0, 99, "x", "x", "f1"), (start, end, "k", "dup", "f2")])
    assert [(p.text, p.kind) for p in parts] == [("aé-", None), ("KEY", "k"), ("-b", None)]


def test_pack_round_trips_bytes_exactly() -> None:
    client, provider = b"\xff\x00 caf\xc3\xa9", b"masked \xe2\x82\xac"
    found = [Span(1, 2, 3, 4, "ec2", "ec2-001")]
    assert unpack(pack(client, provider, found)) == (client, provider, found)


def test_tee_keeps_a_body_up_to_its_limit_only() -> None:
    tee = Tee("t", limit=10)
    tee.add(b"12345")
    tee.add(b"678")
    assert tee.body() == b"12345678"
    tee.add(b"abc")
    assert tee.body() is None and tee.over


# -- sealing ----------------------------------------------------------------------------------


def test_sealed_captures_open_only_for_their_id_and_tenant_and_key() -> None:
    key = StoreKey(StoreKey.new_secret())
    blob = key.seal(capture_context("id1", "team-b"), b"prompt with i-0123456789abcdef0")
    assert b"i-0123" not in blob
    assert key.unseal(capture_context("id1", "team-b"), blob) == b"prompt with i-0123456789abcdef0"
    for context in (capture_context("id2", "team-b"), capture_context("id1", "default")):
        with pytest.raises(StoreError):
            key.unseal(context, blob)
    with pytest.raises(StoreError):
        StoreKey(StoreKey.new_secret()).unseal(capture_context("id1", "team-b"), blob)
    rotated = StoreKey(StoreKey.new_secret()).rotated(StoreKey.new_secret())
    assert rotated.key_count == 2
    # A sealed blob is never a map value: the value key refuses it.
    with pytest.raises(StoreError):
        key.decrypt("team-b", "ec2", 1, blob)


# -- charts -----------------------------------------------------------------------------------


def test_quantile_matches_prometheus_interpolation() -> None:
    buckets = [(0.001, 0.0), (0.01, 50.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.01)
    assert quantile(0.75, buckets) == pytest.approx(0.055)
    assert quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None
    assert quantile(0.99, [(0.1, 0.0), (float("inf"), 4.0)]) == pytest.approx(0.1)


def test_series_points_are_deltas_between_samples() -> None:
    metrics = Metrics()
    series = Series(metrics, interval=5.0)
    metrics.masked.labels("ec2").inc(3)
    metrics.requests.labels("/v1/messages", "200").inc(3)
    metrics.requests.labels("/v1/messages", "502").inc(1)
    for seconds in (0.002, 0.002, 0.004, 0.2):
        metrics.mask_duration.observe(seconds)
    metrics.open_streams.inc()
    series.sample(now=100.0)
    series.sample(now=102.0)  # inside the interval: ignored
    metrics.masked.labels("vpc").inc(2)
    series.sample(now=106.0)
    data = series.as_json()
    assert data["t"] == [100.0, 106.0]
    assert data["masked"] == {"ec2": [3.0, 0.0], "vpc": [0.0, 2.0]}
    assert data["server_error_pct"] == [25.0, None] and data["client_error_pct"] == [0.0, None]
    assert data["open_streams"] == [1.0, 1.0]
    assert 2.5 <= data["p50_ms"][0] <= 5.0 and data["p99_ms"][0] > 100
    assert data["p50_ms"][1] is None


# -- activity ---------------------------------------------------------------------------------


def test_activity_keeps_counts_not_text_and_filters_by_tenant() -> None:
    log = ActivityLog(keep=3)
    for n, tenant in enumerate(["default", "team-b", None, "team-b"]):
        log.add(
            request_id=f"r{n}",
            route="/v1/messages",
            status=200,
            ms=1.0,
            fields={"tenant": tenant, "model": "m", "masked": {"ec2": 2, "vpc": 0}, "mask_ms": 0.5, "x": "prompt"},
        )
    everything = log.after(0, None)
    assert [a.request_id for a in everything] == ["r3", "r2", "r1"], "newest first, oldest dropped"
    assert everything[0].masked == {"ec2": 2} and "prompt" not in str(everything[0].as_json())
    assert [a.request_id for a in log.after(0, ["team-b"])] == ["r3", "r1"]
    assert [a.request_id for a in log.after(3, None)] == ["r3"]


# -- access -----------------------------------------------------------------------------------


def test_admin_keys_sessions_and_csrf() -> None:
    admins = (ConsoleAdmin("ops", "k" * 20), ConsoleAdmin("lead", "l" * 20, ("team-b",)))
    found = find_admin("l" * 20, admins)
    assert found is not None and found.name == "lead"
    assert find_admin("k" * 19, admins) is None and find_admin("", admins) is None
    assert tenants_of(admins[0], ["default", "team-b"]) == ["default", "team-b"]
    assert tenants_of(admins[1], ["default", "team-b"]) == ["team-b"]
    assert csrf_token("a") != csrf_token("b") and len(csrf_token("a")) == 64
    assert token_hash("a") != "a" and len(token_hash("a")) == 64


def test_login_throttle_blocks_after_failures_and_forgives_success() -> None:
    throttle = LoginThrottle(failures=3, window=60)
    for _ in range(3):
        assert not throttle.blocked("ip")
        throttle.failed("ip")
    assert throttle.blocked("ip") and not throttle.blocked("other")
    throttle.succeeded("ip")
    assert not throttle.blocked("ip")


# -- settings ---------------------------------------------------------------------------------

MASTER = "master-key-" + "m" * 16


def test_console_settings_from_env_and_file(tmp_path: Path) -> None:
    assert not Settings.from_env({"MASKGATE_MASTER_KEY": MASTER}).console.enabled
    config = tmp_path / "c.toml"
    config.write_text(
        '[[tenants]]\nname = "team-b"\nkey = "' + "t" * 20 + '"\n'
        "[console]\nenabled = true\ncapture_max_minutes = 5\ncapture_retention_hours = 2\n"
        '[[console.admins]]\nname = "lead"\nkey_env = "LEAD_KEY"\ntenants = ["team-b"]\n'
    )
    env = {"MASKGATE_MASTER_KEY": MASTER, "MASKGATE_CONFIG": str(config), "LEAD_KEY": "l" * 20}
    c = Settings.from_env(env).console
    assert c.enabled and c.capture_max_seconds == 300 and c.capture_retention_seconds == 7200
    assert [(a.name, a.tenants) for a in c.admins] == [("lead", ("team-b",))]
    c = Settings.from_env({**env, "MASKGATE_ADMIN_KEY": "o" * 20}).console
    assert [(a.name, a.tenants) for a in c.admins] == [("admin", None), ("lead", ("team-b",))]
    assert "o" * 20 not in repr(c)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no admin key"),
        ({"MASKGATE_ADMIN_KEY": MASTER}, "must not be a client key"),
        ({"MASKGATE_ADMIN_KEY": "short"}, "too short"),
    ],
)
def test_console_settings_refuse_unsafe_setups(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"MASKGATE_MASTER_KEY": MASTER, "MASKGATE_CONSOLE": "on", **env})


# -- the console store, on both backends ----------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "sqlite":
        yield lambda: SqliteConsoleStore(tmp_path / "console.db")
    else:
        prefix = f"mgconsole-unit-{secrets.token_hex(4)}:"
        yield lambda: RedisConsoleStore.from_url("redis://127.0.0.1:6379/0", prefix)
        drop_redis_prefix(prefix)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_audit_log_persists_and_is_scoped(store_factory: object) -> None:
    async def write() -> None:
        store: ConsoleStore = store_factory()  # type: ignore[operator]
        for n, tenant in enumerate(["default", "team-b", "default"]):
            await store.audit(AuditEntry(1000.0 + n, "ops", "lookup", tenant, f"ec2-00{n + 1}", "found"))
        await store.aclose()

    async def read() -> tuple[list[AuditEntry], list[AuditEntry]]:
        store: ConsoleStore = store_factory()  # type: ignore[operator]
        try:
            return await store.audit_log(10, None), await store.audit_log(10, ["team-b"])
        finally:
            await store.aclose()

    run(write())
    everything, team_b = run(read())  # type: ignore[misc]
    assert [e.subject for e in everything] == ["ec2-003", "ec2-002", "ec2-001"], "a new store object sees it all"
    assert [e.subject for e in team_b] == ["ec2-002"]


def test_sessions_and_windows_expire(store_factory: object) -> None:
    async def go() -> None:
        store: ConsoleStore = store_factory()  # type: ignore[operator]
        now = time.time()
        await store.add_session("h1", "ops", now + 60)
        await store.add_session("h2", "ops", now + 1)
        assert await store.session("h1") == "ops" and await store.session("nope") is None
        await store.drop_session("h1")
        assert await store.session("h1") is None
        await store.set_window("team-b", now + 60)
        await store.set_window("default", now - 1)
        assert set(await store.windows()) == {"team-b"}
        await store.set_window("team-b", now)
        assert await store.windows() == {}
        await asyncio.sleep(1.3)
        assert await store.session("h2") is None
        await store.aclose()

    run(go())


def test_captures_obey_retention_and_the_entry_limit(store_factory: object) -> None:
    async def go() -> None:
        store: ConsoleStore = store_factory()  # type: ignore[operator]
        now = time.time()

        def meta(cid: str, at: float, tenant: str = "default") -> CaptureMeta:
            return CaptureMeta(cid, at, tenant, "rid", "m", 200, 10, 8, 1)

        await store.put_capture(meta("old", now - 7200), b"x", 3600, 10)
        for n in range(4):
            await store.put_capture(meta(f"c{n}", now + n), f"blob{n}".encode(), 3600, 3)
        listed = [c.id for c in await store.captures(10, 3600)]
        assert listed == ["c3", "c2", "c1"], "expired and over-limit captures are gone"
        found = await store.capture("c2", 3600)
        assert found is not None and found[1] == b"blob2" and found[0].tenant == "default"
        assert await store.capture("c0", 3600) is None and await store.capture("old", 3600) is None
        assert await store.capture("c2", 1) is None or time.time() - now < 1, "reads apply retention too"
        await store.aclose()

    run(go())


def test_sqlite_console_file_is_private(tmp_path: Path) -> None:
    store = SqliteConsoleStore(tmp_path / "sub" / "console.db")
    run(store.audit(AuditEntry(1.0, "ops", "login", "-", "127.0.0.1", "ok")))
    assert (tmp_path / "sub" / "console.db").stat().st_mode & 0o077 == 0


def test_console_stores_fail_as_unavailable_not_raw(tmp_path: Path) -> None:
    """The console's stores share the mapping store's plumbing: a file that cannot be created or a
    Redis that does not answer is StoreUnavailable (a 503), never an OSError or a redis-py error."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(StoreUnavailable, match="^console store unavailable"):
        run(SqliteConsoleStore(blocker / "console.db").windows())
    dead = RedisConsoleStore.from_url("redis://127.0.0.1:1/0", "mgconsole-dead:")
    with pytest.raises(StoreUnavailable, match="^console store unavailable"):
        run(dead.windows())
