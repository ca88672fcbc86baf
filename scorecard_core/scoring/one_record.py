"""Scoring one record with one metric version's config, in memory: for callers that keep their
results outside the database (the web UI's playground), which the scoring engine never sees.

Which scorer applies is the lifecycle's own choice (`scored_by`): the judge for AI metrics, the
built-in checks for heuristic metrics with a config; people's metrics are not scored here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import heuristics
from .judge import JudgeResult
from .lifecycle import scored_by

RAW_ANSWER_CHARS = 2000
# judge(metric_config, inputs=, outputs=, expected=): judge_record with its endpoint bound.
Judge = Callable[..., JudgeResult]


@dataclass(frozen=True)
class Scored:
    """A score in Scorecard's shape ({"binaryScore"|"intScore"|"floatScore": v, "reasoning"}) or why
    not; ``usage`` is the judge's (see ``judge.usage_of``), None for scores no judge gave."""

    score: dict[str, Any] | None
    error: str | None = None
    usage: dict[str, Any] | None = None


def scorable(config: Mapping[str, Any]) -> bool:
    """Whether a machine scores this metric (people score the rest)."""
    return scored_by(dict(config)) != "human"


def score_record(
    config: Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    judge: Judge,
) -> Scored:
    """The score of one record; never raises (a bad config or a failed judge is an error)."""
    who = scored_by(dict(config))
    if who == "heuristic":
        try:
            return Scored(heuristics.score(config.get("heuristic"), config["output_type"], inputs, outputs, expected))
        except Exception as exc:  # noqa: BLE001  (a bad config fails this score, not the caller)
            return Scored(None, f"heuristic failed: {exc}")
    if who == "ai":
        outcome = judge(config, inputs=inputs, outputs=outputs, expected=expected)
        error = outcome.error
        if error and outcome.raw:
            error += f"; the judge's answer: {outcome.raw[:RAW_ANSWER_CHARS]}"
        return Scored(outcome.score, error, outcome.usage)
    return Scored(None, f"metric {config.get('name')!r} is scored by people, not automatically")
