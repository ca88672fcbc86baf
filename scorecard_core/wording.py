"""The figures as people read them, one wording for every place that shows them (job summary,
PR comment, commit status, the web UI): a pass rate with its interval, ``82.0% (76.1-86.7%)``; a
change with its interval and verdict, ``-9.5 pp (-14.0 to -5.1) · regressed (p = 0.001)``.

Plain text: callers escape it for where it lands (Markdown, HTML). Metric names are untrusted and
never part of what these functions return."""

from __future__ import annotations

from typing import Any

from . import stats
from .report import MetricSummary
from .usage import RunUsage


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
    """``p = 0.004``, or ``p < 0.001`` rather than a string of zeros."""
    if p is None:
        return "p = —"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


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
    return f"{text} · {verdict} ({p_text(metric.get('adjustedPValue'))})"


def levels_note(comparison: dict[str, Any]) -> str:
    """What the intervals of a report with a comparison mean."""
    tested = sum(1 for m in comparison["metrics"] if m.get("pValue") is not None)
    corrected = f", Holm-corrected across {tested} metrics" if tested > 1 else ""
    return (
        f"Intervals are 95% for the figures and {comparison['level'] * 100:g}% for the changes "
        f"(one-sided α = {comparison['alpha']:g} each way{corrected})."
    )


def detectable(metric: dict[str, Any] | MetricSummary, value: float | None) -> str:
    output_type = metric.output_type if isinstance(metric, MetricSummary) else metric.get("outputType", "boolean")
    if value is None:
        return "—"
    return f"{value * 100:.1f} pp" if output_type == "boolean" else f"{value:.2f}"


def seconds(milliseconds: float) -> str:
    return f"{milliseconds:.0f} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.2f} s"


def cost(usage: RunUsage) -> str:
    """Dollars, or why not: an unknown price is never shown as $0."""
    if usage.cost_usd is not None:
        return f"${usage.cost_usd:.4f}" if usage.cost_usd < 0.01 else f"${usage.cost_usd:,.2f}"
    if usage.unknown_models:
        return f"unknown (no price for {', '.join(usage.unknown_models)})"
    return "unknown (no token usage reported)"


def usage(usage: RunUsage) -> str:
    """One line: latency percentiles, tokens, estimated cost, judge cache hits; empty when the run
    reported none of them."""
    parts = []
    if usage.latency_p50_ms is not None and usage.latency_p95_ms is not None:
        parts.append(f"latency p50 {seconds(usage.latency_p50_ms)}, p95 {seconds(usage.latency_p95_ms)}")
    spent = usage.system_tokens.total + usage.judge_tokens.total
    if spent:
        parts.append(f"tokens {usage.system_tokens.total:,} system + {usage.judge_tokens.total:,} judge")
    if spent or usage.unknown_models:
        parts.append(f"est. cost {cost(usage)}")
    if usage.judge_cache_hits:
        parts.append(f"{usage.judge_cache_hits:,} judge cache hits")
    return " · ".join(parts).capitalize() if parts else ""
