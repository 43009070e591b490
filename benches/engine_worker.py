"""One masking implementation in its own process, driven over stdin/stdout (one JSON object a line).

    python benches/engine_worker.py IMPL [INPUT]

IMPL is `maskgate-text`, `maskgate-body`, `python-re`, `presidio`, `llm-guard` or `llm-guard-regex`.
INPUT (default: the impl's own) is `text` (corpus.make_text), `body` (corpus.make_body: the dense
AWS-output request), `session` (session.session_body: a session on this repository, mostly code and
prose) or `session-next` (each timed call masks session.next_turn(size, k) with k = 1, 2, ...: the
same session one more turn later each time, on an engine that has masked the turns before, scan
cache on).
The harness (benches/engine.py) starts one worker per implementation, each with the interpreter of
the venv that has it (peers live in benches/.venv-peers/, never in maskgate's own), and interleaves
their timing rounds so that the noise of a shared machine falls on all of them alike.

Commands: `{"cmd": "time", "size": BYTES, "calls": N}` -> `{"times": [seconds, ...], "findings": n}`;
`{"cmd": "quality", "size": BYTES}` -> `{"findings": [[start, end, kind], ...]}`. Every instance is warm
before timing (it has masked the same input once): the gateway's steady state. The first line out
is `{"ready": true, "version": ..., "config": ...}` or `{"error": ...}`.

Standard library only, apart from the implementation measured: corpus.py and python_baseline.py are
shared with the peers' venvs.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import make_annotated, make_body, make_text
from python_baseline import PythonMasker, code
from session import next_turn, session_body

Findings = list[tuple[int, int, str]]


class Impl:
    """mask(input) does the whole job once; spans(text) returns what a fresh instance finds."""

    version = ""
    config = ""
    input_kind = "text"

    def mask(self, data: Any) -> int:
        raise NotImplementedError

    def spans(self, text: str) -> Findings:
        raise NotImplementedError


class MaskgateText(Impl):
    def __init__(self, resent: bool = False) -> None:
        import maskgate
        from maskgate import Engine

        self.engine_cls = Engine
        self.version = maskgate.__version__
        if resent:  # a conversation resent with one more turn: the scan cache is what is measured
            self.engine = Engine()
            self.config = "built-in catalogue, map in memory, scan cache on (default size)"
            return
        # Every call here masks the same input again: with the scan cache on, every call after
        # the first would be a cache hit. Off, each call scans: the cold cost, as for new text.
        self.engine = Engine(scan_cache=0)
        self.config = "built-in catalogue, map in memory, scan cache off (every call scans)"

    def mask(self, data: Any) -> int:
        if isinstance(data, bytes):
            return len(self.engine.mask_body(data).findings)
        return len(self.engine.mask(data).findings)

    def spans(self, text: str) -> Findings:
        return [(f.start, f.end, f.kind) for f in self.engine_cls().mask(text).findings]


class MaskgateBody(MaskgateText):
    input_kind = "body"


class PythonRe(Impl):
    def __init__(self) -> None:
        self.masker = PythonMasker()
        self.version = sys.version.split()[0]
        self.config = "the catalogue translated to re (benches/python_baseline.py)"

    def mask(self, data: Any) -> int:
        if isinstance(data, bytes):
            return len(self.masker.mask_body(data)[1])
        return len(self.masker.mask(data)[1])

    def spans(self, text: str) -> Findings:
        m = PythonMasker()
        return [(f.start, f.end, f.kind) for f in m.mask(text)[1]]


def _pseudonyms() -> Callable[[str, str], str]:
    """Stable kind-NNN pseudonyms from a dict, as a caller of a library has to keep them."""
    mapping: dict[tuple[str, str], str] = {}
    counters: dict[str, int] = {}

    def get(kind: str, original: str) -> str:
        key = (kind, original)
        found = mapping.get(key)
        if found is None:
            counters[kind] = counters.get(kind, 0) + 1
            found = mapping[key] = f"{kind}-{code(counters[kind])}"
        return found

    return get


class Presidio(Impl):
    """Presidio's AnalyzerEngine and AnonymizerEngine with one PatternRecognizer per catalogue entry.

    No NLP model: the NoOpNlpEngine Presidio ships (no spaCy model to download). Regex flags are
    ASCII only, as the catalogue is compiled (Presidio's default adds IGNORECASE, MULTILINE and
    DOTALL). Each recognizer runs Presidio's own pattern loop, then narrows a match to the entry's
    `id` group and applies the entry's validators (context words before the value, minimum entropy,
    reject), which Presidio has no way to express: its context words only raise a score.
    """

    def __init__(self) -> None:
        import regex
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        try:
            from presidio_analyzer.nlp_engine import NoOpNlpEngine

            nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        except ImportError:  # older releases: a blank spaCy pipeline (tokenizer only, nothing to download)
            nlp = _blank_spacy_engine()
        nlp.load()

        masker = PythonMasker()
        flags = regex.ASCII

        class CatalogueRecognizer(PatternRecognizer):  # type: ignore[misc]
            def __init__(self, entry: Any) -> None:
                self.entry = entry
                score = min(1.0, 0.3 + entry.priority / 200)
                super().__init__(
                    supported_entity=entry.kind,
                    name=entry.name,
                    supported_language="en",
                    patterns=[Pattern(entry.name, entry.regex.pattern, score)],
                    global_regex_flags=flags,
                )

            def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None):  # type: ignore[no-untyped-def]
                kept = []
                for r in super().analyze(text, entities, nlp_artifacts, regex_flags):
                    start, end = r.start, r.end
                    if self.entry.has_id:
                        m = self.entry.regex.match(text, start)
                        if m is None:
                            continue
                        start, end = m.span("id")
                    if start < end and masker._accept(self.entry, text, start, end):
                        r.start, r.end = start, end
                        kept.append(r)
                return kept

        registry = RecognizerRegistry(supported_languages=["en"], global_regex_flags=flags)
        for entry in masker.entries:
            registry.add_recognizer(CatalogueRecognizer(entry))
        self.kinds = sorted({e.kind for e in masker.entries})
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
        self.anonymizer = AnonymizerEngine()
        self.OperatorConfig = OperatorConfig
        self.operators = self._operators()
        from importlib.metadata import version

        self.version = f"presidio-analyzer {version('presidio-analyzer')}"
        self.config = f"{len(masker.entries)} PatternRecognizers from the catalogue, {type(nlp).__name__}, flags ASCII"

    def _operators(self) -> dict[str, Any]:
        get = _pseudonyms()
        return {k: self.OperatorConfig("custom", {"lambda": lambda s, k=k: get(k, s)}) for k in self.kinds}

    def _results(self, text: str) -> Any:
        return self.analyzer.analyze(text=text, language="en", entities=self.kinds)

    def mask(self, data: Any) -> int:
        results = self._results(data)
        out = self.anonymizer.anonymize(data, results, operators=self.operators)
        return len(out.items)

    def spans(self, text: str) -> Findings:
        # What anonymize() replaces: its own conflict resolution and merging, applied to the results.
        from presidio_anonymizer.entities import ConflictResolutionStrategy

        a = self.anonymizer
        results = a._copy_recognizer_results(self._results(text))
        results.sort(key=lambda r: (r.start, r.end))
        kept = a._remove_conflicts_and_get_text_manipulation_data(
            results, ConflictResolutionStrategy.MERGE_SIMILAR_OR_CONTAINED
        )
        kept = a._merge_entities_with_spaces_between(text, kept)
        return [(r.start, r.end, r.entity_type) for r in kept]


def _blank_spacy_engine() -> Any:
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacy(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    return BlankSpacy(models=[{"lang_code": "en", "model_name": "blank"}])


class LLMGuard(Impl):
    """LLM Guard's Anonymize input scanner, as shipped: it loads a NER model and a spaCy model."""

    def __init__(self) -> None:
        from importlib.metadata import version

        from llm_guard.input_scanners import Anonymize
        from llm_guard.util import configure_logger
        from llm_guard.vault import Vault

        configure_logger(log_level="WARNING")
        self.version = f"llm-guard {version('llm-guard')}"
        self.config = "Anonymize(Vault()) with its defaults"
        self.scanner = Anonymize(Vault())

    def mask(self, data: Any) -> int:
        sanitized, _, _ = self.scanner.scan(data)
        return int(sanitized != data)

    def spans(self, text: str) -> Findings:
        raise NotImplementedError


