"""The `maskgate` command line.

Results go to stdout: tables and colour on a terminal, tab-separated (or `--json`) when piped.
Status lines and progress go to stderr, so pipes carry only results.
"""

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
from maskgate.store.base import StoreError, StoreKeyMismatch

if TYPE_CHECKING:
    from rich.console import Console

    from maskgate.store import MappingStore

# A scan over fewer files than this is over before a progress bar would be worth drawing.
PROGRESS_MIN_FILES = 200
STATUS_STYLES = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _say(message: str) -> None:
    """A status line on stderr, prefixed so it is told apart from the output of what maskgate runs."""
    print(f"maskgate: {message}", file=sys.stderr, flush=True)


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], styles: Sequence[str | None] = ()) -> None:
    """A table on a terminal; a header line and tab-separated rows when piped."""
    if not sys.stdout.isatty():
        for row in (columns, *rows):
            print("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in row))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for i, row in enumerate(rows):
        style = styles[i] if i < len(styles) else None
        table.add_row(*(Text(cell) for cell in row), style=style)
    _console().print(table)


def _serve(args: argparse.Namespace) -> int:
    from maskgate import serve

    given = (("host", args.host), ("port", args.port), ("workers", args.workers))
    overrides = {k: v for k, v in given if v is not None}
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    if settings.catalogues:
        # A broken user catalogue is one line here, not a traceback from inside the server's start-up.
        Engine.from_settings(settings)
    # Before any worker starts: the embedded store and its key file are made here, once.
    _check_store_key(settings)
    return serve.run(settings)


def _check_store_key(settings: Settings) -> None:
    """A store key that does not open the store is one line here, not a traceback from the server's
    start-up (which checks it too). A store that is down is the gateway's to report, as before."""
    from maskgate.store import StoreUnavailable, open_store_from_settings

    async def check() -> None:
        store = open_store_from_settings(settings)
        try:
            await store.verify()
        except StoreUnavailable:
            pass
        finally:
            await store.aclose()

    asyncio.run(check())


def _keygen(args: argparse.Namespace) -> int:
    import secrets

    print(secrets.token_hex(32))
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(require_master_key=False)


def _engine_with_store(settings: Settings) -> tuple[Engine, MappingStore]:
    from maskgate.store import open_store_from_settings

    store = open_store_from_settings(settings)
    return Engine.from_settings(settings, store), store


class CliError(Exception):
    """A problem the user can fix, said in one line (no traceback)."""


def _read_input(source: str) -> str:
    try:
        if source == "-":
            return sys.stdin.read()
        return Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        name = "standard input" if source == "-" else source
        raise CliError(f"{name} is not UTF-8 text (byte {e.start}): maskgate masks UTF-8 text only") from None


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _mask_or_unmask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine, store = _engine_with_store(settings)
    text = _read_input(args.file)

    namespace = args.namespace or DEFAULT_TENANT

    async def run() -> str:
        try:
            if args.command == "mask":
                return (await engine.amask(text, namespace)).text
            restored = await engine.aunmask(text, namespace)
        finally:
            await store.aclose()
        if args.namespace is not None and engine.core.known_count(namespace) == 0:
            # A mistyped namespace would otherwise give the text back unchanged, or another tenant's.
            raise CliError(f"namespace {_short(namespace)} has no mappings (check --namespace)")
        unknown = engine.unknown_pseudonyms(text, namespace)
        if unknown:
            _say(f"{len(unknown)} pseudonym(s) not known in namespace {_short(namespace)} were left as they are")
        return restored

    sys.stdout.write(asyncio.run(run()))
    return 0


def _scan(args: argparse.Namespace) -> int:
    from maskgate.scan import FileFinding, scan_file, walk

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        # A typo must not turn a pre-commit hook or a CI job green with "0 findings".
        raise SettingsError(f"scan: no such file or directory: {', '.join(missing)}")
    settings = _settings(args)
    engine = Engine.from_settings(settings)
    paths = list(walk(args.paths))
    findings: list[FileFinding] = []
    if sys.stderr.isatty() and len(paths) >= PROGRESS_MIN_FILES:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=_console(stderr=True), transient=True) as progress:
            task = progress.add_task("scan", total=len(paths))
            for path in paths:
                findings.extend(scan_file(engine, path))
                progress.advance(task)
    else:
        for path in paths:
            findings.extend(scan_file(engine, path))
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2))
    elif sys.stdout.isatty() and findings:
        rows = [[f"{f.path}:{f.line}:{f.column}", f.kind, f.pattern_preview] for f in findings]
        _table(["location", "kind", "preview"], rows)
    else:
        # The classic `file:line:col:` form: editors, CI logs and pre-commit all know it.
        for f in findings:
            print(f"{f.path}:{f.line}:{f.column}: {f.kind} {f.pattern_preview}")
    if not args.json:
        print(f"{len(findings)} finding(s) in {len(paths)} file(s)", file=sys.stderr)
    return 1 if findings else 0


