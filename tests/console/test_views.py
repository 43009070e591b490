"""The console's pages over HTTP, against real gateway processes (embedded store and Redis)."""

from __future__ import annotations

import html
import re
import time

import httpx2
from maskgate._core import format_pseudonym
from maskgate.engine import Engine

from tests.console.support import (
    ADMIN_KEY,
    TEAM_B_ADMIN_KEY,
    ConsoleClient,
    marks,
    messages_body,
    pre_text,
)
from tests.fake_upstream import FakeUpstream
from tests.gateway.support import TENANT_B_KEY, new_ids
from tests.proxy import MASTER_KEY, Proxy

PAGES = ["/console/", "/console/catalogue", "/console/lookup", "/console/captures"]


def wait_for(check: object, timeout: float = 10.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()  # type: ignore[operator]
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_every_page_needs_an_admin_session(console_proxy: Proxy) -> None:
    with httpx2.Client(base_url=console_proxy.url, follow_redirects=False) as anon:
        for path in PAGES + ["/console/captures/anything"]:
            r = anon.get(path)
            assert r.status_code == 303 and r.headers["location"].endswith("/console/login"), path
        for path in ["/console/api/activity", "/console/api/series"]:
            assert anon.get(path).status_code == 401
        # Client keys are not admin keys, in any header.
        for headers in ({"x-api-key": MASTER_KEY}, {"authorization": f"Bearer {MASTER_KEY}"}):
            assert anon.get("/console/api/activity", headers=headers).status_code == 401
        for path, data in [
            ("/console/lookup", {"tenant": "default", "pseudonym": "ec2-001"}),
            ("/console/captures/start", {"tenant": "default", "minutes": "5"}),
            ("/console/catalogue", {"text": "i-0123456789abcdef0"}),
        ]:
            r = anon.post(path, data=data)
            assert r.status_code == 403, path
            assert "i-0123456789abcdef0" not in r.text


def test_login_refuses_client_keys_and_sets_a_strict_cookie(console_proxy: Proxy) -> None:
    with ConsoleClient(console_proxy.url) as c:
        for key in (MASTER_KEY, TENANT_B_KEY, "not-a-key-at-all-000000"):
            r = c.login(key)
            assert r.status_code == 401 and "not an admin key" in r.text
            assert "maskgate_console=" not in r.headers.get("set-cookie", "")
        r = c.login(ADMIN_KEY)
        assert r.status_code == 303
        cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("maskgate_console="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert ADMIN_KEY not in cookie
        assert c.get("/console/").status_code == 200
        # Logging out ends the session on the server, not just in this cookie jar.
        stolen = c.http.cookies.get("maskgate_console")
        assert c.post("/console/logout").status_code == 303
        with httpx2.Client(base_url=console_proxy.url, cookies={"maskgate_console": stolen or ""}) as replay:
            assert replay.get("/console/api/activity").status_code == 401


def test_login_needs_the_login_form_token(console_proxy: Proxy) -> None:
    with httpx2.Client(base_url=console_proxy.url, follow_redirects=False) as c:
        assert c.post("/console/login", data={"key": ADMIN_KEY}).status_code == 403


def test_forms_need_the_csrf_token_and_our_origin(admin: ConsoleClient, console_proxy: Proxy) -> None:
    data = {"tenant": "default", "minutes": "5"}
    assert admin.http.post("/console/captures/start", data=data).status_code == 403
    assert admin.http.post("/console/captures/start", data={**data, "csrf": "0" * 64}).status_code == 403
    foreign = {"origin": "http://evil.example"}
    r = admin.http.post("/console/captures/start", data={**data, "csrf": admin.csrf()}, headers=foreign)
    assert r.status_code == 403
    assert "Capturing <b>default</b>" not in admin.get("/console/captures").text


def test_security_headers_on_every_page(admin: ConsoleClient) -> None:
    for path in PAGES + ["/console/login"]:
        r = admin.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
        assert "<script>" not in r.text and " style=" not in r.text and "<style" not in r.text
        assert not re.search(r'(src|href|action)="(https?:)?//', r.text), "no CDN, no external links"


def test_activity_shows_requests_with_kinds_and_never_an_original(
    admin: ConsoleClient, gateway: httpx2.Client, fake: FakeUpstream, console_proxy: Proxy
) -> None:
    ids = new_ids()
    after = max([r["seq"] for r in admin.get("/console/api/activity").json()["rows"]], default=0)
    fake.script([{"type": "text", "text": "Stopped {{first:ec2-\\d+}}"}])
    text = f"stop {ids['instance']} in {ids['vpc']} with {ids['key']} and s3://{ids['bucket']}/x"
    r = gateway.post("/v1/messages", json=messages_body(text, stream=True), headers={"x-request-id": "req-view-1"})
    assert r.status_code == 200 and ids["instance"] in r.text
    rows = admin.get(f"/console/api/activity?after={after}").json()["rows"]
    [row] = [r for r in rows if r["request_id"] == "req-view-1"]
    assert row["tenant"] == "default" and row["model"] == "claude-sonnet-4-5" and row["status"] == 200
    assert row["masked"]["ec2"] == 1 and row["masked"]["vpc"] == 1 and row["restored"] == {"ec2": 1}
    assert row["stream"] == "ok" and row["capture"] is None and row["ms"] > 0
    series = admin.get("/console/api/series").json()
    assert series["t"] and sum(series["masked"]["ec2"]) >= 1
    # Capture is off: no page, no endpoint and no log line holds an original.
    pages = [admin.get(p).text for p in PAGES] + [
        admin.get("/console/api/activity").text,
        admin.get("/console/api/series").text,
        gateway.get("/metrics").text,
    ]
    for original in ids.values():
        assert all(original not in page for page in pages), original
        assert original not in console_proxy.logs()


def test_scoped_admin_sees_only_their_tenant(console_proxy: Proxy, fake: FakeUpstream, gateway: httpx2.Client) -> None:
    ids = new_ids()
    gateway.post("/v1/messages", json=messages_body(f"default {ids['instance']}"), headers={"x-request-id": "req-a"})
    with httpx2.Client(base_url=console_proxy.url, headers={"x-api-key": TENANT_B_KEY}) as team_b:
        team_b.post("/v1/messages", json=messages_body(f"b {ids['vpc']}"), headers={"x-request-id": "req-b"})
    with ConsoleClient(console_proxy.url) as lead:
        assert lead.login(TEAM_B_ADMIN_KEY).status_code == 303
        seen = {r["request_id"] for r in lead.get("/console/api/activity").json()["rows"]}
        assert "req-b" in seen and "req-a" not in seen
        r = lead.post("/console/lookup", tenant="default", pseudonym="ec2-001")
        assert r.status_code == 403 and "You may not" in r.text
        assert '<option value="default">' not in lead.get("/console/captures").text
        assert lead.post("/console/captures/start", tenant="default", minutes="5").status_code == 403


def test_lookup_reveals_in_the_page_only_and_is_audited(
    admin: ConsoleClient, gateway: httpx2.Client, fake: FakeUpstream, console_proxy: Proxy
) -> None:
    ids = new_ids()
    gateway.post("/v1/messages", json=messages_body(f"reboot {ids['instance']}"))
    [seen] = [r["body"] for r in fake.requests("/v1/messages")]
    pseudonym = re.search(r"ec2-\d+", seen)
    assert pseudonym
    r = admin.post("/console/lookup", tenant="default", pseudonym=f"  {pseudonym.group(0)} ")
    assert r.status_code == 200
    assert re.search(r'class="original">([^<]*)<', r.text).group(1) == ids["instance"]  # type: ignore[union-attr]
    assert ids["instance"] not in re.search(r"<title>(.*?)</title>", r.text).group(1)  # type: ignore[union-attr]
    assert r.url.path == "/console/lookup" and ids["instance"] not in str(r.url)
    log = admin.get("/console/lookup").text
    assert pseudonym.group(0) in log and ids["instance"] not in log, "the audit log names the pseudonym only"
    assert ids["instance"] not in console_proxy.logs()
    # Something that is not a pseudonym (perhaps an original pasted by mistake) is not recorded at all.
    other = new_ids()["instance"]
    r = admin.post("/console/lookup", tenant="default", pseudonym=other)
    assert "not a pseudonym" in r.text
    assert other not in admin.get("/console/lookup").text and other not in console_proxy.logs()
    unknown = format_pseudonym("ec2", 99_999)
    r = admin.post("/console/lookup", tenant="team-b", pseudonym=unknown)
    assert "is not known" in r.text and unknown in admin.get("/console/lookup").text


def test_catalogue_lists_every_pattern_and_try_it_stores_nothing(admin: ConsoleClient) -> None:
    page = admin.get("/console/catalogue").text
    assert "ec2-instance" in page and "private-ip" in page and "disabled" in page
    shown = html.unescape(page)
    for pattern in Engine().core.catalogue():
        assert f"<code>{pattern['name']}</code>" in shown
        for text, _ in pattern["positive"][:1]:
            assert f"<code>{text}</code>" in shown, "the catalogue's own examples are shown"
    vpc = new_ids()["vpc"]
    r = admin.post("/console/catalogue", text=f"peer {vpc} now")
    assert r.status_code == 200
    assert marks(r.text, "orig") == [vpc] and marks(r.text, "pseudo") == ["vpc-001"]
    assert pre_text(r.text, "trial-masked") == "peer vpc-001 now"
    # The throw-away map never reaches the store: the trial pseudonym is not this original there.
    looked = admin.post("/console/lookup", tenant="default", pseudonym="vpc-001")
    assert vpc not in looked.text


def test_capture_window_keeps_both_bodies_sealed_and_side_by_side(
    admin: ConsoleClient, gateway: httpx2.Client, fake: FakeUpstream, console_proxy: Proxy
) -> None:
    ids = new_ids()
    assert admin.post("/console/captures/start", tenant="default", minutes="5").status_code == 303
    assert "Capturing <b>default</b>" in admin.get("/console/captures").text
    time.sleep(2.2)  # other workers' view of the windows refreshes every 2 s
    text = f"describe {ids['instance']} and {ids['instance']} in {ids['vpc']}, ünïcode"
    r = gateway.post("/v1/messages", json=messages_body(text), headers={"x-request-id": "req-capture"})
    assert r.status_code == 200
    [upstream_body] = [req["body"] for req in fake.requests("/v1/messages")]

    def capture_id() -> str | None:
        rows = admin.get("/console/api/activity").json()["rows"]
        return next((r["capture"] for r in rows if r["request_id"] == "req-capture"), None)

    cid = wait_for(capture_id)
    assert isinstance(cid, str)
    page = wait_for(lambda: (p := admin.get(f"/console/captures/{cid}")).status_code == 200 and p.text)
    assert isinstance(page, str)
    assert marks(page, "orig") == [ids["instance"], ids["instance"], ids["vpc"]]
    assert [m.split("-")[0] for m in marks(page, "pseudo")] == ["ec2", "ec2", "vpc"]
    assert pre_text(page, "provider-body") == upstream_body, "the provider side is exactly what went upstream"
    assert ids["instance"] in pre_text(page, "client-body")
    assert ids["instance"] not in re.search(r"<title>(.*?)</title>", page).group(1)  # type: ignore[union-attr]
    # Scoped admins cannot open another tenant's capture; the view itself is audited.
    with ConsoleClient(console_proxy.url) as lead:
        lead.login(TEAM_B_ADMIN_KEY)
        assert lead.get(f"/console/captures/{cid}").status_code == 404
    assert re.search(rf"capture-view</td><td>default</td>\s*<td><code>{cid}</code>", admin.get("/console/lookup").text)
    # Sealed at rest: the console's file (or Redis) never holds the original in clear.
    db = console_proxy.log.parent / "data" / "console.db"
    if db.exists():
        raw = b"".join(p.read_bytes() for p in db.parent.glob("console.db*"))
        assert ids["instance"].encode() not in raw and ids["vpc"].encode() not in raw
    # Stopped: the next request is not captured.
    assert admin.post("/console/captures/stop", tenant="default").status_code == 303
    time.sleep(2.2)
    gateway.post("/v1/messages", json=messages_body(f"again {ids['instance']}"), headers={"x-request-id": "req-after"})
    rows = admin.get("/console/api/activity").json()["rows"]
    assert next(r for r in rows if r["request_id"] == "req-after")["capture"] is None


def test_console_is_off_unless_enabled(fake: FakeUpstream, tmp_path: object) -> None:
    from pathlib import Path

    tmp = Path(str(tmp_path))
    with Proxy.start(tmp, fake.url, {"MASKGATE_ADMIN_KEY": ADMIN_KEY}) as p:
        with httpx2.Client(base_url=p.url, follow_redirects=False) as c:
            for path in ["/console/", "/console/login", "/console/static/console.js", "/console/api/activity"]:
                r = c.get(path)
                assert r.status_code == 404 and r.json()["type"] == "error", path
            ok = c.post("/v1/messages", json=messages_body("hi i-0123456789abcdef0"), headers={"x-api-key": MASTER_KEY})
            assert ok.status_code == 200
        assert not (tmp / "data" / "console.db").exists()


def test_audit_log_survives_a_restart(fake: FakeUpstream, tmp_path: object) -> None:
    from pathlib import Path

    from tests.console.support import console_env

    tmp = Path(str(tmp_path))
    env = console_env(tmp)
    with Proxy.start(tmp, fake.url, env) as p, ConsoleClient(p.url) as c:
        c.login(ADMIN_KEY)
        c.post("/console/lookup", tenant="team-b", pseudonym="vpc-777")
    with Proxy.start(tmp, fake.url, env) as p, ConsoleClient(p.url) as c:
        c.login(ADMIN_KEY)
        log = c.get("/console/lookup").text
        assert re.search(r"admin</td><td>lookup</td><td>team-b</td>\s*<td><code>vpc-777</code></td><td>unknown", log)


def test_repeated_failed_logins_are_throttled(fake: FakeUpstream, tmp_path: object) -> None:
    from pathlib import Path

    from tests.console.support import console_env

    tmp = Path(str(tmp_path))
    with Proxy.start(tmp, fake.url, console_env(tmp)) as p, ConsoleClient(p.url) as c:
        statuses = [c.login("wrong-key-" + "x" * 20).status_code for _ in range(11)]
        assert statuses[:10] == [401] * 10 and statuses[10] == 429
        assert c.login(ADMIN_KEY).status_code == 429, "even the right key waits out the window"
