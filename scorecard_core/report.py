"""Figures about runs, in one place: per-metric pass rates and averages, run comparisons, and
the history series of a project's runs. The PR comment, the job summary and the web pages all
render from these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from sqlmodel import Session, select

from .metrics import passes
from .models import MetricVersion, Record, Run, Score
from .scoring.lifecycle import run_versions
from .scoring.shapes import score_value

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

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None

    @property
    def average(self) -> float | None:
        if self.output_type == "boolean" or not self.scored:
            return None
        return self.total / self.scored

    @property
    def headline(self) -> float | None:
        """What a chart shows: pass rate for boolean metrics, the average otherwise."""
        return self.pass_rate if self.output_type == "boolean" else self.average

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body.pop("total")
        body.update(pass_rate=self.pass_rate, average=self.average)
        return body


@dataclass
class RunSummary:
    run_id: str
    status: str
    records: int
    metrics: list[MetricSummary] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        """Overall: passed scores over scored scores, across every metric."""
        scored = sum(m.scored for m in self.metrics)
        return sum(m.passed for m in self.metrics) / scored if scored else None

    def metric(self, metric_id: str) -> MetricSummary | None:
        return next((m for m in self.metrics if m.metric_id == metric_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runId": self.run_id, "status": self.status, "records": self.records, "passRate": self.pass_rate,
            "metrics": [_camel(m.as_dict()) for m in self.metrics],
        }


def _camel(body: dict[str, Any]) -> dict[str, Any]:
    def convert(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    return {convert(k): v for k, v in body.items()}


def _summary_for(version: MetricVersion) -> MetricSummary:
    config = version.config
    return MetricSummary(
        metric_id=str(version.metric_id), metric_version_id=version.id, name=config["name"],
        eval_type=config["eval_type"], output_type=config["output_type"],
        passing_threshold=config.get("passing_threshold"),
    )


def _tally(summary: MetricSummary, status: str, score: dict[str, Any] | None) -> None:
    if status == "error":
        summary.errored += 1
    elif status != "scored":
        summary.pending += 1
    else:
        summary.scored += 1
        summary.total += score_value(score) or 0.0
        if passes(summary.output_type, summary.passing_threshold, score):
            summary.passed += 1


def summarize(session: Session, run: Run) -> RunSummary:
    summaries = {v.id: _summary_for(v) for v in run_versions(session, run)}
    statement = select(Score.metric_version_id, Score.status, Score.score).where(Score.run_id == run.id)
    for version_id, status, score in session.exec(statement):
        if version_id in summaries:
            _tally(summaries[version_id], status, score)
    return RunSummary(str(run.id), run.status, run.num_records, list(summaries.values()))


def testcase_outcomes(session: Session, run: Run) -> dict[tuple[str, str], bool]:
    """(testcase ID, metric ID) -> passed, for a run's scored records."""
    versions = {v.id: v for v in run_versions(session, run)}
    statement = (
        select(Record.testcase_id, Score.metric_version_id, Score.score)
        .join(Score, Score.record_id == Record.id)
        .where(Record.run_id == run.id, Score.status == "scored", Record.testcase_id.is_not(None))
    )
    outcomes: dict[tuple[str, str], bool] = {}
    for testcase_id, version_id, score in session.exec(statement):
        version = versions.get(version_id)
        if version is None:
            continue
        verdict = passes(version.config["output_type"], version.config.get("passing_threshold"), score)
        if verdict is not None:
            key = (str(testcase_id), str(version.metric_id))
            # With several trials, a testcase passes only if every trial passed.
            outcomes[key] = outcomes.get(key, True) and verdict
    return outcomes


def compare(session: Session, run: Run, baseline: Run) -> dict[str, Any]:
    """Per-metric deltas and per-testcase improvements and regressions of ``run`` vs ``baseline``."""
    current, previous = summarize(session, run), summarize(session, baseline)
    metrics = []
    for summary in current.metrics:
        before = previous.metric(summary.metric_id)
        metrics.append({
            "metricId": summary.metric_id, "name": summary.name,
            "passRate": summary.pass_rate, "baselinePassRate": before.pass_rate if before else None,
            "passRateDelta": _delta(summary.pass_rate, before.pass_rate if before else None),
            "average": summary.average, "baselineAverage": before.average if before else None,
            "averageDelta": _delta(summary.average, before.average if before else None),
        })
    now, then = testcase_outcomes(session, run), testcase_outcomes(session, baseline)
    improved = sorted(k for k, ok in now.items() if ok and then.get(k) is False)
    regressed = sorted(k for k, ok in now.items() if not ok and then.get(k) is True)
    return {
        "runId": str(run.id), "baselineRunId": str(baseline.id),
        "passRateDelta": _delta(current.pass_rate, previous.pass_rate),
        "metrics": metrics,
        "improvements": [{"testcaseId": t, "metricId": m} for t, m in improved],
        "regressions": [{"testcaseId": t, "metricId": m} for t, m in regressed],
    }


def _delta(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else now - then


def history(session: Session, runs: Iterable[Run], metric_ids: set[int] | None) -> list[dict[str, Any]]:
    """Per metric, one point per run (oldest first): pass rate for boolean metrics, average for
    int and float metrics."""
    series: dict[str, dict[str, Any]] = {}
    for run in sorted(runs, key=lambda r: r.id):
        for summary in summarize(session, run).metrics:
            if metric_ids is not None and int(summary.metric_id) not in metric_ids:
                continue
            entry = series.setdefault(summary.metric_id, {
                "metricId": summary.metric_id, "name": summary.name, "outputType": summary.output_type,
                "points": [],
            })
            entry["name"] = summary.name
            entry["points"].append({
                "runId": str(run.id), "createdAt": run.created_at.isoformat(), "status": run.status,
                "value": summary.headline, "passRate": summary.pass_rate, "average": summary.average,
                "scored": summary.scored,
            })
    return list(series.values())
