"""The `maskgate` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from maskgate._core import MaskgateError
from maskgate.engine import Engine
from maskgate.settings import DEFAULT_TENANT, Settings, SettingsError

if TYPE_CHECKING:
    from maskgate.store import MappingStore


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from maskgate.server import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    url = f"http://{settings.host}:{settings.port}"
    print(f"maskgate listening on {url}", file=sys.stderr)
    print("Point Claude Code at it:", file=sys.stderr)
    print(f"  export ANTHROPIC_BASE_URL={url}", file=sys.stderr)
    print('  export ANTHROPIC_AUTH_TOKEN="$MASKGATE_MASTER_KEY"', file=sys.stderr)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=None,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    return 0


def _keygen(args: argparse.Namespace) -> int:
    import secrets

    print(secrets.token_hex(32))
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(require_master_key=False)


def _engine_with_store(settings: Settings) -> tuple[Engine, MappingStore]:
    from maskgate.store import StoreKey, open_store

    if not settings.redis_url:
        settings.store_path.parent.mkdir(parents=True, exist_ok=True)
    key = StoreKey(settings.store_key) if settings.store_key else None
    store = open_store(settings.redis_url, settings.store_path, key, settings.store_ttl_seconds, settings.redis_prefix)
    engine = Engine(settings.catalogues, enable=settings.enable, disable=settings.disable, store=store)
    return engine, store


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8")


def _mask_or_unmask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine, store = _engine_with_store(settings)
    text = _read_input(args.file)

    async def run() -> str:
        try:
            if args.command == "mask":
                return (await engine.amask(text, args.namespace)).text
            return await engine.aunmask(text, args.namespace)
        finally:
            await store.aclose()

    sys.stdout.write(asyncio.run(run()))
    return 0


def _scan(args: argparse.Namespace) -> int:
    from maskgate.scan import scan_file, walk

    settings = _settings(args)
    engine = Engine(settings.catalogues, enable=settings.enable, disable=settings.disable)
    findings = [f for path in walk(args.paths) for f in scan_file(engine, path)]
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for f in findings:
            print(f"{f.path}:{f.line}:{f.column}: {f.kind} {f.pattern_preview}")
        print(f"{len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


def _patterns(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = Engine(settings.catalogues, enable=settings.enable, disable=settings.disable)
    if args.text is not None:
        result = engine.mask(args.text)
        print(result.text)
        for f in result.findings:
            print(f"  {f.start}-{f.end} {f.kind}: {f.original!r} -> {f.pseudonym}", file=sys.stderr)
        return 0
    entries = engine.core.catalogue()
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for e in entries:
        state = "on " if e["enabled"] else "off"
        group = f" [{e['group']}]" if e["group"] else ""
        print(f"{state} {e['priority']:>4} {e['kind']:<12} {e['name']}{group}  ({e['origin']})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskgate", description="Keep AWS identifiers away from the model.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.set_defaults(func=_serve)
    keygen = sub.add_parser("keygen", help="print a new random key (for MASKGATE_MASTER_KEY or MASKGATE_STORE_KEY)")
    keygen.set_defaults(func=_keygen)
    for name, what in (("mask", "mask a file (or - for stdin)"), ("unmask", "restore a masked file (or -)")):
        p = sub.add_parser(name, help=what + ", through the same store as the server")
        p.add_argument("file", nargs="?", default="-")
        p.add_argument("--namespace", default=DEFAULT_TENANT, help="the tenant's namespace (default: default)")
        p.set_defaults(func=_mask_or_unmask)
    scan = sub.add_parser("scan", help="list identifiers and secrets in files; exits 1 when any are found")
    scan.add_argument("paths", nargs="+")
    scan.add_argument("--json", action="store_true", help="machine-readable output")
    scan.set_defaults(func=_scan)
    patterns = sub.add_parser("patterns", help="list the catalogue, or `patterns test TEXT`")
    patterns.add_argument("action", nargs="?", choices=["list", "test"], default="list")
    patterns.add_argument("text", nargs="?", default=None)
    patterns.add_argument("--json", action="store_true")
    patterns.set_defaults(func=_patterns)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "test" and args.text is None:
        build_parser().error("patterns test needs a TEXT")
    try:
        code: int = args.func(args)
    except SettingsError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    except (OSError, MaskgateError) as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
