"""The pass/fail gate: minimum pass rates ("fail-under"), overall and per metric, and optionally a
regression check on evidence ("fail-on-regression") against the baseline's comparison.

``fail-under`` is one line a workflow author writes by hand, e.g. ``0.8, Exact answer=90%, 12=0.75``:
a bare value is the overall pass rate, ``metric=value`` names a metric by name or ID. Separators are
commas or newlines, so metric names may contain spaces but not commas.

A threshold compares the pass rate itself (``point``) or, with ``fail-under-mode: lower-bound``,
the lower end of its 95% interval: the check then fails unless the run shows the rate is met.
The regression check fails only on a metric whose verdict (``comparison``) is ``regressed``: the
change is significant after Holm's correction and beyond ``regression-margin``.

Whatever the thresholds (none included), a run in which no system call succeeded never passes:
there is nothing to judge, and a check that passes on a crashed system lies."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import stats
from .comparison import DEFAULT_ALPHA, NO_MARGIN, REGRESSED, Margins
from .errors import InvalidField
from .report import MetricSummary, RunSummary
from .wording import change_text, p_text, percent

FIELD = "fail-under"
MODES = ("point", "lower-bound")
# Below this the normal quantiles of the intervals run out of floating-point precision.
MIN_ALPHA, MAX_ALPHA = 0.0001, 0.2
EXAMPLE = "e.g. `0.8, Exact answer=0.9, 12=75%`"
# Pass rates are ratios of small integers; a threshold typed as 70% must accept 7 of 10.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Thresholds:
    overall: float | None = None
    # Metric name or ID as the user wrote it -> minimum pass rate (0..1), in the order written.
    by_metric: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.overall is not None or bool(self.by_metric)


@dataclass(frozen=True)
class GatePolicy:
    """Everything that decides the check: the Action's inputs, or a GitHub connection's fields."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    mode: str = "point"  # what a threshold compares: the pass rate, or its interval's lower bound
    fail_on_regression: bool = False
    margins: Margins = NO_MARGIN
    alpha: float = DEFAULT_ALPHA


@dataclass
class GateResult:
    passed: bool
    failures: list[str]
    thresholds_by_metric: dict[str, float]
    overall_threshold: float | None = None
    mode: str = "point"
    regressions: list[str] = field(default_factory=list)  # the failures that are regressions
    # Said beside the verdict without failing it, e.g. that there was no baseline to check against.
    notes: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # the failures that are testcases with no record


def parse_fail_under(text: str | None) -> Thresholds:
    overall: float | None = None
    by_metric: dict[str, float] = {}
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.rpartition("=")
        key = " ".join(key.split())
        if not sep:
            if overall is not None:
                raise InvalidField(FIELD, f"has two overall thresholds; give one bare value, {EXAMPLE}")
            overall = _parse_rate(value.strip())
        elif not key:
            raise InvalidField(FIELD, f"has `{part}` with no metric before `=`; write `metric=value`, {EXAMPLE}")
        elif key.casefold() in (known.casefold() for known in by_metric):
            raise InvalidField(FIELD, f"names metric `{key}` twice; give each metric one threshold, {EXAMPLE}")
        else:
            by_metric[key] = _parse_rate(value.strip())
    return Thresholds(overall, by_metric)


def _parse_rate(text: str) -> float:
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise InvalidField(FIELD, f"has `{text}`, which is not a number; use a pass rate like 0.8 or 80%, {EXAMPLE}")
    if percent:
        if not 0 <= value <= 100:
            raise InvalidField(FIELD, f"has `{text}`; a percentage must be between 0% and 100%, {EXAMPLE}")
        return value / 100
    if not 0 <= value <= 1:
        hint = f" (did you mean {number}%?)" if 1 < value <= 100 else ""
        raise InvalidField(FIELD, f"has `{text}`; a pass rate must be between 0 and 1{hint}, {EXAMPLE}")
    return value


def parse_policy(
    fail_under: str | None = "",
    mode: str | None = "point",
    fail_on_regression: bool = False,
    regression_margin: str | None = "",
    alpha: str | float | None = DEFAULT_ALPHA,
) -> GatePolicy:
    """The policy from its inputs as a user typed them; a bad value raises ``InvalidField``
    naming the input."""
    mode = (mode or "point").strip().lower()
    if mode not in MODES:
        raise InvalidField("fail-under-mode", f"is `{mode}`; use `point` or `lower-bound`")
    return GatePolicy(
        parse_fail_under(fail_under), mode, fail_on_regression, parse_margin(regression_margin), parse_alpha(alpha)
    )


def parse_alpha(value: str | float | None) -> float:
    text = str(value).strip() if value not in (None, "") else str(DEFAULT_ALPHA)
    try:
        alpha = float(text)
    except ValueError:
        alpha = math.nan
    if not MIN_ALPHA <= alpha <= MAX_ALPHA:
        raise InvalidField(
            "alpha", f"is `{text}`; use a significance level from {MIN_ALPHA:g} to {MAX_ALPHA:g}, e.g. 0.01"
        )
    return alpha


