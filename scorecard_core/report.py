"""Figures about runs, in one place: per-metric pass rates and averages, comparisons between
runs, failing cases and the history series. Pure functions over plain data, fed either from our
database (``report_queries``) or from any Scorecard API's wire JSON (``report_wire``: the runner,
the webhook service), so the PR comment, the job summary and the API all show the same numbers.

A record whose system call failed has no scores, yet it is a testcase the system got wrong: it
counts as failing for every metric of the run (``failed_calls`` is in every pass rate's
denominator). A score that does not fit its metric (stored with ``validationErrors``) counts as
errored, like a score the judge could not produce."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from . import stats
from .scoring.shapes import passes, score_value

# (unit, metric version ID, score status, score JSON); the status as ``score_status`` gives it.
# The unit is the testcase (its trials are one unit), or the record when it has no testcase.
ScoreRow = tuple[str, str, str, "dict[str, Any] | None"]


def score_status(status: str | None, validation_errors: Any) -> str:
    """A stored score's status for the figures: a score with validation errors is an error."""
    return "error" if status == "scored" and validation_errors else (status or "pending")


def unit_of(testcase_id: Any, record_id: Any) -> str:
    """What a record counts towards: its testcase (all trials together), else itself."""
    return str(testcase_id) if testcase_id is not None else f"record:{record_id}"


