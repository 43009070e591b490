"""The console's pages and JSON endpoints, mounted at `/console` on the gateway's own app.

Every page is rendered on the server (Jinja2, autoescaped); the only scripts are the two files in
`static/` (a poller and the charts), so the Content-Security-Policy can forbid everything inline.
Nothing here puts an original in a URL, a title or a log line: lookups and "try it" are POSTs,
their results are in the page body only, and the audit log names pseudonyms.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maskgate import logs
from maskgate._core import format_pseudonym, parse_pseudonym
from maskgate.console.access import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Session,
    cookie_secure,
    find_admin,
    new_token,
    same_origin,
    same_token,
    tenants_of,
    token_hash,
)
from maskgate.console.capture import ConsoleMiddleware, Segment, Span, byte_offsets, segments, spans, unpack
from maskgate.console.state import Console, capture_context
from maskgate.errors import error_response
from maskgate.request_body import BodyTooLarge, read_body
from maskgate.store import StoreError

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
TEMPLATES.env.filters["clock"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(t)))
TEMPLATES.env.filters["counts"] = lambda c: ", ".join(f"{k} \u00d7{v}" for k, v in sorted(dict(c).items()))
MAX_FORM_BYTES = 256 * 1024
MAX_TRY_CHARS = 64 * 1024

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make Chromium send `Origin: null` on POSTs
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

Page = Callable[[Request, Console, Session], Awaitable[Response]]


# -- plumbing ---------------------------------------------------------------------------------


def console_of(request: Request) -> Console:
    console: Console = request.app.state.gateway.console
    return console


def base_of(request: Request) -> str:
    """Where the console is, as the browser sees it (behind a proxy's root path too)."""
    return str(request.scope.get("app_root_path", "")).rstrip("/") + COOKIE_PATH


async def read_form(request: Request) -> dict[str, str]:
    """URL-encoded forms only (all the console sends), parsed here so no multipart parser is needed."""
    cached = getattr(request.state, "console_form", None)
    if isinstance(cached, dict):
        return cached
    form: dict[str, str] = {}
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/x-www-form-urlencoded":
        try:
            body = await read_body(request, MAX_FORM_BYTES)
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        except BodyTooLarge:
            pass  # an oversized form is an empty one: every check on it fails
    request.state.console_form = form
    return form


def all_tenant_names(console: Console) -> list[str]:
    return [t.name for t in console.gateway.settings.all_tenants]


def scope_of(console: Console, session: Session) -> list[str] | None:
    """None for an admin of every tenant (who also sees requests no tenant was found for)."""
    return None if session.admin.tenants is None else tenants_of(session.admin, all_tenant_names(console))


def render(
    request: Request, name: str, context: dict[str, Any], session: Session | None = None, status: int = 200
) -> Response:
    ctx = {"base": base_of(request), "session": session, "now": time.time(), **context}
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)


async def session_of(request: Request, console: Console) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return None
    name = await console.store().session(token_hash(token))
    admin = next((a for a in console.settings.admins if a.name == name), None)
    return Session(admin, token) if admin is not None else None


