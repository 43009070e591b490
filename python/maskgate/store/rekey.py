"""`python -m maskgate.store.rekey`: rewrite every mapping under the current store key.

Key rotation, with the gateway still serving:

1. set ``MASKGATE_STORE_KEY`` to the new key and ``MASKGATE_STORE_KEY_PREVIOUS`` to the old one on
   every replica, and restart them (they read both keys, write with the new one);
2. run this command once with the same environment (it is safe while replicas keep serving);
3. when a second run reports 0 entries rewritten, drop ``MASKGATE_STORE_KEY_PREVIOUS``.

It reads the same settings as the server (environment and ``MASKGATE_CONFIG``) and prints counts
only, never an original or a key.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from maskgate.settings import Settings, SettingsError

from . import EmbeddedStore, RedisStore, StoreError, open_store_from_settings


async def rekey(settings: Settings) -> int:
    """Entries rewritten under the current key (0 when nothing was left under an old one)."""
    store = open_store_from_settings(settings)
    try:
        if isinstance(store, RedisStore):
            return await store.rekey_all()
        if isinstance(store, EmbeddedStore):
            return await store.rekey()
        raise StoreError("this store has no rekey")
    finally:
        await store.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(require_master_key=False)
        if not settings.store_key:
            raise SettingsError("MASKGATE_STORE_KEY (the new key) is required to rekey")
        count = asyncio.run(rekey(settings))
    except (SettingsError, StoreError) as e:
        print(f"maskgate rekey: {e}", file=sys.stderr)
        return 1
    print(f"rekeyed {count} entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
