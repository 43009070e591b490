"""`/metrics` parses with prometheus-client's own parser and never names an original."""

from __future__ import annotations

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_upstream import FakeUpstream
from tests.gateway.support import new_ids


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_kinds_and_streams(fake: FakeUpstream, client: httpx2.Client) -> None:
    ids = new_ids()
    before = samples(client.get("/metrics").text)
    fake.script([{"type": "text", "text": "ok {{first:ec2-\\d+}}"}])
    r = client.post(
        "/v1/messages",
        json={
            "model": "m",
            "max_tokens": 5,
            "stream": True,
            "messages": [{"role": "user", "content": ids["instance"]}],
        },
    )
    assert r.status_code == 200
    page = client.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    after = samples(page.text)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("maskgate_requests_total", route="/v1/messages", status="200") == 1
    assert delta("maskgate_identifiers_masked_total", kind="ec2") == 1
    assert delta("maskgate_identifiers_restored_total", kind="ec2") == 1
    assert delta("maskgate_store_operations_total", op="get_or_create") == 1
    assert after[("maskgate_open_streams", ())] == 0
    assert ids["instance"] not in page.text and "ec2-0" not in page.text


def test_the_start_up_key_check_is_not_a_request(client: httpx2.Client) -> None:
    """`maskgate claude` asks a running gateway whether its key is known before starting Claude Code;
    that check is not a client error in the metrics (the console's error chart reads them)."""
    from maskgate.claude import key_accepted

    from tests.proxy import MASTER_KEY

    url = str(client.base_url).rstrip("/")
    before = samples(client.get("/metrics").text)
    assert key_accepted(url, MASTER_KEY) is True
    assert key_accepted(url, "not-a-key-" + "x" * 20) is False
    after = samples(client.get("/metrics").text)
    counted = {k: v - before.get(k, 0.0) for k, v in after.items() if k[0] == "maskgate_requests_total"}
    assert not any(counted.values()), counted
