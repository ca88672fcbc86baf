"""Figures about runs, in one place: per-metric pass rates and averages, comparisons between
runs, failing cases and the history series. Pure functions over plain data, fed either from our
database (``report_queries``) or from any Scorecard API's wire JSON (the runner, the webhook
service), so the PR comment, the job summary and the API all show the same numbers.

A record whose system call failed has no scores, yet it is a testcase the system got wrong: it
counts as failing for every metric of the run (``failed_calls`` is in every pass rate's
denominator). A score that does not fit its metric (stored with ``validationErrors``) counts as
errored, like a score the judge could not produce."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from .scoring.shapes import passes, score_value

# (metric version ID, score status, score JSON); the status as ``score_status`` gives it
ScoreRow = tuple[str, str, "dict[str, Any] | None"]


def score_status(status: str | None, validation_errors: Any) -> str:
    """A stored score's status for the figures: a score with validation errors is an error."""
    return "error" if status == "scored" and validation_errors else (status or "pending")


@dataclass
class MetricSummary:
    metric_id: str
    metric_version_id: str
    name: str
    eval_type: str
    output_type: str
    passing_threshold: float | None
    scored: int = 0
    pending: int = 0
    errored: int = 0
    passed: int = 0
    total: float = 0.0
    failed_calls: int = 0  # records whose system call failed: failing, with no score

    @property
    def pass_rate(self) -> float | None:
        graded = self.scored + self.failed_calls
        return self.passed / graded if graded else None

    @property
    def average(self) -> float | None:
        if self.output_type == "boolean" or not self.scored:
            return None
        return self.total / self.scored

    @property
    def headline(self) -> float | None:
        """What a chart shows: pass rate for boolean metrics, the average otherwise."""
        return self.pass_rate if self.output_type == "boolean" else self.average

    def tally(self, status: str, score: dict[str, Any] | None) -> None:
        if status == "error":
            self.errored += 1
        elif status != "scored":
            self.pending += 1
        else:
            self.scored += 1
            self.total += score_value(score) or 0.0
            if passes(self.output_type, self.passing_threshold, score):
                self.passed += 1

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("total")
        body.update(pass_rate=self.pass_rate, average=self.average)
        return _camel(body)


