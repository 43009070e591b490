"""Make ``maskgate.store`` importable in tests (and in their spawned child processes).

The store does not use the compiled engine, but ``maskgate/__init__.py`` imports ``maskgate._core``.
When the extension has not been built (``maturin develop``), load the ``maskgate`` package as a bare
namespace so the store tests still run.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "python"


def ensure_store_importable() -> None:
    try:
        importlib.import_module("maskgate.store")
        return
    except ImportError:
        pass
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    for name in [m for m in sys.modules if m == "maskgate" or m.startswith("maskgate.")]:
        del sys.modules[name]
    try:
        importlib.import_module("maskgate.store")
        return
    except ImportError:
        for name in [m for m in sys.modules if m == "maskgate" or m.startswith("maskgate.")]:
            del sys.modules[name]
    pkg = types.ModuleType("maskgate")
    pkg.__path__ = [str(SRC / "maskgate")]
    sys.modules["maskgate"] = pkg
    importlib.import_module("maskgate.store")


ensure_store_importable()