def parse_margin(text: str | None) -> Margins:
    """``2pp`` (or ``2%``) for pass rates, a bare number in score units for averages, or both:
    ``2pp, 0.25``."""
    pass_rate: float | None = None
    average: float | None = None
    example = "e.g. `2pp` for pass rates, `0.25` for averages, or `2pp, 0.25`"
    for part in re.split(r"[,\n]", text or ""):
        part = part.strip().lower()
        if not part:
            continue
        points = part.endswith(("pp", "%"))
        # Only a whole unit comes off: `2p` or `2%%` is a typo, not an average margin of 2.
        number = part.removesuffix("pp").removesuffix("%").strip() if points else part
        try:
            value = float(number)
        except ValueError:
            value = math.nan
        if not value >= 0 or math.isinf(value):
            raise InvalidField("regression-margin", f"has `{part}`, which is not a non-negative number; {example}")
        if points:
            if pass_rate is not None or value > 100:
                raise InvalidField("regression-margin", f"has `{part}`; give one pass-rate margin from 0 to 100pp")
            pass_rate = value / 100
        else:
            if average is not None:
                raise InvalidField("regression-margin", f"has two average margins; give one, {example}")
            average = value
    return Margins(pass_rate or 0.0, average or 0.0)


def meets(rate: float, threshold: float) -> bool:
    return rate >= threshold - _TOLERANCE


def no_successful_call(summary: RunSummary) -> str | None:
    """Why the run cannot pass when none of its system calls succeeded, else None."""
    if summary.successful_calls > 0:
        return None
    if summary.records == 0:
        return "No system call succeeded: the run has no records."
    return f"No system call succeeded: all {summary.failed_calls} failed (see the failing cases)."


def evaluate(
    summary: RunSummary, policy: GatePolicy | Thresholds, comparison: dict[str, Any] | None = None
) -> GateResult:
    """The check's outcome; ``comparison`` is ``comparison.compare_summaries`` with the policy's
    alpha and margins, or None without a baseline."""
    if isinstance(policy, Thresholds):
        policy = GatePolicy(policy)
    thresholds, lower = policy.thresholds, policy.mode == "lower-bound"
    nothing_ran = no_successful_call(summary)
    failures: list[str] = [nothing_ran] if nothing_ran else []
    if thresholds.overall is not None:
        failures += _check("Overall", summary.pass_rate, thresholds.overall, summary.pass_rate_estimate, lower)
    matched: dict[str, float] = {}
    for key, threshold in thresholds.by_metric.items():
        found = _find_metric(summary, key)
        if len(found) != 1:
            failures.append(_not_found(summary, key, found))
            continue
        metric = found[0]
        matched[metric.metric_id] = threshold
        failures += _check(metric.name, metric.pass_rate, threshold, metric.pass_rate_estimate, lower)
    notes, regressions = [], []
    if policy.fail_on_regression:
        if comparison is None:
            notes.append("No baseline run to compare with: the regression check had nothing to check.")
        else:
            regressions = [_regressed(m) for m in comparison["metrics"] if m["verdict"] == REGRESSED]
    failures += regressions
    return GateResult(not failures, failures, matched, thresholds.overall, policy.mode, regressions, notes)


def _check(
    label: str, rate: float | None, threshold: float, estimate: stats.Estimate | None, lower_bound: bool
) -> list[str]:
    if rate is None:
        return [f"{label}: no scores to compare with the {percent(threshold)} threshold."]
    if lower_bound and estimate is not None and estimate.interval is not None:
        low = estimate.interval.low
        if meets(low, threshold):
            return []
        return [
            f"{label}: pass rate {percent(rate)} has a 95% lower bound of {percent(low)}, "
            f"below the {percent(threshold)} threshold."
        ]
    if meets(rate, threshold):
        return []
    return [f"{label}: pass rate {percent(rate)} is below the {percent(threshold)} threshold."]


def _regressed(metric: dict[str, Any]) -> str:
    interval = metric.get("deltaInterval") or {}
    margin = f", beyond the {change_text(metric, metric['margin'], signed=False)} margin" if metric["margin"] else ""
    return (
        f"{metric['name']}: regressed by {change_text(metric, -metric['delta'], signed=False)} "
        f"({change_text(metric, interval.get('low'), unit=False)} to {change_text(metric, interval.get('high'), unit=False)}, "
        f"{p_text(metric['adjustedPValue'])}{margin})."
    )


def _find_metric(summary: RunSummary, key: str) -> list[MetricSummary]:
    """By ID first (IDs are unambiguous), else by name ignoring case and extra spaces."""
    by_id = summary.metric(key)
    if by_id is not None:
        return [by_id]
    wanted = key.casefold()
    return [m for m in summary.metrics if " ".join(m.name.split()).casefold() == wanted]


def _not_found(summary: RunSummary, key: str, found: list[MetricSummary]) -> str:
    if found:
        ids = ", ".join(m.metric_id for m in found)
        return f'Threshold for "{key}": {len(found)} metrics have that name (IDs {ids}); name the metric by ID instead.'
    known = ", ".join(f"{m.name} (ID {m.metric_id})" for m in summary.metrics) or "none"
    return f'Threshold for "{key}": this run has no metric with that name or ID; its metrics are: {known}.'
