"""The one Markdown report of a run, shared by the Action's job summary, its PR comment and the
webhook service's PR comment, so all three always agree.

Everything that comes from users or their systems (testset and metric names, inputs, outputs,
expected values, judge reasons) goes through ``escape_text``, ``escape_cell`` or ``inline_code``
(``markdown_escape``, where the threats are named): it must not break the layout, inject HTML or
links, notify people with @mentions, or fake the hidden marker that identifies our sticky comment."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import stats, wording
from .comparison import compare_summaries
from .gate import GatePolicy, GateResult, Thresholds, evaluate, meets, no_successful_call
from .markdown_escape import CELL_LIMIT, SNIPPET_LIMIT, escape_cell, escape_text, inline_code, link
from .markdown_evidence import REASON_LIMIT, comparison_sentence, evidence_notes, flaky_testcases, usage_line
from .prices import DEFAULT_PRICES, ModelPrice
from .report import RunSummary
from .report_wire import FailingCase, WireTally, WorstCases
from .run_status import FINISHED, IN_PROGRESS, RunStatus
from .usage import RunUsage, UsageTally
from .wording import percent

GITHUB_COMMENT_LIMIT = 65_536
# Below this even the verdict and the "see the full run" note may not fit.
MIN_CHARS = 1_000
# The failing cases a report keeps, worst first: about as many as a 1 MB job summary shows.
FAILING_KEPT = 3_000


@dataclass
class ReportContext:
    title: str
    summary: RunSummary
    comparison: dict[str, Any] | None = None
    gate: GateResult | None = None
    run_url: str | None = None
    actions_url: str | None = None
    commit_sha: str | None = None
    event: str | None = None  # what started the run, e.g. "pull request #12" or "schedule"
    failing: list[FailingCase] = field(default_factory=list)  # the worst, worst first
    failing_count: int | None = None  # how many there were (None: as many as listed)
    marker: str | None = None  # e.g. "<!-- scorecard-eval testset=12 -->"
    alpha: float | None = None  # the significance level of the comparison and the planning figures
    usage: RunUsage | None = None  # latency, tokens and cost, and the baseline's
    baseline_usage: RunUsage | None = None

    def __post_init__(self) -> None:
        if self.failing_count is None:
            self.failing_count = len(self.failing)
        if self.marker is not None and not re.fullmatch(r"<!--[^\n]*-->", self.marker):
            raise ValueError(f"marker must be a one-line HTML comment, got {self.marker!r}")


def sticky_marker(testset_id: str | None) -> str:
    """The hidden line that finds our PR comment again: one comment per pull request and testset."""
    return f"<!-- scorecard-eval testset={testset_id} -->"


def report_context(
    run: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    records: Iterable[dict[str, Any]],
    policy: GatePolicy | Thresholds,
    testset_id: str | None,
    baseline: tuple[dict[str, Any], Iterable[dict[str, Any]]] | None = None,
    run_url: str | None = None,
    actions_url: str | None = None,
    commit_sha: str | None = None,
    event: str | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
) -> ReportContext:
    """A run's report from any Scorecard API's wire JSON (the run, its metrics by ID, its records
    with scores), gated by ``policy`` and compared with ``baseline`` (a run and its records):
    what the Action and the webhook service both render. Each run's records are read once, so
    they may stream page by page: what stays in memory is per-testcase tallies and the worst
    ``FAILING_KEPT`` failing cases, not the records."""
    if isinstance(policy, Thresholds):
        policy = GatePolicy(policy)
    summary, usage, worst = _read(run, metrics, records, prices, FAILING_KEPT)
    comparison, baseline_usage = None, None
    if baseline is not None:
        base_run, base_records = baseline
        base_summary, baseline_usage, _ = _read(base_run, metrics, base_records, prices, 0)
        comparison = compare_summaries(summary, base_summary, policy.alpha, policy.margins, baseline_label(base_run))
    return ReportContext(
        title=f"Scorecard eval: testset {testset_id}",
        summary=summary,
        comparison=comparison,
        gate=evaluate(summary, policy, comparison),
        alpha=policy.alpha,
        usage=usage,
        baseline_usage=baseline_usage,
        run_url=run_url,
        actions_url=actions_url,
        commit_sha=commit_sha,
        event=event,
        failing=worst.result(),
        failing_count=worst.count,
        marker=sticky_marker(testset_id),
    )


def _read(
    run: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    records: Iterable[dict[str, Any]],
    prices: Mapping[str, ModelPrice] | None,
    failing_kept: int,
) -> tuple[RunSummary, RunUsage, WorstCases]:
    """A run's summary, usage and worst failing cases, in one pass over its records."""
    tally, usage = WireTally(run, metrics), UsageTally()
    worst = WorstCases(tally.metrics, failing_kept)
    for record in records:
        tally.add(record)
        usage.add_wire(record)
        if failing_kept:
            worst.add(record)
    return tally.result(), usage.result(DEFAULT_PRICES if prices is None else prices), worst