def admin_only(page: Page, api: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Logged-in admins only; state-changing requests also need the session's CSRF token and our Origin."""

    async def endpoint(request: Request) -> Response:
        console = console_of(request)
        try:
            session = await session_of(request, console)
        except StoreError:
            return error_response(503, "the console store is unavailable")
        if session is None:
            if api:
                return JSONResponse({"error": "log in to the console first"}, 401)
            if request.method == "POST":
                return render(request, "denied.html", {"title": "Not allowed"}, status=403)
            return RedirectResponse(base_of(request) + "/login", 303)
        if request.method == "POST":
            form = await read_form(request)
            if not same_origin(request) or not same_token(form.get("csrf"), session.csrf):
                return render(request, "denied.html", {"title": "Not allowed"}, session, status=403)
        return await page(request, console, session)

    return endpoint


class Guard:
    """Around every console route: 404 unless enabled, and the security headers on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        console: Console | None = getattr(getattr(scope["app"].state, "gateway", None), "console", None)
        if console is None or not console.enabled:
            method, path = scope.get("method", "GET"), scope.get("path", "")
            await error_response(404, f"no route for {method} {path}")(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(str(scope.get("root_path", "")) + "/static/")

        started = False

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_guarded)
        except StoreError as e:
            # The console's store (or the map, for lookups) is down: say so, and nothing was done.
            logs.event("console: store unavailable", level=logging.WARNING, error=str(e))
            if started:
                raise
            await error_response(503, "the console's store is unavailable; nothing was done")(
                scope, receive, send_guarded
            )


# -- login ----------------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or new_token()
    response = render(request, "login.html", {"title": "Log in", "login_token": token, "error": None})
    _set_cookie(request, response, LOGIN_COOKIE, token, 600)
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await read_form(request)
    who = request.client.host if request.client else "?"
    token = request.cookies.get(LOGIN_COOKIE)
    if not same_origin(request) or not same_token(form.get("login_token"), token):
        return render(request, "denied.html", {"title": "Not allowed"}, status=403)
    if console.throttle.blocked(who):
        return render(
            request, "login.html", _login_error(token, "Too many failed attempts; wait a few minutes."), status=429
        )
    admin = find_admin(form.get("key", "").strip(), console.settings.admins)
    if admin is None:
        console.throttle.failed(who)
        await console.audit("-", "login", "-", who, "refused")
        return render(request, "login.html", _login_error(token, "That is not an admin key."), status=401)
    console.throttle.succeeded(who)
    session_token = new_token()
    await console.store().add_session(
        token_hash(session_token), admin.name, time.time() + console.settings.session_seconds
    )
    await console.audit(admin.name, "login", "-", who, "ok")
    response = RedirectResponse(base_of(request) + "/", 303)
    _set_cookie(request, response, SESSION_COOKIE, session_token, console.settings.session_seconds)
    response.delete_cookie(LOGIN_COOKIE, path=base_of(request))
    return response


def _login_error(token: str | None, message: str) -> dict[str, Any]:
    return {"title": "Log in", "login_token": token or "", "error": message}


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=base_of(request),
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
    )


async def logout(request: Request, console: Console, session: Session) -> Response:
    await console.store().drop_session(token_hash(session.token))
    await console.audit(session.admin.name, "logout", "-", "-", "ok")
    response = RedirectResponse(base_of(request) + "/login", 303)
    response.delete_cookie(SESSION_COOKIE, path=base_of(request))
    return response


# -- activity and charts ------------------------------------------------------------------


async def dashboard(request: Request, console: Console, session: Session) -> Response:
    rows = console.activity.after(0, scope_of(console, session), limit=100)
    last = max((r.seq for r in rows), default=0)
    return render(request, "activity.html", {"title": "Activity", "rows": rows, "last": last}, session)


async def api_activity(request: Request, console: Console, session: Session) -> Response:
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        after = 0
    rows = console.activity.after(after, scope_of(console, session))
    return JSONResponse({"rows": [r.as_json() for r in rows]})


async def api_series(request: Request, console: Console, session: Session) -> Response:
    console.series.sample()
    return JSONResponse(console.series.as_json())


# -- catalogue and "try it" -----------------------------------------------------------------


async def catalogue(request: Request, console: Console, session: Session) -> Response:
    patterns = console.gateway.engine.core.catalogue()
    trial: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        text = (await read_form(request)).get("text", "")
        if len(text) > MAX_TRY_CHARS:
            trial, status = {"error": f"Paste at most {MAX_TRY_CHARS} characters."}, 413
        else:
            trial = _trial(console, text)
    context = {"title": "Catalogue", "patterns": patterns, "trial": trial}
    return render(request, "catalogue.html", context, session, status)


def _trial(console: Console, text: str) -> dict[str, Any]:
    """What `text` would become, marked on both sides; computed in memory, never stored or logged."""
    masked = console.try_mask(text)
    data, output = text.encode(), masked.text.encode()
    found = [(*byte_offsets(text, f.start, f.end), f.kind, f.pseudonym or "") for f in masked.findings]
    placed = spans(found, output)
    return {
        "before": _marked(data, placed, output=False),
        "after": _marked(output, placed, output=True),
        "findings": [(s.kind, data[s.start : s.end].decode("utf-8", "replace"), s.pseudonym) for s in placed],
    }


def _marked(data: bytes, placed: list[Span], output: bool) -> list[Segment]:
    """Segments of one side: the client side marks originals, the provider side their pseudonyms."""
    marks = []
    for i, s in enumerate(placed):
        start, end = (s.out_start, s.out_end) if output else (s.start, s.end)
        if start >= 0:
            marks.append((start, end, s.kind, s.pseudonym, f"f{i}"))
    return segments(data, marks)


# -- lookup and audit log -----------------------------------------------------------------


async def lookup(request: Request, console: Console, session: Session) -> Response:
    allowed = tenants_of(session.admin, all_tenant_names(console))
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        form = await read_form(request)
        tenant, text = form.get("tenant", ""), form.get("pseudonym", "").strip()
        parsed = parse_pseudonym(text) if 0 < len(text) <= 80 else None
        if tenant not in allowed:
            result, status = {"error": "You may not look up pseudonyms of that tenant."}, 403
        elif parsed is None:
            # What was pasted may itself be an original: it goes nowhere, not even the audit log.
            await console.audit(session.admin.name, "lookup", tenant, "(not a pseudonym)", "invalid")
            result = {"error": "That is not a pseudonym (they look like ec2-001)."}
        else:
            pseudonym = format_pseudonym(*parsed)
            try:
                [original] = await console.gateway.store.lookup(tenant, [parsed])
                # Recorded before it is shown: a lookup the log cannot hold is not answered.
                await console.audit(session.admin.name, "lookup", tenant, pseudonym, "found" if original else "unknown")
            except StoreError:
                return error_response(503, "the store is unavailable; nothing was looked up")
            result = {"tenant": tenant, "pseudonym": pseudonym, "original": original}
    log = await console.store().audit_log(100, scope_of(console, session))
    context = {"title": "Lookup", "tenants": allowed, "result": result, "log": log}
    return render(request, "lookup.html", context, session, status)


# -- captures -------------------------------------------------------------------------------


async def captures(request: Request, console: Console, session: Session, status: int = 200) -> Response:
    allowed = tenants_of(session.admin, all_tenant_names(console))
    windows = {t: u for t, u in (await console.windows()).items() if t in allowed}
    listed = [
        c
        for c in await console.store().captures(500, console.settings.capture_retention_seconds)
        if c.tenant in allowed
    ]
    context = {
        "title": "Captures",
        "tenants": allowed,
        "windows": windows,
        "captures": listed,
        "max_minutes": max(1, console.settings.capture_max_seconds // 60),
        "retention_hours": round(console.settings.capture_retention_seconds / 3600, 1),
        "max_entries": console.settings.capture_max_entries,
    }
    return render(request, "captures.html", context, session, status)


async def start_capture(request: Request, console: Console, session: Session) -> Response:
    form = await read_form(request)
    tenant = form.get("tenant", "")
    if tenant not in tenants_of(session.admin, all_tenant_names(console)):
        return render(request, "denied.html", {"title": "Not allowed"}, session, status=403)
    try:
        minutes = float(form.get("minutes", "10"))
    except ValueError:
        minutes = 10.0
    if not math.isfinite(minutes):
        minutes = 10.0
    seconds = min(max(60.0, minutes * 60), float(console.settings.capture_max_seconds))
    await console.set_window(tenant, time.time() + seconds)
    await console.audit(session.admin.name, "capture-start", tenant, f"{round(seconds / 60)} min", "ok")
    return RedirectResponse(base_of(request) + "/captures", 303)


async def stop_capture(request: Request, console: Console, session: Session) -> Response:
    tenant = (await read_form(request)).get("tenant", "")
    if tenant not in tenants_of(session.admin, all_tenant_names(console)):
        return render(request, "denied.html", {"title": "Not allowed"}, session, status=403)
    await console.set_window(tenant, time.time())
    await console.audit(session.admin.name, "capture-stop", tenant, "-", "ok")
    return RedirectResponse(base_of(request) + "/captures", 303)


async def capture_page(request: Request, console: Console, session: Session) -> Response:
    capture_id = str(request.path_params["capture_id"])
    retention = console.settings.capture_retention_seconds
    found = await console.store().capture(capture_id, retention) if len(capture_id) <= 64 else None
    allowed = tenants_of(session.admin, all_tenant_names(console))
    if found is None or found[0].tenant not in allowed:
        return render(request, "missing.html", {"title": "No such capture"}, session, status=404)
    meta, blob = found
    await console.audit(session.admin.name, "capture-view", meta.tenant, meta.id, "ok")
    client, provider, placed = unpack(console.key().unseal(capture_context(meta.id, meta.tenant), blob))
    context = {
        "title": "Capture",
        "meta": meta,
        "client": _marked(client, placed, output=False),
        "provider": _marked(provider, placed, output=True),
        "findings": [(i, s) for i, s in enumerate(placed)],
    }
    return render(request, "capture.html", context, session)


# -- the mount ------------------------------------------------------------------------------


def routes() -> list[BaseRoute]:
    return [
        Route("/", admin_only(dashboard), methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", admin_only(logout), methods=["POST"]),
        Route("/catalogue", admin_only(catalogue), methods=["GET", "POST"]),
        Route("/lookup", admin_only(lookup), methods=["GET", "POST"]),
        Route("/captures", admin_only(captures), methods=["GET"]),
        Route("/captures/start", admin_only(start_capture), methods=["POST"]),
        Route("/captures/stop", admin_only(stop_capture), methods=["POST"]),
        Route("/captures/{capture_id}", admin_only(capture_page), methods=["GET"]),
        Route("/api/activity", admin_only(api_activity, api=True), methods=["GET"]),
        Route("/api/series", admin_only(api_series, api=True), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static"))),
    ]


def mount_console() -> Mount:
    """The console at `/console`; it answers 404 (like any unknown route) unless enabled."""
    return Mount(COOKIE_PATH, app=Guard(Router(routes=routes())))


def console_middleware() -> list[Middleware]:
    """For the gateway's app: copies bodies during captures."""
    return [Middleware(ConsoleMiddleware)]
