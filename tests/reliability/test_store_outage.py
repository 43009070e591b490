"""Redis stopped mid-run, through real gateway processes: fail closed, finish open streams, recover alone."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx2
import pytest

from tests.fake_upstream import FakeUpstream
from tests.reliability.conftest import ProxyFactory, Watch
from tests.reliability.support import (
    assert_anthropic_error,
    auth,
    id_text,
    messages,
    private_redis,
    recorded_masked_text,
    redis_server,
    sse,
    stream_text,
    wait_until,
)

pytestmark = pytest.mark.skipif(redis_server() is None, reason="redis-server is not installed")


def pseudonym_of(fake: FakeUpstream, prompt_prefix: str) -> str:
    """The masked text the provider saw for the last request whose text starts with prompt_prefix."""
    seen = [t for t in recorded_masked_text(fake.requests("/v1/messages")) if t.startswith(prompt_prefix)]
    assert seen, "the provider never saw that request"
    return seen[-1]


def test_redis_outage_fails_closed_finishes_streams_and_recovers(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    with private_redis(tmp_path / "redis") as redis, start_proxy(fake.url, store=redis.url) as proxy:
        client = httpx2.Client(base_url=proxy.url, headers=auth(), timeout=30)
        before = watch.ids()
        r = client.post("/v1/messages", json=messages("before: " + id_text(before)))
        assert r.status_code == 200, r.text
        masked_before = pseudonym_of(fake, "before: ")
        assert before["instance"] not in masked_before

        # A stream is open, and has already given its first events, when Redis dies.
        fake.script([{"type": "text", "text": "Stopped {{first:ec2-\\d+}} as asked.", "chunk": 2, "delay": 0.05}])
        body: list[str] = []
        first_event = threading.Event()

        def read_stream() -> None:
            with client.stream("POST", "/v1/messages", json=messages(f"stream: stop {before['instance']}", True)) as s:
                assert s.status_code == 200
                for chunk in s.iter_text():
                    body.append(chunk)
                    if "content_block_delta" in "".join(body):
                        first_event.set()

        reader = threading.Thread(target=read_stream)
        reader.start()
        assert first_event.wait(30), "the stream never started"
        redis.kill()
        reader.join(60)
        assert not reader.is_alive()
        events = sse("".join(body))
        assert events[-1][0] == "message_stop", events[-3:]
        assert stream_text(events) == f"Stopped {before['instance']} as asked."

        # Down: anything that needs the store is refused, and nothing reaches the provider.
        fake.clear()
        during = watch.ids()
        for stream in (False, True):
            r = client.post("/v1/messages", json=messages("during: " + id_text(during), stream))
            watch.response(r)
            message = assert_anthropic_error(r, 503, "api_error")
            assert all(v not in message for v in during.values())
        r = client.post("/v1/messages/count_tokens", json=messages("during: " + id_text(during)))
        assert_anthropic_error(r, 503)
        assert fake.requests() == [], "a request went upstream while the store was down"
        assert httpx2.get(proxy.url + "/health").status_code == 503

        # Back (same data directory, AOF): served again by the same process, no restart.
        redis.start()
        assert wait_until(lambda: httpx2.get(proxy.url + "/health").status_code == 200, limit=60)
        r = client.post("/v1/messages", json=messages("after: " + id_text(during)))
        assert r.status_code == 200, r.text
        r = client.post("/v1/messages", json=messages("before: " + id_text(before)))
        assert r.status_code == 200
        assert pseudonym_of(fake, "before: ") == masked_before, "a mapping changed across the outage"
        client.close()


def test_mappings_survive_the_outage_for_a_new_replica(
    fake: FakeUpstream, start_proxy: ProxyFactory, watch: Watch, tmp_path: Path
) -> None:
    key = "a1" * 32
    ids = watch.ids()
    with private_redis(tmp_path / "redis") as redis:
        with start_proxy(fake.url, store=redis.url, store_key=key, prefix="outage:") as first:
            r = httpx2.post(first.url + "/v1/messages", json=messages("x: " + id_text(ids)), headers=auth())
            assert r.status_code == 200
            seen_first = pseudonym_of(fake, "x: ")
            redis.kill()
            r = httpx2.post(first.url + "/v1/messages", json=messages("y: " + id_text(watch.ids())), headers=auth())
            watch.response(r)
            assert_anthropic_error(r, 503)
            redis.start()
        with start_proxy(fake.url, store=redis.url, store_key=key, prefix="outage:") as second:
            # A new original first: in an empty namespace it would take the numbers X had.
            r = httpx2.post(second.url + "/v1/messages", json=messages("z: " + id_text(watch.ids())), headers=auth())
            assert r.status_code == 200
            r = httpx2.post(second.url + "/v1/messages", json=messages("x: " + id_text(ids)), headers=auth())
            assert r.status_code == 200
            assert pseudonym_of(fake, "x: ") == seen_first
            assert json.dumps(fake.requests()).count(ids["instance"]) == 0
