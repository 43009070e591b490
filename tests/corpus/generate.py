"""Writes the labelled corpus (data/*.txt) from seeded generators; run once, commit the output.

    python3 -m venv /tmp/corpus-gen && /tmp/corpus-gen/bin/pip install awscli==1.33.0
    PYTHONPATH=. /tmp/corpus-gen/bin/python -m tests.corpus.generate

awscli is needed only here: its own formatters print the --output text and table documents.
The same seeds give the same files; each family draws from its own seed, so editing one
family leaves the others' bytes alone. After writing, every file is loaded back and checked
(labels round-trip, each registered value is labelled wherever it occurs).
"""

from __future__ import annotations

import importlib
import sys

from tests.corpus import corpus
from tests.corpus.gen.doc import Doc
from tests.corpus.gen.values import Values

FAMILIES = [
    "cli_ec2",
    "cli_iam",
    "cli_s3_kms",
    "cli_services",
    "cli_ops",
    "iac",
    "logs",
    "config",
    "deploy",
    "code",
    "urls",
    "shell",
    "korean",
    "japanese",
    "encodings",
]


def write(family: str, docs: list[Doc]) -> None:
    path = corpus.DATA / f"{family.replace('_', '-')}.txt"
    parts = []
    for d in docs:
        text = d.marked()
        parts.append(f"=== doc {d.name} ===\n{text}\n")
    path.write_text("".join(parts), encoding="utf-8")
    loaded = corpus.parse_file(path)
    assert [x.name for x in loaded] == [d.name for d in docs], path
    for d, x in zip(docs, loaded, strict=True):
        assert x.text == d.text, (path, d.name)
        for lb in (*x.planted, *x.lookalikes):
            assert x.text[lb.start : lb.end] == lb.raw
        for lb in x.lookalikes:
            inside = [p.raw for p in x.planted if lb.raw in p.raw]
            assert not inside, f"{path.name}:{lb.line}: look-alike {lb.raw!r} inside planted {inside[0]!r}"


def main(argv: list[str]) -> int:
    only = set(argv)
    corpus.DATA.mkdir(exist_ok=True)
    total = 0
    for fam in FAMILIES:
        if only and fam not in only:
            continue
        mod = importlib.import_module(f"tests.corpus.gen.fam_{fam}")
        docs = mod.build(Values(fam))
        write(fam, docs)
        total += len(docs)
        print(f"{fam}: {len(docs)} documents")
    print(f"{total} documents")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
