"""The report's evidence: the plain sentence of a comparison, latency and cost, how sure the
figures are (intervals' levels, testcases not compared, the smallest detectable change) and the
flaky testcases. Sections of ``markdown.render``, escaped as it escapes."""

from __future__ import annotations

from typing import Any

from . import wording
from .gate import GateResult
from .markdown_escape import CELL_LIMIT, escape_text, inline_code
from .report import MetricSummary, RunSummary
from .run_status import FINISHED
from .usage import RunUsage

REASON_LIMIT = 300
LISTED_TESTCASES = 10  # flaky or unpaired testcases named before "and N more"


def comparison_sentence(comparison: dict[str, Any] | None, status: str) -> str:
    if comparison is None or status not in FINISHED:
        return ""
    return f"**{escape_text(comparison['sentence'], limit=REASON_LIMIT)}**"


def usage_line(usage: RunUsage | None, baseline_usage: RunUsage | None) -> str:
    """Latency, tokens and cost, with the baseline's beside them when there is one."""
    line = wording.usage(usage) if usage is not None else ""
    if baseline_usage is not None and line:
        line += f" — baseline: {wording.usage(baseline_usage) or 'nothing reported'}"
    return escape_text(line) if line else ""


def evidence_notes(
    summary: RunSummary, comparison: dict[str, Any] | None, gate: GateResult | None, alpha: float | None
) -> str:
    """How sure the figures are: the intervals' levels, testcases that could not be paired, the
    smallest change the run could detect, and the gate's notes."""
    notes = []
    if comparison is not None:
        notes.append(wording.levels_note(comparison))
        unpaired = [
            f"{len(ids)} only in {where} ({testcase_list(ids)})"
            for where, ids in (
                ("this run", comparison["onlyInRunTestcaseIds"]),
                ("the baseline", comparison["onlyInBaselineTestcaseIds"]),
            )
            if ids
        ]
        if unpaired:
            notes.append("Testcases not compared: " + "; ".join(unpaired) + ".")
    if alpha is not None and summary.status in FINISHED:
        by_metric = {m["metricId"]: m for m in (comparison or {}).get("metrics", [])}
        sizes = [
            f"{escape_text(m.name, limit=CELL_LIMIT)} {wording.detectable(m, _detectable(m, by_metric, alpha))}"
            for m in summary.metrics
        ]
        if sizes:
            notes.append(f"Smallest change this run could detect (80% power, α = {alpha:g}): {', '.join(sizes)}.")
    if gate is not None:
        notes += [escape_text(note, limit=REASON_LIMIT) for note in gate.notes]
    return "<br>".join(notes)


def _detectable(metric: MetricSummary, by_metric: dict[str, dict[str, Any]], alpha: float) -> float | None:
    """From the paired differences when compared, else from this run alone."""
    compared = by_metric.get(metric.metric_id)
    return compared["detectableChange"] if compared else metric.detectable_change(alpha)


def testcase_list(ids: list[str]) -> str:
    shown = ", ".join(inline_code(i) for i in ids[:LISTED_TESTCASES])
    more = len(ids) - LISTED_TESTCASES
    return shown + (f" and {more} more" if more > 0 else "")


def flaky_testcases(summary: RunSummary) -> str:
    lines = [
        f"- {escape_text(m.name, limit=CELL_LIMIT)}: {testcase_list(m.flaky_testcase_ids)}"
        for m in summary.metrics
        if m.flaky_testcase_ids
    ]
    if not lines:
        return ""
    return "Flaky testcases (their trials disagree):\n" + "\n".join(lines)