def baseline_label(run: dict[str, Any]) -> str:
    """How the plain sentence names a baseline: its ID and, when known, its branch."""
    branch = (run.get("git") or {}).get("ref")
    return f"run {run.get('id')} on {branch}" if branch else f"run {run.get('id')}"


def render(context: ReportContext, max_chars: int | None = None) -> str:
    """The report; with ``max_chars`` failing cases are dropped from the end until it fits."""
    if max_chars is not None and max_chars < MIN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_CHARS}, got {max_chars}")
    head = "\n\n".join(
        part
        for part in (
            _verdict(context),
            _problems(context.summary),
            comparison_sentence(context.comparison, context.summary.status),
            _links(context),
            _metrics_table(context),
            usage_line(context.usage, context.baseline_usage),
            evidence_notes(context.summary, context.comparison, context.gate, context.alpha),
            _changed_testcases(context.comparison),
            flaky_testcases(context.summary),
        )
        if part
    )
    tail = f"\n\n{context.marker}\n" if context.marker else "\n"
    budget = None if max_chars is None else max_chars - len(head) - len(tail)
    body = head + _failing_section(context, budget)
    if max_chars is not None and len(body) > max_chars - len(tail):
        body = _cut(head, context, max_chars - len(tail))
    return body + tail


def _verdict(context: ReportContext) -> str:
    summary, gate = context.summary, context.gate
    title = escape_text(context.title, limit=CELL_LIMIT) or "Scorecard eval"
    pending = sum(m.pending for m in summary.metrics)
    if summary.status in IN_PROGRESS or (summary.status not in FINISHED and pending):
        done = sum(m.scored + m.errored for m in summary.metrics)
        return f"### ⏳ {title}: scoring in progress, {done} of {done + pending} scores done"
    # The heading follows the gate, so it always agrees with the check's outcome.
    if gate is None and summary.status == RunStatus.ERROR:
        return f"### ❌ {title}: the run ended with an error"
    if gate is not None and no_successful_call(summary):
        return f"### ❌ {title}: no system call succeeded"
    if gate is not None and not gate.passed:
        reasons = "\n".join(f"- {escape_text(failure, limit=REASON_LIMIT)}" for failure in gate.failures)
        missed = len(gate.failures) - len(gate.regressions) - len(gate.incomplete)
        what = ["the run is incomplete"] if gate.incomplete else []
        what += [f"{_plural(missed, 'threshold')} not met"] if missed else []
        what += [f"{_plural(len(gate.regressions), 'metric')} regressed"] if gate.regressions else []
        return f"### ❌ {title}: {' and '.join(what)}\n\n{reasons}"
    overall = f"overall pass rate {percent(summary.pass_rate)}" if summary.pass_rate is not None else "no scores"
    if gate is not None and (gate.thresholds_by_metric or gate.overall_threshold is not None):
        return f"### ✅ {title}: all thresholds met, {overall}"
    return f"### ✅ {title}: scoring finished, {overall}"


def _problems(summary: RunSummary) -> str:
    """Failed system calls and the run's error, right under the verdict, whatever the verdict."""
    lines = []
    if summary.failed_calls:
        lines.append(
            f"⚠️ {summary.failed_calls} of {_plural(summary.records, 'system call')} failed; "
            "each counts as failing for every metric."
        )
    if summary.status == RunStatus.ERROR and summary.error:
        lines.append(f"The run ended with an error: {escape_text(summary.error, limit=REASON_LIMIT)}")
    return "<br>".join(lines)


def _links(context: ReportContext) -> str:
    parts = [link("Scorecard run", context.run_url)]
    if context.actions_url:
        parts.append(link("Actions run", context.actions_url))
    if context.commit_sha:
        parts.append(f"commit {inline_code(context.commit_sha[:7])}")
    if context.event:
        parts.append(escape_text(context.event))
    if context.comparison is not None:
        parts.append(f"compared with run {inline_code(str(context.comparison.get('baselineRunId')))}")
    return " · ".join(parts)