class LLMGuardRegex(Impl):
    """LLM Guard's Anonymize with the catalogue as its regex patterns and no models.

    Its model-based recognizer and its spaCy engine are replaced by stand-ins that find nothing
    (the models cannot be downloaded here), so this is a lower bound of its cost. Its regex patterns
    are whole matches with no validators: it has no `id` groups and no context checks.
    """

    def __init__(self) -> None:
        from importlib.metadata import version

        import llm_guard.input_scanners.anonymize as anonymize_mod
        from llm_guard.input_scanners.anonymize_helpers import analyzer as analyzer_mod
        from llm_guard.util import configure_logger
        from llm_guard.vault import Vault
        from presidio_analyzer import EntityRecognizer

        class NoModel(EntityRecognizer):  # type: ignore[misc]
            def load(self) -> None:
                pass

            def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
                return []

        def no_model(**_: Any) -> Any:
            return NoModel(supported_entities=["PERSON"], name="no model")

        def no_nlp(languages: list[str]) -> Any:
            try:
                from presidio_analyzer.nlp_engine import NoOpNlpEngine

                engine = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in languages])
            except ImportError:
                engine = _blank_spacy_engine()
            engine.load()
            return engine

        configure_logger(log_level="WARNING")
        anonymize_mod.get_transformers_recognizer = no_model
        analyzer_mod._get_nlp_engine = no_nlp

        masker = PythonMasker()
        self.kind_of = {e.name.upper().replace("-", "_"): e.kind for e in masker.entries}
        patterns = [
            {
                "name": e.name.upper().replace("-", "_"),
                "expressions": [f"(?a){e.regex.pattern}"],
                "examples": [],
                "context": [],
                "score": 0.75,
                "languages": ["en"],
            }
            for e in masker.entries
        ]
        self.make = lambda: anonymize_mod.Anonymize(
            Vault(), regex_patterns=patterns, entity_types=list(self.kind_of), language="en"
        )
        self.scanner = self.make()
        self.version = f"llm-guard {version('llm-guard')}"
        self.config = f"Anonymize with {len(patterns)} catalogue regexes; NER model and spaCy stubbed out"

    def mask(self, data: Any) -> int:
        sanitized, _, _ = self.scanner.scan(data)
        return int(sanitized != data)

    def spans(self, text: str) -> Findings:
        scanner = self.make()
        analyzer_results = scanner._analyzer.analyze(
            text=scanner.remove_single_quotes(text),
            language="en",
            entities=scanner._entity_types,
            score_threshold=scanner._threshold,
        )
        kept = scanner._remove_conflicts_and_get_text_manipulation_data(analyzer_results)
        merged = scanner._merge_entities_with_whitespace_between(text, kept)
        return [(r.start, r.end, self.kind_of.get(r.entity_type, r.entity_type)) for r in merged]


