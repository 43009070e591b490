"""One gateway per module (console on, capture open) before the session's recording fake provider.

A module picks its stores with `pytestmark = pytest.mark.parametrize("store", [...], indirect=True,
scope="module")`; the default is the embedded store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_upstream import FakeUpstream
from tests.leaks.support import Leaks, running


@pytest.fixture(scope="module")
def store(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "embedded"))


@pytest.fixture(scope="module")
def gw(fake: FakeUpstream, store: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Leaks]:
    with running(fake, tmp_path_factory.mktemp(f"leaks-{store}"), store) as leaks:
        yield leaks