@dataclass
class RunSummary:
    run_id: str
    status: str
    records: int
    metrics: list[MetricSummary] = field(default_factory=list)
    failed_calls: int = 0
    error: str | None = None  # the run's own summary of what went wrong, if anything

    @property
    def pass_rate(self) -> float | None:
        """Overall: passed scores over scored scores and failed calls, across every metric."""
        graded = sum(m.scored + m.failed_calls for m in self.metrics)
        return sum(m.passed for m in self.metrics) / graded if graded else None

    @property
    def successful_calls(self) -> int:
        return self.records - self.failed_calls

    def metric(self, metric_id: str) -> MetricSummary | None:
        return next((m for m in self.metrics if m.metric_id == metric_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "status": self.status,
            "records": self.records,
            "failedCalls": self.failed_calls,
            "passRate": self.pass_rate,
            "metrics": [m.as_dict() for m in self.metrics],
        }


def _camel(body: dict[str, Any]) -> dict[str, Any]:
    def convert(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {convert(k): v for k, v in body.items()}


def metric_summary(metric_id: str, version_id: str, config: dict[str, Any]) -> MetricSummary:
    """``config`` in snake_case, as a metric version stores it."""
    return MetricSummary(
        metric_id=str(metric_id),
        metric_version_id=version_id,
        name=config.get("name") or f"metric {metric_id}",
        eval_type=config.get("eval_type", "ai"),
        output_type=config.get("output_type", "boolean"),
        passing_threshold=config.get("passing_threshold"),
    )


def summarize_rows(
    run_id: str,
    status: str,
    records: int,
    metrics: list[MetricSummary],
    rows: Iterable[ScoreRow],
    failed_calls: int = 0,
    error: str | None = None,
) -> RunSummary:
    by_version = {m.metric_version_id: m for m in metrics}
    for version_id, status_of_score, score in rows:
        summary = by_version.get(version_id)
        if summary is not None:
            summary.tally(status_of_score, score)
    for summary in metrics:
        summary.failed_calls = failed_calls
    return RunSummary(str(run_id), status, records, metrics, failed_calls, error)


def compare_summaries(
    current: RunSummary,
    previous: RunSummary,
    outcomes_now: dict[tuple[str, str], bool],
    outcomes_then: dict[tuple[str, str], bool],
) -> dict[str, Any]:
    """Per-metric deltas and per-testcase improvements and regressions of a run vs its baseline.
    Outcomes map (testcase ID, metric ID) to passed."""
    metrics = []
    for summary in current.metrics:
        before = previous.metric(summary.metric_id)
        metrics.append(
            {
                "metricId": summary.metric_id,
                "name": summary.name,
                "passRate": summary.pass_rate,
                "baselinePassRate": before.pass_rate if before else None,
                "passRateDelta": _delta(summary.pass_rate, before.pass_rate if before else None),
                "average": summary.average,
                "baselineAverage": before.average if before else None,
                "averageDelta": _delta(summary.average, before.average if before else None),
            }
        )
    improved = sorted(k for k, ok in outcomes_now.items() if ok and outcomes_then.get(k) is False)
    regressed = sorted(k for k, ok in outcomes_now.items() if not ok and outcomes_then.get(k) is True)
    return {
        "runId": current.run_id,
        "baselineRunId": previous.run_id,
        "passRateDelta": _delta(current.pass_rate, previous.pass_rate),
        "metrics": metrics,
        "improvements": [{"testcaseId": t, "metricId": m} for t, m in improved],
        "regressions": [{"testcaseId": t, "metricId": m} for t, m in regressed],
    }


def _delta(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else now - then


def add_outcome(outcomes: dict[tuple[str, str], bool], testcase_id: str, metric_id: str, verdict: bool) -> None:
    # With several trials, a testcase passes only if every trial passed.
    key = (str(testcase_id), str(metric_id))
    outcomes[key] = outcomes.get(key, True) and verdict


def add_failed_call(outcomes: dict[tuple[str, str], bool], testcase_id: str, metric_ids: Iterable[str]) -> None:
    """A failed system call fails its testcase on every metric."""
    for metric_id in metric_ids:
        add_outcome(outcomes, testcase_id, metric_id, False)


def history_point(run_id: str, created_at: str, status: str, summary: MetricSummary) -> dict[str, Any]:
    return {
        "runId": str(run_id),
        "createdAt": created_at,
        "status": status,
        "value": summary.headline,
        "passRate": summary.pass_rate,
        "average": summary.average,
        "scored": summary.scored,
    }


# -- wire JSON (any Scorecard API) ---------------------------------------------------------------


def wire_metric_config(metric: dict[str, Any]) -> dict[str, Any]:
    """A metric as the API returns it (camelCase), in the snake_case form of a metric version."""
    return {
        "name": metric.get("name"),
        "eval_type": metric.get("evalType"),
        "output_type": metric.get("outputType"),
        "passing_threshold": metric.get("passingThreshold"),
    }


def _wire_status(score: dict[str, Any]) -> str:
    status = score.get("status") or ("error" if score.get("error") else "scored")
    return score_status(status, score.get("validationErrors"))


def _wire_error(score: dict[str, Any]) -> str:
    """Why a score counts as errored: the judge's error, or how the score misfits its metric."""
    if score.get("error"):
        return str(score["error"])
    problems = [
        f"{e.get('path', '')} {e.get('message', '')}".strip() if isinstance(e, dict) else str(e)
        for e in score.get("validationErrors") or []
    ]
    return "the score does not fit the metric: " + "; ".join(problems)


def summarize_wire(
    run: dict[str, Any], metrics: dict[str, dict[str, Any]], records: list[dict[str, Any]]
) -> RunSummary:
    """From ``GET /runs/{id}``, the run's metrics by ID, and its records listed with scores.
    Records without a score yet count as pending for each metric; records whose system call
    failed count as failing for each."""
    summaries = [
        metric_summary(metric_id, version_id, wire_metric_config(metrics.get(str(metric_id), {})))
        for metric_id, version_id in zip(run.get("metricIds", []), run.get("metricVersionIds", []))
    ]
    rows: list[ScoreRow] = []
    for record in records:
        if record.get("error"):
            continue  # a failed call fails every metric, whatever a judge made of it
        seen = set()
        for score in record.get("scores") or []:
            seen.add(score.get("metricConfigId"))
            rows.append((score.get("metricConfigId"), _wire_status(score), score.get("score")))
        rows += [(m.metric_version_id, "pending", None) for m in summaries if m.metric_version_id not in seen]
    failed_calls = sum(1 for record in records if record.get("error"))
    return summarize_rows(
        str(run["id"]), run.get("status", ""), len(records), summaries, rows, failed_calls, run.get("error")
    )


def wire_outcomes(summary: RunSummary, records: list[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    by_version = {m.metric_version_id: m for m in summary.metrics}
    outcomes: dict[tuple[str, str], bool] = {}
    for record in records:
        if not record.get("testcaseId"):
            continue
        if record.get("error"):
            add_failed_call(outcomes, record["testcaseId"], [m.metric_id for m in summary.metrics])
            continue
        for score in record.get("scores") or []:
            metric = by_version.get(score.get("metricConfigId"))
            if metric is None or _wire_status(score) != "scored":
                continue
            verdict = passes(metric.output_type, metric.passing_threshold, score.get("score"))
            if verdict is not None:
                add_outcome(outcomes, record["testcaseId"], metric.metric_id, verdict)
    return outcomes


@dataclass(frozen=True)
class FailingCase:
    """One record that failed one metric (or errored), for the collapsed lists in reports."""

    record_id: str
    testcase_id: str | None
    metric_name: str
    inputs: dict[str, Any]
    expected: dict[str, Any]
    outputs: dict[str, Any]
    reason: str
    value: float | None


def failing_cases(summary: RunSummary, records: list[dict[str, Any]]) -> list[FailingCase]:
    """Worst first: errors, then the lowest scores."""
    by_version = {m.metric_version_id: m for m in summary.metrics}
    found: list[FailingCase] = []
    for record in records:
        case = partial(
            FailingCase,
            record_id=str(record["id"]),
            testcase_id=record.get("testcaseId"),
            inputs=record.get("inputs") or {},
            expected=record.get("expected") or {},
            outputs=record.get("outputs") or {},
        )
        if record.get("error"):
            found.append(case(metric_name="(system)", reason=str(record["error"]), value=None))
            continue
        for score in record.get("scores") or []:
            metric = by_version.get(score.get("metricConfigId"))
            if metric is None:
                continue
            status = _wire_status(score)
            body = score.get("score") or {}
            if status == "error":
                found.append(case(metric_name=metric.name, reason=_wire_error(score), value=None))
            elif status == "scored" and passes(metric.output_type, metric.passing_threshold, body) is False:
                reasoning = body.get("reasoning")
                reason = reasoning if isinstance(reasoning, str) else ""
                found.append(case(metric_name=metric.name, reason=reason, value=score_value(body)))
    return sorted(found, key=lambda c: (c.value is not None, c.value if c.value is not None else 0.0))
