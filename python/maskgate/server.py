"""`uvicorn maskgate.server:app` serves the gateway with settings from the environment;
`create_app` builds one from explicit `Settings` (tests, `maskgate serve`). The gateway itself is
the `maskgate.gateway` package."""

from __future__ import annotations

from maskgate.gateway import Gateway, create_app

app = create_app()

__all__ = ["Gateway", "app", "create_app"]
