"""What to install for an optional extra, said so it works: maskgate is a wheel, not on an index,
so `pip install 'maskgate[headless]'` would fail; the extra's own pinned packages do not."""

from __future__ import annotations

import re
from importlib import metadata

_EXTRA = re.compile(r"""^(?P<req>[^;]+);\s*extra\s*==\s*["'](?P<extra>[^"']+)["']""")


def install_hint(extra: str) -> str:
    """`pip install '<pinned packages>'` for one of maskgate's extras (the wheel's metadata says
    which), or the wheel form when the metadata cannot be read."""
    try:
        requires = metadata.requires("maskgate") or []
    except metadata.PackageNotFoundError:
        requires = []
    packages = [
        m.group("req").strip().replace(" ", "") for m in map(_EXTRA.match, requires) if m and m.group("extra") == extra
    ]
    if not packages:
        return f'pip install "$(ls dist/maskgate-*.whl)[{extra}]"'
    return "pip install " + " ".join(f"'{p}'" for p in packages) + f" (maskgate's [{extra}] extra)"
