"""The audit console: a web page, served by the gateway itself, that answers "what left the building?".

Off unless `[console] enabled = true` (or `MASKGATE_CONSOLE=on`), and then only for admin keys.
`state.Console` is the per-process recorder the gateway feeds; `views.mount()` is the `/console`
mount; `capture.ConsoleMiddleware` copies request bodies while a capture window is open.
"""

from __future__ import annotations

from maskgate.console.capture import ConsoleMiddleware
from maskgate.console.state import Console
from maskgate.console.views import console_middleware, mount_console

__all__ = ["Console", "ConsoleMiddleware", "console_middleware", "mount_console"]
