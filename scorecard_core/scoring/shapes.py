"""Scorecard's score shapes: the key that holds a metric's value for each output type."""

from __future__ import annotations

from typing import Any

SCORE_KEYS = {"boolean": "binaryScore", "int": "intScore", "float": "floatScore"}


def score_value(score: dict[str, Any] | None) -> float | None:
    """The number a score stands for (true/false as 1/0), whatever its output type."""
    for key in SCORE_KEYS.values():
        value = (score or {}).get(key)
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, (int, float)):
            return float(value)
    return None
