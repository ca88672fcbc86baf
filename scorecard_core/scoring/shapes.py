"""Scorecard's score shapes: the key that holds a metric's value for each output type, and whether
a score passes. Free of the ORM, so the runner's reports import it without loading SQLAlchemy."""

from __future__ import annotations

from typing import Any

DEFAULT_THRESHOLDS = {"int": 4, "float": 0.9}
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


def passes(output_type: str, threshold: float | None, score: dict[str, Any] | None) -> bool | None:
    """Pass/fail of one score: boolean true; int and float at or above the threshold."""
    if not score:
        return None
    if output_type == "boolean":
        value = score.get("binaryScore")
        return value if isinstance(value, bool) else None
    value = score.get("intScore" if output_type == "int" else "floatScore")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value >= (threshold if threshold is not None else DEFAULT_THRESHOLDS[output_type])
