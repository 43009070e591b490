"""Several gateway processes on one Redis (and on a Redis Cluster), hammered with the same new
identifiers at once: every process hands out the same pseudonym for the same original."""

from __future__ import annotations

import json
import random
import secrets
import threading
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.proxy import Proxy, drop_redis_prefix
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import auth, instance_id, messages, redis_cluster, redis_server

IDS_PER_RUN = 120
BATCH = 6
THREADS_PER_PROXY = 3


def hammer(proxies: list[Proxy], originals: list[str]) -> list[tuple[str, list[str]]]:
    """Every thread of every proxy sends all originals, shuffled, in batches; returns (tag, batch)."""
    sent: list[tuple[str, list[str]]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(proxies) * THREADS_PER_PROXY)

    def worker(proxy: Proxy, seed: int) -> None:
        order = list(originals)
        random.Random(seed).shuffle(order)
        with httpx2.Client(base_url=proxy.url, headers=auth(), timeout=60) as c:
            start.wait(30)
            for i in range(0, len(order), BATCH):
                batch = order[i : i + BATCH]
                tag = f"tag{secrets.token_hex(6)}"
                r = c.post("/v1/messages", json=messages(f"{tag} " + " ".join(batch)))
                with lock:
                    if r.status_code == 200:
                        sent.append((tag, batch))
                    else:
                        errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [
        threading.Thread(target=worker, args=(p, seed))
        for p in proxies
        for seed in range(THREADS_PER_PROXY * proxies.index(p), THREADS_PER_PROXY * (proxies.index(p) + 1))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[:5]
    return sent


def check_agreement(fake: FakeUpstream, sent: list[tuple[str, list[str]]], originals: list[str]) -> None:
    by_tag = dict(sent)
    to_pseudonym: dict[str, set[str]] = {}
    for r in fake.requests("/v1/messages"):
        tag, *tokens = json.loads(r["body"])["messages"][-1]["content"].split()
        for original, token in zip(by_tag[tag], tokens, strict=True):
            to_pseudonym.setdefault(original, set()).add(token)
    assert set(to_pseudonym) == set(originals)
    split = {o: p for o, p in to_pseudonym.items() if len(p) != 1}
    assert not split, f"{len(split)} originals got different pseudonyms from different processes"
    pseudonyms = [next(iter(p)) for p in to_pseudonym.values()]
    assert len(set(pseudonyms)) == len(pseudonyms), "one pseudonym for two originals"
    assert sorted(int(p.split("-")[1]) for p in pseudonyms) == list(range(1, len(originals) + 1))


def run(fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, store: str, replicas: int) -> None:
    key, prefix = secrets.token_hex(32), f"mgrel-{secrets.token_hex(4)}:"
    originals = [instance_id() for _ in range(IDS_PER_RUN)]
    watch.original(*originals)
    try:
        with ExitStack() as stack:
            proxies = [
                stack.enter_context(start_proxy(fake.url, store=store, store_key=key, prefix=prefix, cleanup=False))
                for _ in range(replicas)
            ]
            sent = hammer(proxies, originals)
        check_agreement(fake, sent, originals)
    finally:
        if store == "redis":
            drop_redis_prefix(prefix)


@pytest.mark.parametrize("replicas", [2, 3])
def test_replicas_on_one_redis_agree(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, replicas: int
) -> None:
    run(fake, start_proxy, watch, "redis", replicas)


@pytest.mark.skipif(redis_server() is None, reason="redis-server is not installed")
def test_three_replicas_on_a_redis_cluster_agree(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    with redis_cluster(tmp_path / "cluster") as ports:
        run(fake, start_proxy, watch, f"redis+cluster://127.0.0.1:{ports[0]}", 3)
