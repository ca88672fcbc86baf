"""How values look on the pages: status groups, scores, figures, JSON and times.

Everything here returns plain text; the templates escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from scorecard_core.metrics import passes
from scorecard_core.models import Score
from scorecard_core.report import MetricSummary
from scorecard_core.run_status import EXECUTING, SCORING, RunStatus
from scorecard_core.scoring.shapes import SCORE_KEYS
from scorecard_core.wire import shown_config

TABLE_CELL_CHARS = 240


@dataclass(frozen=True)
class StatusGroup:
    key: str
    label: str
    emoji: str
    statuses: tuple[str, ...]


def in_order(statuses: frozenset[RunStatus]) -> tuple[str, ...]:
    return tuple(status.value for status in RunStatus if status in statuses)


# The four groups of Scorecard's runs list.
STATUS_GROUPS = (
    StatusGroup("pending", "Pending", "🟡", in_order(EXECUTING)),
    StatusGroup("scoring", "Scoring", "🔵", in_order(SCORING | {RunStatus.AWAITING_HUMAN_SCORING})),
    StatusGroup("completed", "Completed", "🟢", (RunStatus.COMPLETED,)),
    StatusGroup("error", "Error", "🔴", (RunStatus.ERROR,)),
)
UNKNOWN_GROUP = StatusGroup("unknown", "Unknown", "⚪", ())


def still_moving(status: str) -> bool:
    """Whether the run will change by itself (executing or scoring): its page follows it then, and
    stops once the run is finished or waits for people's scores."""
    return status in EXECUTING | SCORING


def status_group(status: str) -> StatusGroup:
    return next((g for g in STATUS_GROUPS if status in g.statuses), UNKNOWN_GROUP)


def status_words(status: str) -> str:
    return status.replace("_", " ")


def metric_figure(output_type: str, value: float | None) -> str:
    """A chart's headline: pass rate for boolean metrics, the average otherwise."""
    if value is None:
        return "—"
    return percent(value) if output_type == "boolean" else f"{value:.2f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@dataclass(frozen=True)
class ScoreView:
    """One score as a table cell or a record page shows it."""

    metric: MetricSummary
    state: str  # scored | pending | error | missing
    value: str = ""
    passed: bool | None = None
    reasoning: str = ""
    error: str = ""
    validation_errors: tuple[str, ...] = ()
    scored_by: str = ""


def score_view(score: Score | None, metric: MetricSummary) -> ScoreView:
    if score is None:
        return ScoreView(metric, "missing")
    if score.status == "error":
        return ScoreView(metric, "error", error=score.error or "scoring failed")
    if score.status != "scored":
        return ScoreView(metric, "pending")
    body = score.score or {}
    raw = body.get(SCORE_KEYS.get(metric.output_type, ""))
    reasoning = body.get("reasoning")
    return ScoreView(
        metric,
        "scored",
        value=_score_value(raw),
        # A score that does not fit its metric says nothing of passing (the figures count it an error).
        passed=None if score.validation_errors else passes(metric.output_type, metric.passing_threshold, body),
        reasoning="" if reasoning is None else json_text(reasoning),
        validation_errors=tuple(f"{e.get('path', '')} {e.get('message', '')}" for e in score.validation_errors or ()),
        scored_by=score.user_id,
    )


def _score_value(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return f"{raw:g}"
    return "—" if raw is None else json_text(raw)


def json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def shortened(value: Any, limit: int = TABLE_CELL_CHARS) -> str:
    """Compact JSON (or text) cut to ``limit`` characters, for table cells."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


FILTERS = {
    "pretty_json": pretty_json,
    "shown_config": shown_config,
    "shortened": shortened,
    "when": when,
    "percent": percent,
    "status_words": status_words,
}