@dataclass(slots=True)  # a run of 100k testcases holds one per testcase and metric
class UnitTally:
    """One testcase's trials for one metric."""

    passed: int = 0
    graded: int = 0  # trials with a pass/fail: scored ones and failed calls
    value_total: float = 0.0
    valued: int = 0  # trials with a score value


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
    units: dict[str, UnitTally] = field(default_factory=dict, repr=False)

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

    @property
    def pass_rate_estimate(self) -> stats.Estimate | None:
        """The pass rate with its 95% interval, testcases as the unit."""
        return stats.proportion([stats.Cluster(u.passed, u.graded) for u in self.units.values()])

    @property
    def average_estimate(self) -> stats.Estimate | None:
        if self.output_type == "boolean":
            return None
        return stats.mean([stats.Cluster(u.value_total, u.valued) for u in self.units.values()])

    @property
    def headline_estimate(self) -> stats.Estimate | None:
        return self.pass_rate_estimate if self.output_type == "boolean" else self.average_estimate

    def headline_clusters(self) -> dict[str, stats.Cluster]:
        """Per testcase, what the headline averages: passes over trials, or values over trials."""
        if self.output_type == "boolean":
            return {k: stats.Cluster(u.passed, u.graded) for k, u in self.units.items() if u.graded}
        return {k: stats.Cluster(u.value_total, u.valued) for k, u in self.units.items() if u.valued}

    @property
    def trials(self) -> int:
        """The most trials any testcase had (1 for a run without repeats)."""
        return max((u.graded for u in self.units.values()), default=0)

    @property
    def pass_all_trials(self) -> float | None:
        """pass^k with trials: the share of testcases whose every trial passed."""
        repeated = [u for u in self.units.values() if u.graded]
        if self.trials < 2 or not repeated:
            return None
        return sum(stats.pass_hat_k(u.passed, u.graded, u.graded) for u in repeated) / len(repeated)

    @property
    def flaky_testcase_ids(self) -> list[str]:
        """Testcases whose trials disagree: some passed, some failed."""
        return sorted((k for k, u in self.units.items() if 0 < u.passed < u.graded), key=natural_order)

    def detectable_change(self, alpha: float) -> float | None:
        """The smallest change of the headline a comparison with a rerun of the same size could
        detect at 80% power (one-sided at ``alpha``, as verdicts are): the change's standard error
        taken as sqrt(2) times this run's, as if the runs were not paired (pairing only helps)."""
        return self._detectable(self.headline_estimate, alpha)

    def _detectable(self, estimate: stats.Estimate | None, alpha: float) -> float | None:
        if estimate is None or estimate.standard_error is None:
            return None
        standard_error = estimate.standard_error
        if standard_error == 0 and self.output_type == "boolean" and estimate.interval is not None:
            # 0% or 100%: plan with the nearest rate the interval still allows.
            edge = estimate.interval.low if estimate.value else estimate.interval.high
            standard_error = (edge * (1 - edge) / estimate.n) ** 0.5
        return stats.minimum_detectable_change(standard_error * 2**0.5, alpha, two_sided=False)

    def unit(self, key: str | None) -> UnitTally:
        if key is None:
            key = f"#{len(self.units)}"
        tally = self.units.get(key)
        if tally is None:
            tally = self.units[key] = UnitTally()
        return tally

    def tally(self, status: str, score: dict[str, Any] | None, unit: str | None = None) -> None:
        if status == "error":
            self.errored += 1
        elif status != "scored":
            self.pending += 1
        else:
            self.scored += 1
            value = score_value(score)
            self.total += value or 0.0
            ok = passes(self.output_type, self.passing_threshold, score) is True
            self.passed += ok
            tally = self.unit(unit)
            tally.graded += 1
            tally.passed += ok
            if value is not None:
                tally.value_total += value
                tally.valued += 1

    def fail_call(self, unit: str | None) -> None:
        """A failed system call: a failing trial with no score."""
        self.failed_calls += 1
        self.unit(unit).graded += 1

    def as_dict(self, alpha: float = stats.DEFAULT_ALPHA) -> dict[str, Any]:
        # Not asdict: it would deep-copy every testcase's tally.
        body = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("total", "units")}
        rate = self.pass_rate_estimate  # each estimate reads every testcase's tally: once each
        headline = rate if self.output_type == "boolean" else self.average_estimate
        body.update(
            pass_rate=self.pass_rate,
            average=self.average,
            n=headline.n if headline else 0,
            interval=_interval(headline),
            pass_rate_interval=_interval(rate),
            trials=self.trials,
            pass_all_trials=self.pass_all_trials,
            flaky_testcase_ids=self.flaky_testcase_ids,
            detectable_change=self._detectable(headline, alpha),
        )
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
    def pass_rate_estimate(self) -> stats.Estimate | None:
        """The overall pass rate's interval, each testcase's verdicts on every metric one unit."""
        units: dict[str, UnitTally] = {}
        for metric in self.metrics:
            for key, tally in metric.units.items():
                combined = units.setdefault(key, UnitTally())
                combined.passed += tally.passed
                combined.graded += tally.graded
        return stats.proportion([stats.Cluster(u.passed, u.graded) for u in units.values()])

    @property
    def successful_calls(self) -> int:
        return self.records - self.failed_calls

    def metric(self, metric_id: str) -> MetricSummary | None:
        return next((m for m in self.metrics if m.metric_id == metric_id), None)

    def as_dict(self, alpha: float = stats.DEFAULT_ALPHA) -> dict[str, Any]:
        overall = self.pass_rate_estimate
        return {
            "runId": self.run_id,
            "status": self.status,
            "records": self.records,
            "failedCalls": self.failed_calls,
            "passRate": self.pass_rate,
            "passRateInterval": _interval(overall),
            "n": overall.n if overall else 0,
            "alpha": alpha,
            "metrics": [m.as_dict(alpha) for m in self.metrics],
        }


def _interval(estimate: stats.Estimate | None) -> dict[str, float] | None:
    return estimate.interval.as_dict() if estimate is not None and estimate.interval is not None else None


def natural_order(key: str) -> tuple[int, int | str]:
    """Numeric testcase IDs in numeric order, others after them."""
    return (0, int(key)) if key.isdigit() else (1, key)


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
    failed_units: Iterable[str] = (),
    error: str | None = None,
) -> RunSummary:
    """``failed_units``: the unit of each record whose system call failed."""
    by_version = {m.metric_version_id: m for m in metrics}
    for unit, version_id, status_of_score, score in rows:
        summary = by_version.get(version_id)
        if summary is not None:
            summary.tally(status_of_score, score, unit)
    failed_calls = 0
    for unit in failed_units:
        failed_calls += 1
        for summary in metrics:
            summary.fail_call(unit)
    return RunSummary(str(run_id), status, records, metrics, failed_calls, error)


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
