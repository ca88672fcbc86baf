"""The pass/fail gate ("fail-under"): minimum pass rates for a run overall and per metric.

``fail-under`` is one line a workflow author writes by hand, e.g. ``0.8, Exact answer=90%, 12=0.75``:
a bare value is the overall pass rate, ``metric=value`` names a metric by name or ID. Separators are
commas or newlines, so metric names may contain spaces but not commas.

Whatever the thresholds (none included), a run in which no system call succeeded never passes:
there is nothing to judge, and a check that passes on a crashed system lies."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import InvalidField
from .report import MetricSummary, RunSummary

FIELD = "fail-under"
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


@dataclass
class GateResult:
    passed: bool
    failures: list[str]
    thresholds_by_metric: dict[str, float]
    overall_threshold: float | None = None


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


def meets(rate: float, threshold: float) -> bool:
    return rate >= threshold - _TOLERANCE


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def no_successful_call(summary: RunSummary) -> str | None:
    """Why the run cannot pass when none of its system calls succeeded, else None."""
    if summary.successful_calls > 0:
        return None
    if summary.records == 0:
        return "No system call succeeded: the run has no records."
    return f"No system call succeeded: all {summary.failed_calls} failed (see the failing cases)."


def evaluate(summary: RunSummary, thresholds: Thresholds) -> GateResult:
    nothing_ran = no_successful_call(summary)
    failures: list[str] = [nothing_ran] if nothing_ran else []
    if thresholds.overall is not None:
        failures += _check("Overall", summary.pass_rate, thresholds.overall)
    matched: dict[str, float] = {}
    for key, threshold in thresholds.by_metric.items():
        found = _find_metric(summary, key)
        if len(found) != 1:
            failures.append(_not_found(summary, key, found))
            continue
        metric = found[0]
        matched[metric.metric_id] = threshold
        failures += _check(metric.name, metric.pass_rate, threshold)
    return GateResult(not failures, failures, matched, thresholds.overall)


def _check(label: str, rate: float | None, threshold: float) -> list[str]:
    if rate is None:
        return [f"{label}: no scores to compare with the {percent(threshold)} threshold."]
    if meets(rate, threshold):
        return []
    return [f"{label}: pass rate {percent(rate)} is below the {percent(threshold)} threshold."]


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