def _metrics_table(context: ReportContext) -> str:
    summary, gate, comparison = context.summary, context.gate, context.comparison
    by_metric = {str(m["metricId"]): m for m in (comparison or {}).get("metrics", [])}
    header = ["Metric", "Pass rate / average (95% CI)", "Threshold", "Scored", "Errored"]
    if comparison is not None:
        header.insert(3, "vs baseline")
    rows = [header, ["---:" if name in ("Scored", "Errored") else "---" for name in header]]
    overall_threshold = gate.overall_threshold if gate else None
    rows.append(
        _row(
            "**Overall**",
            wording.rate_with_interval(summary.pass_rate, summary.pass_rate_estimate),
            _threshold(_judged(summary.pass_rate, summary.pass_rate_estimate, gate), overall_threshold, gate),
            _overall_delta(comparison.get("passRateDelta")) if comparison is not None else None,
            sum(m.scored for m in summary.metrics),
            sum(m.pending for m in summary.metrics),
            sum(m.errored for m in summary.metrics),
        )
    )
    for metric in summary.metrics:
        change = by_metric.get(metric.metric_id, {})
        rows.append(
            _row(
                escape_cell(metric.name),
                wording.metric_result(metric),
                _threshold(
                    _judged(metric.pass_rate, metric.pass_rate_estimate, gate),
                    gate.thresholds_by_metric.get(metric.metric_id) if gate else None,
                    gate,
                ),
                wording.change(change) if change else "—" if comparison is not None else None,
                metric.scored,
                metric.pending,
                metric.errored,
            )
        )
    return "\n".join(f"| {' | '.join(row)} |" for row in rows)


def _row(
    name: str, result: str, threshold: str, delta: str | None, scored: int, pending: int, errored: int
) -> list[str]:
    counts = [f"{scored} (+{pending} pending)" if pending else str(scored), str(errored)]
    return [name, result, threshold] + ([delta] if delta is not None else []) + counts


def _judged(rate: float | None, estimate: stats.Estimate | None, gate: GateResult | None) -> float | None:
    """What the gate compared with the threshold: the rate, or its interval's lower bound."""
    lower = gate is not None and gate.mode == "lower-bound"
    return estimate.interval.low if lower and estimate is not None and estimate.interval is not None else rate


def _threshold(judged: float | None, threshold: float | None, gate: GateResult | None) -> str:
    if threshold is None:
        return "—"
    mark = "✅" if judged is not None and meets(judged, threshold) else "❌"
    bound = " (lower bound)" if gate is not None and gate.mode == "lower-bound" else ""
    return f"≥ {percent(threshold)}{bound} {mark}"


def _overall_delta(pass_rate_delta: float | None) -> str:
    return "—" if pass_rate_delta is None else f"{pass_rate_delta * 100:+.1f} pp"


def _changed_testcases(comparison: dict[str, Any] | None) -> str:
    if not comparison:
        return ""
    regressed, improved = len(comparison.get("regressions", [])), len(comparison.get("improvements", []))
    if not regressed and not improved:
        return "No testcase changed outcome since the baseline."
    return f"Since the baseline: {_plural(regressed, 'testcase result')} regressed, {improved} improved."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _failing_section(context: ReportContext, budget: int | None) -> str:
    cases = context.failing
    if not cases:
        return ""
    count = context.failing_count or len(cases)
    opener = f"\n\n<details>\n<summary>{_plural(count, 'failing case')}</summary>\n\n"
    closer = "\n</details>"
    items: list[str] = []
    room = None if budget is None else budget - len(opener) - len(closer) - len(_more(context, count))
    for case in cases:
        item = _case(case) + "\n"
        if room is not None:
            room -= len(item)
            if room < 0:
                break
        items.append(item)
    more = _more(context, count - len(items)) if len(items) < count else ""
    return opener + "".join(items) + more + closer


def _more(context: ReportContext, count: int) -> str:
    return f"\n…and {count} more — see the full run: {link('Scorecard run', context.run_url)}\n"


def _case(case: FailingCase) -> str:
    who = f"testcase {inline_code(case.testcase_id)}" if case.testcase_id else f"record {inline_code(case.record_id)}"
    outcome = "error" if case.value is None else f"score {case.value:g}"
    lines = [f"**{escape_text(case.metric_name, limit=CELL_LIMIT)}** · {who} · {outcome}"]
    if case.reason:
        lines.append(f"Reason: {escape_text(case.reason, limit=REASON_LIMIT)}")
    snippets = [
        (label, data)
        for label, data in (("Inputs", case.inputs), ("Expected", case.expected), ("Outputs", case.outputs))
        if data
    ]
    if snippets:
        lines.append(" · ".join(f"{label}: {inline_code(_json(data))}" for label, data in snippets))
    return "- " + "<br>".join(lines)


def _json(data: Any) -> str:
    # Only the start is shown, so stop encoding a (possibly huge) value once there is enough.
    text = ""
    for chunk in json.JSONEncoder(ensure_ascii=False, default=str).iterencode(data):
        text += chunk
        if len(text) > SNIPPET_LIMIT:
            break
    return text


def _cut(head: str, context: ReportContext, limit: int) -> str:
    """Last resort when even the figures do not fit: keep whole lines, then say where the rest is."""
    note = f"\n\n…cut to fit — see the full run: {link('Scorecard run', context.run_url)}"
    if len(head) + len(note) <= limit:
        return head + note
    kept = head[: max(limit - len(note), 0)]
    return kept[: kept.rfind("\n") + 1].rstrip() + note
