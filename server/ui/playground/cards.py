"""What the playground shows of a trial: a card per testcase (its output, then its scores with
reasoning, each shown as a run's score would be) and whether to keep polling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scorecard_core.models import Score
from scorecard_core.report import MetricSummary

from ...playground_trials import Case, Trial, TrialMetric
from ..formatting import ScoreView, score_view


@dataclass(frozen=True)
class Card:
    case: Case
    scores: list[ScoreView]


@dataclass(frozen=True)
class Results:
    trial_id: str
    cards: list[Card]
    done: bool
    problem: str | None = None


def results_of(trial: Trial) -> Results:
    cases, metrics, done = trial.snapshot()
    return Results(trial.id, [Card(case, [_score(case, metric) for metric in metrics]) for case in cases], done)


def refused(problem: str, trial_id: str = "") -> Results:
    """No cards, only why (a form that cannot run, a trial the server no longer keeps)."""
    return Results(trial_id, [], True, problem)


def _score(case: Case, metric: TrialMetric) -> ScoreView:
    summary = MetricSummary(
        metric_id=metric.id,
        metric_version_id="",
        name=metric.name,
        eval_type=str(metric.config.get("eval_type")),
        output_type=metric.output_type,
        passing_threshold=metric.passing_threshold,
    )
    scored = case.scores.get(metric.id)
    state: dict[str, Any] = {"status": "pending"}
    if scored is not None:
        state = (
            {"status": "error", "error": scored.error} if scored.error else {"status": "scored", "score": scored.score}
        )
    # A score that exists only here, shown through the same view as a stored one.
    return score_view(Score(run_id=0, record_id=0, metric_version_id="", **state), summary)
