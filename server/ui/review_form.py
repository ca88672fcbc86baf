"""Human review on a record's page: the posted score read into Scorecard's shape, and the next
record of the run awaiting a person's score (the review queue, run by run)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from scorecard_core.errors import InvalidField
from scorecard_core.models import Score
from scorecard_core.report import MetricSummary
from scorecard_core.scoring.shapes import SCORE_KEYS

BINARY_CHOICES = {"pass": True, "fail": False}
MAX_REASONING_CHARS = 100_000


@dataclass(frozen=True)
class ReviewDraft:
    """What the reviewer typed, shown again when the score is refused."""

    value: str = ""
    reasoning: str = ""


def posted_score(metric: MetricSummary, draft: ReviewDraft) -> dict[str, Any]:
    """The score a review form posted for ``metric``; a refusal (InvalidField) names the metric
    and the field ("Helpful: score") and what to enter."""
    key = SCORE_KEYS[metric.output_type]
    text = draft.value.strip()
    score: dict[str, Any] = {key: _value(metric, text)}
    reasoning = f"{metric.name}: reasoning"
    if len(draft.reasoning) > MAX_REASONING_CHARS:
        raise InvalidField(
            reasoning, f"is {len(draft.reasoning):,} characters long; keep it under {MAX_REASONING_CHARS:,}"
        )
    if "\x00" in draft.reasoning:
        raise InvalidField(reasoning, "cannot contain NUL characters; remove them")
    if draft.reasoning.strip():
        score["reasoning"] = draft.reasoning.replace("\r\n", "\n")
    return score


def _value(metric: MetricSummary, text: str) -> bool | int | float:
    label = f"{metric.name}: score"
    if metric.output_type == "boolean":
        if text not in BINARY_CHOICES:
            raise InvalidField(label, "is required: choose pass or fail (keys p / 1 or f / 0)")
        return BINARY_CHOICES[text]
    if metric.output_type == "int":
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 5):
            raise InvalidField(label, f"must be a whole number from 1 to 5, got {text or 'nothing'!r}")
        return int(text)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not 0 <= number <= 1:  # NaN fails too
        raise InvalidField(label, f"must be a number from 0 to 1, e.g. 0.75, got {text or 'nothing'!r}")
    return number


def next_awaiting_review(session: Session, run_id: int, after_record_id: int) -> int | None:
    """The run's next record (by ID, wrapping round) with a human metric still awaiting a score."""
    awaiting = select(func.min(col(Score.record_id))).where(
        col(Score.run_id) == run_id, col(Score.scored_by) == "human", col(Score.status) == "pending"
    )
    later = session.exec(awaiting.where(col(Score.record_id) >= after_record_id)).one()
    return later if later is not None else session.exec(awaiting).one()
