"""Presidio's two HTTP services, as its own Flask apps expose them, for LiteLLM's Presidio guardrail.

    gunicorn -w 1 -b 127.0.0.1:PORT --chdir benches 'presidio_service:create_analyzer()'
    gunicorn -w 1 -b 127.0.0.1:PORT --chdir benches 'presidio_service:create_anonymizer()'

`POST /analyze` {text, language, entities?, score_threshold?} -> [RecognizerResult as dict];
`POST /anonymize` {text, analyzer_results, anonymizers?} -> {text, items}; `GET /health`. The
analyzer is configured like the Presidio library row of the engine benchmarks (one regex recognizer
per catalogue entry, no NLP model); the anonymizer replaces with `<KIND>` as Presidio's default does.
Runs in the presidio peer venv.
"""

from __future__ import annotations

import json
from typing import Any

from engine_worker import Presidio
from flask import Flask, Response, request


def _json(obj: Any, status: int = 200) -> Response:
    return Response(json.dumps(obj), status=status, mimetype="application/json")


def create_analyzer() -> Flask:
    presidio = Presidio()
    app = Flask("presidio-analyzer")

    @app.get("/health")
    def health() -> str:
        return "Presidio Analyzer service is up"

    @app.post("/analyze")
    def analyze() -> Response:
        req = request.get_json()
        if not req.get("text"):
            return _json({"error": "No text provided"}, 500)
        results = presidio.analyzer.analyze(
            text=req["text"],
            language=req.get("language", "en"),
            entities=req.get("entities") or presidio.kinds,
            score_threshold=req.get("score_threshold"),
        )
        return _json([r.to_dict() for r in results])

    return app


def create_anonymizer() -> Flask:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import RecognizerResult

    engine = AnonymizerEngine()
    app = Flask("presidio-anonymizer")

    @app.get("/health")
    def health() -> str:
        return "Presidio Anonymizer service is up"

    @app.post("/anonymize")
    def anonymize() -> Response:
        req = request.get_json()
        if not req.get("text"):
            return _json({"error": "No text provided"}, 500)
        results = [RecognizerResult.from_json(r) for r in req.get("analyzer_results") or []]
        out = engine.anonymize(text=req["text"], analyzer_results=results)
        return Response(out.to_json(), mimetype="application/json")

    return app
