"""The `maskgate` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from maskgate.settings import Settings, SettingsError


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maskgate", description="Keep AWS identifiers away from the model.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000)")
    serve.set_defaults(func=_serve)
    keygen = sub.add_parser("keygen", help="print a new random key (for MASKGATE_MASTER_KEY or MASKGATE_STORE_KEY)")
    keygen.set_defaults(func=_keygen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
