"""Fixtures shared by every suite that talks to the fake provider (loaded by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_upstream import FakeUpstream


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as f:
        yield f


@pytest.fixture(autouse=True)
def _clean_fake(request: pytest.FixtureRequest) -> None:
    """Every test that talks to the fake starts with no recorded requests and no script."""
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").clear()
