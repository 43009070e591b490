"""maskgate: a gateway for Claude Code that keeps AWS identifiers and secrets away from the model."""

from __future__ import annotations

from maskgate._core import BodyError, CatalogueError, MaskgateError, format_pseudonym, parse_pseudonym
from maskgate.engine import Engine, Finding, Masked, Unmasker

__all__ = [
    "BodyError",
    "CatalogueError",
    "Engine",
    "Finding",
    "Masked",
    "MaskgateError",
    "Unmasker",
    "format_pseudonym",
    "parse_pseudonym",
]
__version__ = "0.1.0"
