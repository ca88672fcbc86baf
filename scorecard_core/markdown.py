"""The one Markdown report of a run, shared by the Action's job summary, its PR comment and the
webhook service's PR comment, so all three always agree.

Everything that comes from users or their systems (testset and metric names, inputs, outputs,
expected values, judge reasons) goes through ``escape_text``, ``escape_cell`` or ``inline_code``:
it must not break the layout, inject HTML or links, notify people with @mentions, or fake the
hidden marker that identifies our sticky comment."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from . import stats, wording
from .comparison import compare_summaries
from .gate import GatePolicy, GateResult, Thresholds, evaluate, meets, no_successful_call
from .report import FailingCase, RunSummary, failing_cases, summarize_wire
from .run_status import FINISHED, IN_PROGRESS, RunStatus
from .wording import percent

GITHUB_COMMENT_LIMIT = 65_536
# Below this even the verdict and the "see the full run" note may not fit.
MIN_CHARS = 1_000
CELL_LIMIT = 120
SNIPPET_LIMIT = 160
REASON_LIMIT = 300
LISTED_TESTCASES = 10  # flaky or unpaired testcases named before "and N more"

_ZWSP = "\u200b"
# Control characters and bidi overrides can garble or disguise the text around them.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# GitHub links these even after Markdown escaping (it scans the rendered text): mentions notify
# people, issue references post to other threads, bare URLs become links.
_AUTOLINKED = re.compile(r"(?<=@)(?=[\w-])|(?<=#)(?=\d)|(?<=GH-)(?=\d)|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~^$])")
# At the start of a line these begin headings, lists or quotes.
_LEADING_BLOCK_MARKER = re.compile(r"^(\d*)([#+\-=.)])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


# -- escaping untrusted text ---------------------------------------------------------------------


def _defuse(text: str) -> str:
    return _AUTOLINKED.sub(_ZWSP, _INVISIBLE.sub("", text))


def _escape_line(line: str) -> str:
    line = _MARKDOWN_PUNCTUATION.sub(r"\\\1", _defuse(line.strip()))
    line = _LEADING_BLOCK_MARKER.sub(r"\1\\\2", line)
    return "".join(_HTML.get(char, char) for char in line)


def _shorten(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def escape_text(text: str, limit: int | None = None) -> str:
    """Untrusted text as inline Markdown for a paragraph or list item: shows literally, on one
    source line (line breaks become ``<br>``) so it can never start a block of its own."""
    lines = [_escape_line(line) for line in _LINE_BREAK.split(_shorten(str(text), limit))]
    return "<br>".join(line for line in lines if line)


def escape_cell(text: str, limit: int | None = CELL_LIMIT) -> str:
    """Untrusted text for a table cell: one short line, pipes escaped so cells stay put."""
    return _escape_line(" ".join(_shorten(str(text), limit).split()))


def inline_code(text: str, limit: int | None = SNIPPET_LIMIT) -> str:
    """Untrusted text as a code span. Not for table cells: GitHub splits cells on pipes even
    inside code. The fence is longer than any backtick run inside, so the text cannot close it."""
    text = _INVISIBLE.sub("", _LINE_BREAK.sub("↵", _shorten(str(text), limit)))
    # Code shows verbatim, so a raw ``<!--`` would survive into the comment body and could fake our marker.
    text = text.replace("<!--", "<" + _ZWSP + "!--")
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # CommonMark strips one space from each end of a span that is not all spaces; pad to keep them.
    pad = " " if text.strip() and (text[0] in "` " or text[-1] in "` ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(label: str, url: str | None) -> str:
    """A Markdown link to one of our own URLs (run, Actions run); just the label without one."""
    if not url or not re.match(r"https?://", url):
        return label
    return f"[{label}]({quote(url, safe=':/?#[]@!$&*+,;=%~')})"


# -- the report ----------------------------------------------------------------------------------


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
    failing: list[FailingCase] = field(default_factory=list)
    marker: str | None = None  # e.g. "<!-- scorecard-eval testset=12 -->"
    alpha: float | None = None  # the significance level of the comparison and the planning figures

    def __post_init__(self) -> None:
        if self.marker is not None and not re.fullmatch(r"<!--[^\n]*-->", self.marker):
            raise ValueError(f"marker must be a one-line HTML comment, got {self.marker!r}")


def sticky_marker(testset_id: str | None) -> str:
    """The hidden line that finds our PR comment again: one comment per pull request and testset."""
    return f"<!-- scorecard-eval testset={testset_id} -->"


def report_context(
    run: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    records: list[dict[str, Any]],
    policy: GatePolicy | Thresholds,
    testset_id: str | None,
    baseline: tuple[dict[str, Any], list[dict[str, Any]]] | None = None,
    run_url: str | None = None,
    actions_url: str | None = None,
    commit_sha: str | None = None,
    event: str | None = None,
) -> ReportContext:
    """A run's report from any Scorecard API's wire JSON (the run, its metrics by ID, its records
    with scores), gated by ``policy`` and compared with ``baseline`` (a run and its records):
    what the Action and the webhook service both render."""
    if isinstance(policy, Thresholds):
        policy = GatePolicy(policy)
    summary = summarize_wire(run, metrics, records)
    comparison = None
    if baseline is not None:
        base_run, base_records = baseline
        base_summary = summarize_wire(base_run, metrics, base_records)
        comparison = compare_summaries(summary, base_summary, policy.alpha, policy.margins, baseline_label(base_run))
    return ReportContext(
        title=f"Scorecard eval: testset {testset_id}",
        summary=summary,
        comparison=comparison,
        gate=evaluate(summary, policy, comparison),
        alpha=policy.alpha,
        run_url=run_url,
        actions_url=actions_url,
        commit_sha=commit_sha,
        event=event,
        failing=failing_cases(summary, records),
        marker=sticky_marker(testset_id),
    )


def baseline_label(run: dict[str, Any]) -> str:
    """How the plain sentence names a baseline: its ID and, when known, its branch."""
    branch = (run.get("git") or {}).get("branch")
    return f"run {run.get('id')} ({branch})" if branch else f"run {run.get('id')}"


def render(context: ReportContext, max_chars: int | None = None) -> str:
    """The report; with ``max_chars`` failing cases are dropped from the end until it fits."""
    if max_chars is not None and max_chars < MIN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_CHARS}, got {max_chars}")
    head = "\n\n".join(
        part
        for part in (
            _verdict(context),
            _problems(context.summary),
            _comparison_sentence(context),
            _links(context),
            _metrics_table(context),
            _evidence_notes(context),
            _changed_testcases(context.comparison),
            _flaky_testcases(context.summary),
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
        missed = len(gate.failures) - len(gate.regressions)
        what = [f"{_plural(missed, 'threshold')} not met"] if missed else []
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


def _comparison_sentence(context: ReportContext) -> str:
    if context.comparison is None or context.summary.status not in FINISHED:
        return ""
    return f"**{escape_text(context.comparison['sentence'], limit=REASON_LIMIT)}**"


def _evidence_notes(context: ReportContext) -> str:
    """How sure the figures are: the intervals' levels, the smallest change the run could
    detect, testcases that could not be paired, and the gate's notes."""
    summary, comparison, alpha = context.summary, context.comparison, context.alpha
    notes = []
    if comparison is not None:
        tested = sum(1 for m in comparison["metrics"] if m.get("pValue") is not None)
        corrected = f", Holm-corrected across {tested} metrics" if tested > 1 else ""
        notes.append(
            f"Intervals are 95% for the figures and {comparison['level'] * 100:g}% for the changes "
            f"(one-sided α = {comparison['alpha']:g} each way{corrected})."
        )
        unpaired = [
            f"{len(ids)} only in {where} ({_testcase_list(ids)})"
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
            f"{escape_text(m.name, limit=CELL_LIMIT)} {wording.detectable(m, _detectable_of(m, by_metric, alpha))}"
            for m in summary.metrics
        ]
        if sizes:
            notes.append(f"Smallest change this run could detect (80% power, α = {alpha:g}): {', '.join(sizes)}.")
    if context.gate is not None:
        notes += [escape_text(note, limit=REASON_LIMIT) for note in context.gate.notes]
    return "<br>".join(notes)