IMPLS: dict[str, Callable[..., Impl]] = {
    "maskgate-text": MaskgateText,
    "maskgate-body": MaskgateBody,
    "python-re": PythonRe,
    "presidio": Presidio,
    "llm-guard": LLMGuard,
    "llm-guard-regex": LLMGuardRegex,
}


def _input(kind: str, size: int) -> Any:
    """What one timed call masks (for session-next: the body the next turns extend)."""
    if kind == "text":
        return make_text(size)
    if kind == "body":
        return make_body(size)
    if kind in ("session", "session-next"):
        return session_body(size)
    raise ValueError(f"unknown input {kind!r}")


_PROTOCOL: Any = None


def _say(obj: dict[str, Any]) -> None:
    _PROTOCOL.write(json.dumps(obj) + "\n")
    _PROTOCOL.flush()


def main() -> None:
    global _PROTOCOL
    name = sys.argv[1]
    kind = sys.argv[2] if len(sys.argv) > 2 else None
    # Libraries that print or log to stdout (LLM Guard's structlog does) must not break the protocol:
    # the protocol gets its own copy of fd 1, and fd 1 becomes stderr.
    sys.stdout.flush()
    _PROTOCOL = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        impl = IMPLS[name](resent=True) if kind == "session-next" else IMPLS[name]()
        kind = kind or impl.input_kind
    except BaseException as e:
        traceback.print_exc(file=sys.stderr)
        _say({"error": f"{type(e).__name__}: {e}"[:500]})
        return
    _say({"ready": True, "version": impl.version, "config": impl.config})
    inputs: dict[int, Any] = {}
    turns: dict[int, int] = {}
    warmed: set[int] = set()
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            size = int(cmd["size"])
            if cmd["cmd"] == "time":
                if size not in inputs:
                    inputs[size] = _input(kind, size)
                data = inputs[size]
                if size not in warmed:
                    impl.mask(data)
                    warmed.add(size)
                times = []
                n = 0
                for _ in range(int(cmd.get("calls", 1))):
                    this = data
                    if kind == "session-next":
                        turns[size] = turns.get(size, 0) + 1
                        this = next_turn(size, turns[size])
                    t0 = time.perf_counter()
                    n = impl.mask(this)
                    times.append(time.perf_counter() - t0)
                raw = data if isinstance(data, bytes) else data.encode()
                _say({"times": times, "findings": n, "sha256": hashlib.sha256(raw).hexdigest()[:16]})
            elif cmd["cmd"] == "quality":
                a = make_annotated(size)
                t0 = time.perf_counter()
                spans = impl.spans(a.text)
                _say({"findings": spans, "seconds": time.perf_counter() - t0})
            else:
                _say({"error": f"unknown command {cmd['cmd']!r}"})
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            _say({"error": f"{type(e).__name__}: {e}"[:500]})


if __name__ == "__main__":
    main()
