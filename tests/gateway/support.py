"""Helpers shared by the gateway tests."""

from __future__ import annotations

import secrets

TENANT_B_KEY = "tenant-b-key-" + "y" * 20


def new_ids() -> dict[str, str]:
    """Fresh identifiers per test, so tests never depend on each other's pseudonyms."""
    h = secrets.token_hex
    return {
        "instance": f"i-{h(9)[:17]}",
        "vpc": f"vpc-{h(4)}",
        "key": "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "bucket": f"data-{h(4)}",
    }
