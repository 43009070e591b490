"""The README's benchmark block: what was measured where, one short table against the peers
and the floor, the plot; every other table stays in results.md."""

from __future__ import annotations

from pathlib import Path

import report

RESULTS = """# maskgate benchmarks

Measured today on a box.

## Goals

| goal | measured | |
|---|---|---|
| Engine: ≥ 1,000 MB/s on the session body | 43 MB/s | **missed** |
| Engine: ≥ 200x the Python re baseline on the same body | 57x | **missed** |
| Gateway: ≥ 5x less added latency than LiteLLM's proxy | 4.2x | **missed** |

| set-up | 10 KB |
|---|---|
| pass-through | +1.58 |

## Engine

| impl | 100 KB |
|---|---|
| Python re baseline | 0.61 |
"""


def test_the_readme_block_holds_one_table_against_the_peers(tmp_path: Path) -> None:
    readme, results = tmp_path / "README.md", tmp_path / "results.md"
    readme.write_text(f"# x\n\n{report.README_START}\nold\n{report.README_END}\n\n## Layout\n", encoding="utf-8")
    results.write_text(RESULTS, encoding="utf-8")
    assert report.update_readme(readme, results)
    text = readme.read_text(encoding="utf-8")
    block = text.split(report.README_START)[1].split(report.README_END)[0]
    assert "Measured today on a box." in block
    assert "Python re baseline on the same body | 57x" in block
    assert "LiteLLM's proxy | 4.2x" in block
    assert "1,000 MB/s" not in block, "a goal without a peer stays in results.md"
    assert "pass-through | +1.58" not in block and "| Python re baseline | 0.61" not in block
    assert "latency.png" in block and text.endswith("## Layout\n") and "old" not in block
