"""Is a run better or worse than its baseline? Per metric, the two runs' testcases are paired (a
testcase's trials averaged first) and the change tested: exact McNemar for pass/fail with one
trial, paired t otherwise; Holm's correction across the metrics; a verdict only on evidence.

Each direction is its own one-sided test at alpha: a check that fails on regressions then
raises a false alarm on an unchanged system at most alpha of the time (a two-sided test would
spend half of alpha on improvements, which fail nothing, and lose power). ``pValue`` is one-sided
in the direction of the change; the change's interval is at level 1 - 2 alpha, so a verdict and
its interval agree: ``regressed`` means the adjusted p-value is below alpha and the whole
interval lies below -margin. Testcases in only one of the runs cannot be paired: they are
counted and named, never silently dropped. The result is the wire JSON of
``GET /runs/{id}/compare``, which the reports render as it is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import stats
from .report import MetricSummary, RunSummary, natural_order

DEFAULT_ALPHA = stats.DEFAULT_ALPHA
REGRESSED, IMPROVED, UNCHANGED = "regressed", "improved", "unchanged"


@dataclass(frozen=True)
class Margins:
    """How much worse counts as a regression (a non-inferiority margin): pass rates in fractions
    (2 pp is 0.02), averages in score units."""

    pass_rate: float = 0.0
    average: float = 0.0

    def of(self, metric: MetricSummary) -> float:
        return self.pass_rate if metric.output_type == "boolean" else self.average


NO_MARGIN = Margins()


def compare_summaries(
    current: RunSummary,
    previous: RunSummary,
    alpha: float = DEFAULT_ALPHA,
    margins: Margins = NO_MARGIN,
    baseline_label: str | None = None,
) -> dict[str, Any]:
    """Per-metric paired changes of ``current`` against ``previous``, with verdicts.
    ``baseline_label`` names the baseline in the plain sentence (e.g. "main's latest run")."""
    level = 1.0 - 2.0 * alpha
    entries, tests = [], []
    for summary in current.metrics:
        entry, test = _compare_metric(summary, previous.metric(summary.metric_id), level)
        entries.append(entry)
        tests.append(test)
    tested = [(i, test) for i, test in enumerate(tests) if test is not None]
    adjusted = dict(zip((i for i, _ in tested), stats.holm([stats.directional_p(test) for _, test in tested])))
    for i, (entry, test, summary) in enumerate(zip(entries, tests, current.metrics)):
        margin = margins.of(summary)
        entry["margin"] = margin
        entry["adjustedPValue"] = adjusted.get(i)
        entry["verdict"] = stats.verdict(test, adjusted[i], alpha, margin) if test is not None else UNCHANGED
        entry["detectableChange"] = _detectable(test, summary, alpha)
    in_run = set().union(*(m.headline_clusters() for m in current.metrics))
    in_baseline = set().union(*(m.headline_clusters() for m in previous.metrics))
    comparison = {
        "runId": current.run_id,
        "baselineRunId": previous.run_id,
        "alpha": alpha,
        "level": level,
        "passRateDelta": _delta(current.pass_rate, previous.pass_rate),
        "metrics": entries,
        "onlyInRunTestcaseIds": _sorted(in_run - in_baseline),
        "onlyInBaselineTestcaseIds": _sorted(in_baseline - in_run),
        "improvements": _changes(entries, "improvedTestcaseIds"),
        "regressions": _changes(entries, "regressedTestcaseIds"),
    }
    comparison["sentence"] = sentence(comparison, baseline_label or f"run {previous.run_id}")
    return comparison


def _compare_metric(
    now: MetricSummary, then: MetricSummary | None, level: float
) -> tuple[dict[str, Any], stats.PairedComparison | None]:
    run_units = now.headline_clusters()
    base_units = then.headline_clusters() if then is not None else {}
    shared = _sorted(run_units.keys() & base_units.keys())
    test = None
    if shared:
        test = stats.compare_clusters(
            [run_units[k] for k in shared], [base_units[k] for k in shared], now.output_type == "boolean", level
        )
    change = {k: _mean(run_units[k]) - _mean(base_units[k]) for k in shared}
    entry = {
        "metricId": now.metric_id,
        "name": now.name,
        "outputType": now.output_type,
        "passRate": now.pass_rate,
        "baselinePassRate": then.pass_rate if then else None,
        "passRateDelta": _delta(now.pass_rate, then.pass_rate if then else None),
        "average": now.average,
        "baselineAverage": then.average if then else None,
        "averageDelta": _delta(now.average, then.average if then else None),
        "delta": test.delta if test else None,
        "deltaInterval": _bounded(test.interval, now.output_type).as_dict() if test and test.interval else None,
        "pValue": stats.directional_p(test) if test else None,
        "pairs": len(shared),
        "onlyInRun": len(run_units.keys() - base_units.keys()),
        "onlyInBaseline": len(base_units.keys() - run_units.keys()),
        "improvedTestcaseIds": [k for k in shared if change[k] > 0],
        "regressedTestcaseIds": [k for k in shared if change[k] < 0],
    }
    return entry, test


def _bounded(interval: stats.Interval, output_type: str) -> stats.Interval:
    """A pass rate cannot change by more than 100 points either way."""
    if output_type != "boolean":
        return interval
    return stats.Interval(max(interval.low, -1.0), min(interval.high, 1.0), interval.level)


def _detectable(test: stats.PairedComparison | None, summary: MetricSummary, alpha: float) -> float | None:
    """With pairs to go on, from the paired differences' spread; else from this run alone."""
    if test is not None and 0 < test.standard_error < float("inf"):
        return stats.minimum_detectable_change(test.standard_error, alpha, two_sided=False)
    return summary.detectable_change(alpha)


def sentence(comparison: dict[str, Any], baseline_label: str) -> str:
    """The whole comparison in one plain sentence."""
    metrics = comparison["metrics"]
    parts = []
    for verdict, heading, worse_first in ((REGRESSED, "Regression", True), (IMPROVED, "Improvement", False)):
        found = [m for m in metrics if m["verdict"] == verdict]
        if found:
            parts.append(f"{heading} in " + "; ".join(_moved(m, worse_first) for m in found))
    if parts:
        return ". ".join(parts) + "."
    if not any(m["pairs"] for m in metrics):
        return f"No testcase was scored in both this run and {baseline_label}: nothing to compare."
    return f"No evidence of a change against {baseline_label}."


def _moved(metric: dict[str, Any], worse_first: bool) -> str:
    worse, better = len(metric["regressedTestcaseIds"]), len(metric["improvedTestcaseIds"])
    counts = [f"{worse} testcase{'' if worse == 1 else 's'} got worse", f"{better} better"]
    if not worse_first:
        counts = [f"{better} testcase{'' if better == 1 else 's'} got better", f"{worse} worse"]
    return f"{metric['name']}: {', '.join(counts)}"


def _changes(entries: list[dict[str, Any]], key: str) -> list[dict[str, str]]:
    return [{"testcaseId": t, "metricId": e["metricId"]} for e in entries for t in e[key]]


def _mean(cluster: stats.Cluster) -> float:
    return cluster.total / cluster.count


def _delta(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else now - then


def _sorted(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=natural_order)
