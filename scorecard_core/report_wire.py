"""A run's figures from any Scorecard API's wire JSON (the runner, the webhook service): the same
summary as ``report_queries`` reads from our database, and the failing cases reports list. The
records are read one at a time, so they may stream in page by page: a run of 100k records is
never held whole."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from .report import MetricSummary, RunSummary, metric_summary, score_status, summarize_rows, unit_of
from .scoring.shapes import passes, score_value


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


class WireTally:
    """A run's summary from its records as any Scorecard API lists them with their scores, one
    record at a time: the records may stream page by page, and none is kept. Records without a
    score yet count as pending for each metric; records whose system call failed count as failing
    for each."""

    def __init__(self, run: dict[str, Any], metrics: dict[str, dict[str, Any]]):
        """``run`` from ``GET /runs/{id}``, ``metrics`` the run's metrics by ID."""
        self.run = run
        self.metrics = [
            metric_summary(metric_id, version_id, wire_metric_config(metrics.get(str(metric_id), {})))
            for metric_id, version_id in zip(run.get("metricIds", []), run.get("metricVersionIds", []))
        ]
        self._by_version = {m.metric_version_id: m for m in self.metrics}
        self._records = 0
        self._failed_units: list[str] = []

    def add(self, record: dict[str, Any]) -> None:
        self._records += 1
        unit = unit_of(record.get("testcaseId"), record.get("id"))
        if record.get("error"):
            self._failed_units.append(unit)  # a failed call fails every metric, whatever a judge made of it
            return
        seen = set()
        for score in record.get("scores") or []:
            version_id = score.get("metricConfigId")
            seen.add(version_id)
            summary = self._by_version.get(version_id)
            if summary is not None:
                summary.tally(_wire_status(score), score.get("score"), unit)
        for summary in self.metrics:
            if summary.metric_version_id not in seen:
                summary.tally("pending", None, unit)

    def result(self) -> RunSummary:
        run = self.run
        return summarize_rows(
            str(run["id"]), run.get("status", ""), self._records, self.metrics, (), self._failed_units, run.get("error")
        )


def summarize_wire(
    run: dict[str, Any], metrics: dict[str, dict[str, Any]], records: Iterable[dict[str, Any]]
) -> RunSummary:
    """From ``GET /runs/{id}``, the run's metrics by ID, and its records listed with scores."""
    tally = WireTally(run, metrics)
    for record in records:
        tally.add(record)
    return tally.result()


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


class WorstCases:
    """A run's failing cases, worst first (errors, then the lowest scores), gathered one record at
    a time: only the worst ``limit`` are kept (a run may fail 100k times; a report shows a few
    thousand at most), and ``count`` says how many there were."""

    def __init__(self, metrics: list[MetricSummary], limit: int | None = None):
        self.count = 0
        self._by_version = {m.metric_version_id: m for m in metrics}
        self._limit = limit
        # A max-heap of the kept cases by their negated order: the root is the first to give up.
        self._kept: list[tuple[int, float, int, FailingCase]] = []

    def add(self, record: dict[str, Any]) -> None:
        case = partial(
            FailingCase,
            record_id=str(record["id"]),
            testcase_id=record.get("testcaseId"),
            inputs=record.get("inputs") or {},
            expected=record.get("expected") or {},
            outputs=record.get("outputs") or {},
        )
        if record.get("error"):
            self._keep(case(metric_name="(system)", reason=str(record["error"]), value=None))
            return
        for score in record.get("scores") or []:
            metric = self._by_version.get(score.get("metricConfigId"))
            if metric is None:
                continue
            status = _wire_status(score)
            body = score.get("score") or {}
            if status == "error":
                self._keep(case(metric_name=metric.name, reason=_wire_error(score), value=None))
            elif status == "scored" and passes(metric.output_type, metric.passing_threshold, body) is False:
                reasoning = body.get("reasoning")
                reason = reasoning if isinstance(reasoning, str) else ""
                self._keep(case(metric_name=metric.name, reason=reason, value=score_value(body)))

    def _keep(self, case: FailingCase) -> None:
        self.count += 1
        # Errors (no value) first, then the lowest values, then the first seen; negated for the max-heap.
        entry = (-(case.value is not None), -(case.value or 0.0), -self.count, case)
        if self._limit is None or len(self._kept) < self._limit:
            heapq.heappush(self._kept, entry)
        elif entry > self._kept[0]:
            heapq.heapreplace(self._kept, entry)

    def result(self) -> list[FailingCase]:
        return [entry[-1] for entry in sorted(self._kept, reverse=True)]


def failing_cases(summary: RunSummary, records: Iterable[dict[str, Any]]) -> list[FailingCase]:
    """Every failing case, worst first: errors, then the lowest scores."""
    worst = WorstCases(summary.metrics)
    for record in records:
        worst.add(record)
    return worst.result()