def _patterns(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = Engine.from_settings(settings)
    if args.text is not None:
        return _patterns_test(engine, args.text, args.json)
    entries = engine.core.catalogue()
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    rows = [
        [
            "on" if e["enabled"] else "off",
            str(e["priority"]),
            str(e["kind"]),
            str(e["name"]),
            str(e["group"] or ""),
            str(e["origin"]),
        ]
        for e in entries
    ]
    styles = [None if e["enabled"] else "dim" for e in entries]
    _table(["state", "priority", "kind", "name", "group", "origin"], rows, styles)
    return 0


def _patterns_test(engine: Engine, text: str, as_json: bool) -> int:
    """What masking would do to TEXT. An engine without a store: nothing is written anywhere."""
    result = engine.mask(text)
    if as_json:
        found = [
            {"start": f.start, "end": f.end, "kind": f.kind, "original": f.original, "pseudonym": f.pseudonym}
            for f in result.findings
        ]
        print(json.dumps({"masked": result.text, "findings": found}, indent=2))
        return 0
    print(result.text)
    if result.findings:
        rows = [[f"{f.start}-{f.end}", f.kind, f.original, f.pseudonym or ""] for f in result.findings]
        if sys.stdout.isatty():
            print()
        _table(["span", "kind", "original", "pseudonym"], rows)
    else:
        print("nothing would be masked", file=sys.stderr)
    return 0


def _claude(argv: Sequence[str]) -> int:
    """`maskgate claude ARGS...`; ARGS go to Claude Code untouched, so argparse never sees them."""
    import os

    from maskgate.claude import SessionError, local_url, run_session

    settings = Settings.from_env(require_master_key=False)
    url = local_url(settings.host, settings.port)
    try:
        return run_session(list(argv), os.environ, settings.claude_bin, url, _say)
    except SessionError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 127 if "not installed" in str(e) else 2
    except KeyboardInterrupt:
        return 130


def _doctor(args: argparse.Namespace) -> int:
    import os

    from maskgate import doctor

    checks = doctor.run(os.environ)
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], indent=2))
    elif sys.stdout.isatty():
        from rich.table import Table
        from rich.text import Text

        table = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
        for column in ("status", "check", "detail"):
            table.add_column(column, overflow="fold", no_wrap=column != "detail")
        for c in checks:
            detail = Text(c.detail)
            if c.fix and c.status in ("warn", "fail"):
                detail.append(f"\nfix: {c.fix}", style="cyan")
            table.add_row(Text(c.status, STATUS_STYLES[c.status]), c.name, detail)
        _console().print(table)
    else:
        for c in checks:
            print("\t".join((c.status, c.name, c.detail, c.fix)))
    return doctor.exit_code(checks)


def _setup(args: argparse.Namespace) -> int:
    import os

    from maskgate import setup

    try:
        if args.undo:
            return setup.undo(os.environ, _say)
        return setup.setup(os.environ, _say, service=not args.no_service)
    except setup.SetupError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskgate", description="Keep AWS identifiers away from the model.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=None, help="worker processes on the one port (default 1; MASKGATE_WORKERS)"
    )
    serve.set_defaults(func=_serve)
    keygen = sub.add_parser("keygen", help="print a new random key (for MASKGATE_MASTER_KEY or MASKGATE_STORE_KEY)")
    keygen.set_defaults(func=_keygen)
    for name, what in (("mask", "mask a file (or - for stdin)"), ("unmask", "restore a masked file (or -)")):
        p = sub.add_parser(name, help=what + ", through the same store as the server")
        p.add_argument("file", nargs="?", default="-")
        p.add_argument("--namespace", default=None, help="the tenant's namespace (default: default)")
        p.set_defaults(func=_mask_or_unmask)
    scan = sub.add_parser("scan", help="list identifiers and secrets in files; exits 1 when any are found")
    scan.add_argument("paths", nargs="+")
    scan.add_argument("--json", action="store_true", help="machine-readable output")
    scan.set_defaults(func=_scan)
    patterns = sub.add_parser("patterns", help="list the catalogue, or `patterns test TEXT`")
    patterns.add_argument("action", nargs="?", choices=["list", "test"], default="list")
    patterns.add_argument("text", nargs="?", default=None)
    patterns.add_argument("--json", action="store_true", help="machine-readable output")
    patterns.set_defaults(func=_patterns)
    sub.add_parser(
        "claude",
        help="run Claude Code through maskgate (starts one for the session if none answers)",
        description="maskgate claude [ARGS...]: every ARG goes to `claude` unchanged, e.g. maskgate claude -p 'hi'",
        add_help=False,
    )
    setup = sub.add_parser(
        "setup",
        help="make every `claude` on this machine use maskgate (Claude Code's user settings, a systemd user service)",
    )
    setup.add_argument("--undo", action="store_true", help="put Claude Code's settings back and remove the service")
    setup.add_argument("--no-service", action="store_true", help="only the settings: you start the gateway yourself")
    setup.set_defaults(func=_setup)
    doctor = sub.add_parser("doctor", help="check the set-up and say how to fix each problem")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    doctor.set_defaults(func=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["claude"]:
        try:
            return _claude(argv[1:])
        except SettingsError as e:
            print(f"maskgate: {e}", file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "test" and args.text is None:
        build_parser().error("patterns test needs a TEXT")
    try:
        code: int = args.func(args)
    except SettingsError as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    except (OSError, MaskgateError, CliError) as e:
        print(f"maskgate: {e}", file=sys.stderr)
        return 2
    except StoreKeyMismatch as e:
        print(f"maskgate: {e}", file=sys.stderr)  # it says what to do; the advice below would mislead
        return 2
    except StoreError as e:
        print(
            f"maskgate: the mapping store failed ({e}): check MASKGATE_REDIS_URL or MASKGATE_STORE_PATH",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
