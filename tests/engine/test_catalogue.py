"""Every example of every catalogue entry, checked against the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from maskgate import CatalogueError, Engine
from maskgate._core import Core

CORE = Core([], ["private-network"], [])
ENTRIES = CORE.catalogue()


def test_the_catalogue_is_shipped_as_data() -> None:
    import maskgate

    shipped = Path(maskgate.__file__).parent / "patterns" / "builtin.toml"
    assert shipped.read_text(encoding="utf-8").startswith(("#", "version"))
    assert len(ENTRIES) >= 8


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_entry_examples(entry: dict[str, object]) -> None:
    one = CORE.only(str(entry["name"]))
    positive = entry["positive"]
    negative = entry["negative"]
    assert isinstance(positive, list) and isinstance(negative, list)
    for text, value in positive:
        found = [f.original for f in one.scan(text)]
        assert value in found, f"{entry['name']}: {value!r} not found in {text!r} (found {found})"
    for text in negative:
        found = [f.original for f in one.scan(text)]
        assert not found, f"{entry['name']}: negative example {text!r} matched {found}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_positive_values_never_reach_the_output(entry: dict[str, object]) -> None:
    engine = Engine(enable=["private-network"])
    positive = entry["positive"]
    assert isinstance(positive, list)
    for text, value in positive:
        masked = engine.mask(text).text
        assert value not in masked, f"{entry['name']}: {value!r} survived in {masked!r}"
        assert engine.unmask(masked) == text


def test_private_network_is_opt_in() -> None:
    text = "ssh 10.0.1.23"
    assert Engine().mask(text).text == text
    assert Engine(enable=["private-network"]).mask(text).text != text


def test_user_file_overrides_adds_and_disables(tmp_path: Path) -> None:
    user = tmp_path / "corp.toml"
    user.write_text(
        'version = 1\ndisable = ["ec2-instance"]\n\n[[pattern]]\nname = "corp-host"\nkind = "corp"\n'
        "regex = '\\bcorp-[a-z]{3}\\d{2}\\b'\npriority = 30\npositive = [\"corp-abc12\"]\n",
        encoding="utf-8",
    )
    engine = Engine(user)
    masked = engine.mask("corp-web01 runs i-0123456789abcdef0").text
    assert masked == "corp-001 runs i-0123456789abcdef0"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("[[pattern]]\nname='x'\nkind='x'\nregex='(a'\npriority=1\n", 'bad.toml: pattern "x": regex:'),
        ("[[pattern]]\nname='x'\nkind='Bad'\nregex='a'\npriority=1\n", 'bad.toml: pattern "x": kind'),
        ("[[pattern]]\nname='x'\nregex='a'\npriority=1\n", "missing field `kind`"),
        (
            "[[pattern]]\nname='x'\nkind='x'\nregex='a'\npriority=1\nvalidate={veto=['order']}\n",
            'bad.toml: pattern "x": validate.veto without validate.context',
        ),
        ("this is not toml", "bad.toml:"),
    ],
)
def test_bad_user_files_fail_at_load_naming_file_entry_problem(tmp_path: Path, source: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(source, encoding="utf-8")
    with pytest.raises(CatalogueError, match="bad.toml") as info:
        Engine(bad)
    assert message.split(":")[-1].strip() in str(info.value)


def test_missing_user_file() -> None:
    with pytest.raises(CatalogueError, match="nope.toml: cannot read"):
        Engine("nope.toml")
