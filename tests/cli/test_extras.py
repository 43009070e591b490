"""Install hints for the optional extras name what to install from the wheel's own metadata:
maskgate is not on an index, so `pip install 'maskgate[headless]'` would fail for a user."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from maskgate.extras import install_hint

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))


USER_EXTRAS = sorted(set(PYPROJECT["project"]["optional-dependencies"]) - {"dev"})


@pytest.mark.parametrize("extra", USER_EXTRAS)
def test_the_hint_names_the_extras_pinned_packages(extra: str) -> None:
    hint = install_hint(extra)
    assert "maskgate[" not in hint
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        assert f"'{requirement.replace(' ', '')}'" in hint, hint


def test_an_unknown_extra_points_at_the_wheel() -> None:
    assert install_hint("no-such-extra") == 'pip install "$(ls dist/maskgate-*.whl)[no-such-extra]"'
