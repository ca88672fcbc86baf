"""Two runs of one testset side by side: each metric's figures with the paired change, its
interval and verdict (worded as on the run page, through ``evidence``), then every paired
testcase with both runs' outputs, scores and reasoning, filtered by what happened to it.

A testcase *regressed* when any metric scored it lower than the baseline did (a regression is
what a reviewer must not miss, so it wins over an improvement elsewhere), *improved* when some
metric scored it higher and none lower, and is *unchanged* otherwise. Runs of different testsets
share no testcases and are refused."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from scorecard_core import report_queries, wording
from scorecard_core.comparison import IMPROVED, REGRESSED, UNCHANGED
from scorecard_core.errors import BadRequest, InvalidField
from scorecard_core.ids import parse_id
from scorecard_core.models import Project, Record, Run, Testset
from scorecard_core.report import MetricSummary, RunSummary, natural_order

from .. import database
from .evidence import ComparedMetric, compare_runs, run_usage, usage_rows
from .loading import load_run
from .records import RecordRow, record_rows

bp = Blueprint("compare", __name__, url_prefix="/projects/<project_id>/compare")

TESTCASES_PER_PAGE = 25
SHOWN = (REGRESSED, IMPROVED, UNCHANGED)


@dataclass(frozen=True)
class MetricSideBySide:
    run_result: str
    baseline_result: str
    compared: ComparedMetric


@dataclass(frozen=True)
class Side:
    """One run's records of a testcase: the first shown, the other trials counted."""

    first: RecordRow | None
    trials: int


@dataclass(frozen=True)
class TestcaseRow:
    __test__ = False  # not a pytest class, whatever imports it
    testcase_id: str
    status: str
    run: Side
    baseline: Side


@bp.get("")
def compare(project_id: str):
    picked = [raw for raw in request.args.getlist("run") if raw.strip()]
    raw_baseline = request.args.get("baseline", "").strip()
    if not raw_baseline:
        # From the runs list: two ticked runs, the newer compared with the older.
        if len(picked) != 2:
            flash(f"Tick exactly two runs to compare (you ticked {len(picked)}).", "error")
            return redirect(url_for("ui.projects.project", project_id=project_id))
        newer, older = sorted(picked, key=lambda raw: parse_id(raw) or 0, reverse=True)
        return redirect(url_for(".compare", project_id=project_id, run=newer, baseline=older))
    if len(picked) != 1:
        raise InvalidField("run", "must name one run to compare with the baseline, e.g. ?run=12&baseline=9")
    project, run = load_run(project_id, picked[0])
    _, baseline = load_run(project_id, raw_baseline)
    if run.id == baseline.id:
        raise BadRequest("A run cannot be compared with itself: pick two different runs.", {"field": "baseline"})
    session = database.session()
    _refuse_different_testsets(session, run, baseline)
    return _page(session, project, run, baseline)


def _refuse_different_testsets(session: Session, run: Run, baseline: Run) -> None:
    if run.testset_id is not None and run.testset_id == baseline.testset_id:
        return

    def named(r: Run) -> str:
        testset = session.get(Testset, r.testset_id) if r.testset_id is not None else None
        return (
            f"run #{r.id} is on testset “{testset.name}” (#{testset.id})" if testset else f"run #{r.id} has no testset"
        )

    raise BadRequest(
        f"These runs cannot be compared: {named(run)} and {named(baseline)}. "
        "Only runs on the same testset share testcases; pick two runs of one testset.",
        {"field": "baseline"},
    )


