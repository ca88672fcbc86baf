"""The figures as people read them, one wording for every place that shows them (job summary,
PR comment, commit status, the web UI): a pass rate with its interval, ``82.0% (76.1-86.7%)``; a
change with its interval and verdict, ``-9.5 pp (-14.0 to -5.1) · regressed (p = 0.001)``.

Plain text: callers escape it for where it lands (Markdown, HTML). Metric names are untrusted and
never part of what these functions return."""

from __future__ import annotations

from typing import Any

from . import stats
from .report import MetricSummary


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def rate_with_interval(rate: float | None, estimate: stats.Estimate | None) -> str:
    if rate is None:
        return "—"
    if estimate is None or estimate.interval is None:
        return percent(rate)
    low, high = estimate.interval.low, estimate.interval.high
    return f"{percent(rate)} ({low * 100:.1f}-{high * 100:.1f}%)"


def average_with_interval(average: float, estimate: stats.Estimate | None) -> str:
    if estimate is None or estimate.interval is None:
        return f"{average:.2f}"
    return f"{average:.2f} ({estimate.interval.low:.2f} to {estimate.interval.high:.2f})"


def metric_result(metric: MetricSummary) -> str:
    """The headline with its interval: the pass rate, or the average and then the pass rate."""
    rate = rate_with_interval(metric.pass_rate, metric.pass_rate_estimate)
    text = (
        rate
        if metric.average is None
        else f"avg {average_with_interval(metric.average, metric.average_estimate)} · {rate} pass"
    )
    if metric.pass_all_trials is not None:
        text += f" · pass^{metric.trials} {percent(metric.pass_all_trials)}"
    return text


def change_text(metric: dict[str, Any], value: float | None, signed: bool = True, unit: bool = True) -> str:
    """A change in the metric's units: percentage points for pass rates, score units otherwise."""
    if value is None:
        return "—"
    if metric.get("outputType", "boolean") == "boolean":
        number = f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"
        return f"{number} pp" if unit else number
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def p_text(p: float | None) -> str:
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def change(metric: dict[str, Any]) -> str:
    """One metric of a comparison: the change, its interval and what it means."""
    if not metric.get("pairs"):
        return "no testcase in common"
    text = change_text(metric, metric["delta"])
    interval = metric.get("deltaInterval")
    if interval:
        low, high = (change_text(metric, interval[end], unit=False) for end in ("low", "high"))
        text += f" ({low} to {high})"
    verdict = metric["verdict"]
    if verdict == "unchanged":
        return f"{text} · no significant change"
    return f"{text} · {verdict} (p = {p_text(metric.get('adjustedPValue'))})"


def detectable(metric: dict[str, Any] | MetricSummary, value: float | None) -> str:
    output_type = metric.output_type if isinstance(metric, MetricSummary) else metric.get("outputType", "boolean")
    if value is None:
        return "—"
    return f"{value * 100:.1f} pp" if output_type == "boolean" else f"{value:.2f}"
