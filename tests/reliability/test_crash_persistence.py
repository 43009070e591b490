"""Crashes while writing: Redis killed (-9) and restarted, the gateway killed (-9) on the embedded store.

After each, every mapping the gateway confirmed (a 200 whose masked body reached the provider) is
still there, the SQLite file is intact, and no pseudonym ever stood for two originals.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import auth, instance_id, messages, private_redis, redis_server, wait_until

needs_redis = pytest.mark.skipif(redis_server() is None, reason="redis-server is not installed")


class Ledger:
    """What the provider saw, request by request: tag -> (originals sent, masked tokens seen)."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = {}
        self.ok: set[str] = set()
        self.lock = threading.Lock()

    def body(self, watch: Watch, n: int = 3) -> tuple[str, str]:
        tag = f"tag{secrets.token_hex(6)}"
        ids = [instance_id() for _ in range(n)]
        watch.original(*ids)
        with self.lock:
            self.sent[tag] = ids
        return tag, f"{tag} " + " ".join(ids)

    def pairs(self, fake: FakeUpstream) -> list[tuple[str, str]]:
        """(original, pseudonym) for every request the provider received."""
        out = []
        for r in fake.requests("/v1/messages"):
            text = json.loads(r["body"])["messages"][-1]["content"]
            tag, *tokens = text.split()
            if tag in self.sent:
                out += list(zip(self.sent[tag], tokens, strict=True))
        return out


def check_bijection(pairs: list[tuple[str, str]]) -> dict[str, str]:
    to_pseudonym: dict[str, str] = {}
    to_original: dict[str, str] = {}
    for original, pseudonym in pairs:
        assert pseudonym.startswith("ec2-"), "an original reached the provider"
        assert to_pseudonym.setdefault(original, pseudonym) == pseudonym, "an original changed pseudonym"
        assert to_original.setdefault(pseudonym, original) == original, "a pseudonym was reused"
    return to_pseudonym


def hammer(proxy: Proxy, ledger: Ledger, watch: Watch, count: int, threads: int = 4) -> list[int]:
    statuses: list[int] = []

    def worker() -> None:
        with httpx2.Client(base_url=proxy.url, headers=auth(), timeout=30) as c:
            for _ in range(count // threads):
                tag, text = ledger.body(watch)
                try:
                    status = c.post("/v1/messages", json=messages(text)).status_code
                except httpx2.HTTPError:
                    status = 0
                statuses.append(status)
                if status == 200:
                    with ledger.lock:
                        ledger.ok.add(tag)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(300)
    return statuses


def confirm_all(proxy: Proxy, fake: FakeUpstream, ledger: Ledger, expected: dict[str, str]) -> None:
    """A fresh process, asked for every confirmed original, gives each the pseudonym it had."""
    originals = [o for tag in sorted(ledger.ok) for o in ledger.sent[tag]]
    fake.clear()
    check = Ledger()
    check.sent["tagcheck"] = originals
    r = httpx2.post(proxy.url + "/v1/messages", json=messages("tagcheck " + " ".join(originals)), headers=auth())
    assert r.status_code == 200, r.text
    now = dict(check.pairs(fake))
    lost = [o for o in originals if now[o] != expected[o]]
    assert not lost, f"{len(lost)} of {len(originals)} confirmed mappings changed"


def during(action: Callable[[], None], after_ok: int, ledger: Ledger) -> threading.Thread:
    """Runs `action` once `after_ok` requests have been confirmed."""

    def run() -> None:
        wait_until(lambda: len(ledger.ok) >= after_ok, limit=120, step=0.01)
        action()

    t = threading.Thread(target=run)
    t.start()
    return t


@needs_redis
def test_redis_killed_and_restarted_with_persistence(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    key, prefix = secrets.token_hex(32), "crash:"
    ledger = Ledger()
    with private_redis(tmp_path / "redis", persist=True) as redis:

        def crash_and_return() -> None:
            redis.kill()
            redis.start()

        with start_proxy(fake.url, store=redis.url, store_key=key, prefix=prefix) as proxy:
            crash = during(crash_and_return, 60, ledger)
            statuses = hammer(proxy, ledger, watch, 240)
            crash.join(60)
            assert not crash.is_alive()
            assert statuses.count(200) >= 60 and set(statuses) <= {200, 503}, sorted(set(statuses))
            expected = check_bijection(ledger.pairs(fake))
        with start_proxy(fake.url, store=redis.url, store_key=key, prefix=prefix) as fresh:
            confirm_all(fresh, fake, ledger, expected)
        # And the restarted Redis keeps handing out numbers after the highest one.
        assert check_bijection(ledger.pairs(fake) + list(expected.items()))


@needs_redis
def test_redis_that_lost_its_data_never_reissues_a_pseudonym_the_gateway_gave_out(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    """A Redis without persistence restarts empty under a running gateway. Mappings are gone (that
    is what persistence is for), but the numbers the gateway already handed out must not come back
    for other originals: the model still has them in its context."""
    ledger = Ledger()
    with (
        private_redis(tmp_path / "redis", persist=False) as redis,
        start_proxy(fake.url, store=redis.url) as proxy,
    ):
        hammer(proxy, ledger, watch, 20, threads=1)
        redis.kill()
        redis.start()
        assert wait_until(lambda: httpx2.get(proxy.url + "/health").status_code == 200)
        hammer(proxy, ledger, watch, 20, threads=1)
        seen = ledger.pairs(fake)
        to_original: dict[str, str] = {}
        for original, pseudonym in seen:
            assert to_original.setdefault(pseudonym, original) == original, f"{pseudonym} was reissued"


def test_gateway_killed_mid_write_on_the_embedded_store(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    key = secrets.token_hex(32)
    ledger = Ledger()
    for _ in range(3):
        with start_proxy(fake.url, home=home, store_key=key) as proxy:
            target = len(ledger.ok) + 40
            kill = during(lambda p=proxy: os.kill(p.proc.pid, signal.SIGKILL), target, ledger)  # type: ignore[misc]
            statuses = hammer(proxy, ledger, watch, 400)
            kill.join(60)
            assert proxy.proc.wait(10) == -signal.SIGKILL
            assert 0 in statuses, "the gateway was not killed mid-run"
    db = home / "data" / "store.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    expected = check_bijection(ledger.pairs(fake))
    with start_proxy(fake.url, home=home, store_key=key) as fresh:
        confirm_all(fresh, fake, ledger, expected)