def _detectable_of(metric: Any, by_metric: dict[str, dict[str, Any]], alpha: float) -> float | None:
    compared = by_metric.get(metric.metric_id)
    return compared["detectableChange"] if compared else metric.detectable_change(alpha)


def _testcase_list(ids: list[str]) -> str:
    shown = ", ".join(inline_code(i) for i in ids[:LISTED_TESTCASES])
    more = len(ids) - LISTED_TESTCASES
    return shown + (f" and {more} more" if more > 0 else "")


def _flaky_testcases(summary: RunSummary) -> str:
    lines = [
        f"- {escape_text(m.name, limit=CELL_LIMIT)}: {_testcase_list(m.flaky_testcase_ids)}"
        for m in summary.metrics
        if m.flaky_testcase_ids
    ]
    if not lines:
        return ""
    return "Flaky testcases (their trials disagree):\n" + "\n".join(lines)


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
    opener = f"\n\n<details>\n<summary>{_plural(len(cases), 'failing case')}</summary>\n\n"
    closer = "\n</details>"
    items: list[str] = []
    room = None if budget is None else budget - len(opener) - len(closer) - len(_more(context, len(cases)))
    for case in cases:
        item = _case(case) + "\n"
        if room is not None:
            room -= len(item)
            if room < 0:
                break
        items.append(item)
    more = _more(context, len(cases) - len(items)) if len(items) < len(cases) else ""
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