def _page(session: Session, project: Project, run: Run, baseline: Run):
    summary = report_queries.summarize(session, run)
    base_summary = report_queries.summarize(session, baseline)
    comparison, body = compare_runs(summary, baseline, base_summary, picked=True)
    statuses = testcase_statuses(summary, base_summary, body)
    problems: list[str] = []
    show = request.args.get("show", "")
    if show and show not in SHOWN:
        problems.append(f"Unknown show {show!r}: choose one of {', '.join(SHOWN)}; showing all.")
        show = ""
    listed = [t for t, status in statuses.items() if not show or status == show]
    page_number = _page_arg()
    usages = run_usage(session, run), run_usage(session, baseline)
    start = (page_number - 1) * TESTCASES_PER_PAGE
    shown_ids = listed[start : start + TESTCASES_PER_PAGE]
    return render_template(
        "ui/compare.html",
        project=project,
        run=run,
        baseline=baseline,
        testset=session.get(Testset, run.testset_id),
        comparison=comparison,
        metrics=side_by_side(summary, base_summary, comparison.metrics),
        overall=(
            wording.rate_with_interval(summary.pass_rate, summary.pass_rate_estimate),
            wording.rate_with_interval(base_summary.pass_rate, base_summary.pass_rate_estimate),
        ),
        usage=usage_rows(*usages),
        usage_reported=any(wording.usage(u) for u in usages),
        counts={status: sum(1 for s in statuses.values() if s == status) for status in SHOWN},
        paired=len(statuses),
        show=show,
        rows=_testcase_rows(session, (summary, base_summary), (run, baseline), shown_ids, statuses),
        listed=len(listed),
        page_number=page_number,
        last_page=max(1, -(-len(listed) // TESTCASES_PER_PAGE)),
        link=lambda **changes: _link(project, run, baseline, {"show": show, "page": page_number}, changes),
        problem=" ".join(problems) or None,
    )


def testcase_statuses(summary: RunSummary, base_summary: RunSummary, body: dict[str, Any]) -> dict[str, str]:
    """Every testcase scored in both runs (natural order) and what happened to it."""
    paired: set[str] = set()
    for metric in summary.metrics:
        before = base_summary.metric(metric.metric_id)
        if before is not None:
            paired |= metric.headline_clusters().keys() & before.headline_clusters().keys()
    worse = {t for m in body["metrics"] for t in m["regressedTestcaseIds"]}
    better = {t for m in body["metrics"] for t in m["improvedTestcaseIds"]}
    return {
        t: REGRESSED if t in worse else IMPROVED if t in better else UNCHANGED
        for t in sorted(paired, key=natural_order)
    }


def side_by_side(
    summary: RunSummary, base_summary: RunSummary, compared: list[ComparedMetric]
) -> list[MetricSideBySide]:
    """The run's metrics (the comparison's order) with both runs' headline and the change."""
    rows = []
    for metric, change in zip(summary.metrics, compared):
        before = base_summary.metric(metric.metric_id)
        rows.append(
            MetricSideBySide(
                wording.metric_result(metric),
                wording.metric_result(before) if before is not None else "not scored",
                change,
            )
        )
    return rows


def _testcase_rows(
    session: Session,
    summaries: tuple[RunSummary, RunSummary],
    runs: tuple[Run, Run],
    ids: list[str],
    statuses: dict[str, str],
) -> list[TestcaseRow]:
    """Both runs' records of the shown testcases, scored by the run's metrics in both columns."""
    (summary, base_summary), (run, baseline) = summaries, runs
    if not ids:
        return []
    found = session.exec(
        select(Record)
        .where(col(Record.run_id).in_([run.id, baseline.id]), col(Record.testcase_id).in_([int(t) for t in ids]))
        .order_by(col(Record.id))
    )
    trials: dict[tuple[int, str], list[Record]] = defaultdict(list)
    for record in found:
        trials[(record.run_id, str(record.testcase_id))].append(record)
    firsts = [records[0] for records in trials.values()]
    views = {row.record.id: row for row in _rows_by_run(session, summary, base_summary, run, firsts)}

    def side(run_id: int, testcase_id: str) -> Side:
        records = trials.get((run_id, testcase_id), [])
        return Side(views[records[0].id] if records else None, len(records))

    return [TestcaseRow(t, statuses[t], side(run.id, t), side(baseline.id, t)) for t in ids]


def _rows_by_run(
    session: Session, summary: RunSummary, base_summary: RunSummary, run: Run, records: list[Record]
) -> list[RecordRow]:
    """Score cells for the run's metrics; the baseline's records under its own metric versions."""
    in_baseline: list[MetricSummary] = [base_summary.metric(m.metric_id) or m for m in summary.metrics]
    mine = [r for r in records if r.run_id == run.id]
    theirs = [r for r in records if r.run_id != run.id]
    return record_rows(session, summary.metrics, mine) + record_rows(session, in_baseline, theirs)


def _page_arg() -> int:
    raw = request.args.get("page", "")
    if not raw:
        return 1
    number = parse_id(raw)
    if number is None or number < 1:
        raise InvalidField("page", "must be a page number from the page's links, 1 or more")
    return number


def _link(project: Project, run: Run, baseline: Run, current: dict[str, Any], changes: dict[str, Any]) -> str:
    """This comparison's URL with the filter or page changed (a new filter starts at page 1)."""
    args = {**current, **changes}
    if "show" in changes:
        args["page"] = None
    if args["page"] == 1:
        args["page"] = None
    shown = {k: v for k, v in args.items() if v}
    return url_for("ui.compare.compare", project_id=project.id, run=run.id, baseline=baseline.id, **shown)
