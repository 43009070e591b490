"""`maskgate serve --workers N`: real worker processes on one port and one store, masking alike.

Which worker serves a request is the kernel's choice, so requests go on new connections until two
workers have served; a worker is told apart by its own connection to the fake provider."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.cli.support import cli_env, run_cli
from tests.fake_upstream import FakeUpstream
from tests.proxy import MASTER_KEY, Proxy
from tests.reliability.support import children, local_ports, secret_key

ECHO = {"type": "text", "text": "{{field:/messages/0/content}}"}  # the text exactly as the provider saw it


def serve_workers(n: int) -> Any:
    return lambda port: [
        str(Path(sys.executable).parent / "maskgate"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(n),
    ]


def ask(proxy: Proxy, content: str) -> str:
    """One request on a new connection; the text the client got back."""
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": content}]}
    headers = {"x-api-key": MASTER_KEY, "connection": "close"}
    r = httpx2.post(proxy.url + "/v1/messages", json=body, headers=headers, timeout=60)
    assert r.status_code == 200, r.text[:300]
    return "".join(b["text"] for b in r.json()["content"])


def worker_of(proxy: Proxy, fake: FakeUpstream) -> int:
    """The worker whose connection to the provider carried the provider's last request."""
    peer = fake.requests()[-1]["peer"]
    owners = [pid for pid in children(proxy.proc.pid) if peer in local_ports(pid, fake.port)]
    assert len(owners) == 1, f"no single worker owns the provider connection ({owners})"
    return owners[0]


def test_two_workers_mask_alike_and_share_what_one_learned(tmp_path: Path) -> None:
    instance, secret = f"i-{secrets.token_hex(9)[:17]}", secret_key()
    learn = f"stop {instance}\naws_secret_access_key = {secret}\n"
    bare = f"is {instance} stopped? the tool printed {secret} again"
    with FakeUpstream.start() as fake, Proxy.start(tmp_path, fake.url, command=serve_workers(2)) as proxy:
        fake.script([ECHO] * 60)
        assert ask(proxy, learn) == learn
        learner, other = worker_of(proxy, fake), None
        for _ in range(40):
            assert ask(proxy, bare) == bare  # restored, whichever worker answered
            if worker_of(proxy, fake) != learner:
                other = worker_of(proxy, fake)
                break
            time.sleep(0.02)
        assert other is not None, "every request went to the worker that learned the secret"
        seen = [r["json"]["messages"][0]["content"] for r in fake.requests("/v1/messages")]
        assert not [s for s in seen if instance in s or secret in s], "an original reached the provider"
        first, last = seen[0].split(), seen[-1].split()
        # The same pseudonyms from both workers: the instance, and the secret the other worker
        # only ever saw bare (it learned it from the store).
        assert last[1] == first[1]
        assert last[-2] == first[-1]
        assert proxy.logs().count("maskgate listening on") == 1


def test_stopping_the_supervisor_stops_every_worker(tmp_path: Path) -> None:
    with FakeUpstream.start() as fake, Proxy.start(tmp_path, fake.url, command=serve_workers(3)) as proxy:
        workers = children(proxy.proc.pid)
        assert len(workers) >= 3  # and multiprocessing's resource tracker
        proxy.proc.terminate()
        assert proxy.proc.wait(30) == 0
    deadline = time.monotonic() + 10
    while [pid for pid in workers if running(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if running(pid)]


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit status waits for whoever reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("args", "env", "config", "says"),
    [
        (["--workers", "0"], {}, "", "workers 0 (--workers, MASKGATE_WORKERS or [server] workers)"),
        (["--workers", "-2"], {}, "", "workers -2"),
        ([], {"MASKGATE_WORKERS": "two"}, "", "MASKGATE_WORKERS='two' is not a whole number"),
        ([], {}, "[server]\nworkers = 0\n", "workers 0"),
        ([], {}, '[server]\nworkers = "4x"\n', "config [server] workers='4x' is not a whole number"),
    ],
)
def test_a_bad_worker_count_is_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str, says: str
) -> None:
    environ = cli_env(tmp_path, MASKGATE_MASTER_KEY=MASTER_KEY) | env
    if config:
        (tmp_path / "maskgate.toml").write_text(config)
        environ["MASKGATE_CONFIG"] = str(tmp_path / "maskgate.toml")
    r = run_cli(["serve", "--port", "1", *args], environ)
    assert r.returncode == 2
    assert r.stderr.startswith("maskgate: ") and says in r.stderr and len(r.stderr.splitlines()) == 1
