"""The projects list and a project's page: its runs (status and source filters, paging, two
ticked to compare), run history charts, and Kickoff Run -> GitHub."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func
from sqlmodel import select

from scorecard_core import report_queries
from scorecard_core.errors import ScorecardError
from scorecard_core.models import Project, Run
from scorecard_core.report import RunSummary
from scorecard_core.runs import SOURCES

from .. import database
from ..api.projects import load_project
from ..error_status import http_status
from .charts import history_chart, history_data
from .formatting import STATUS_GROUPS
from .kickoff import github as kickoff
from .paging import cursor_arg, url_with

bp = Blueprint("projects", __name__)

RUNS_PER_PAGE = 20
HISTORY_RUNS = 30


@dataclass(frozen=True)
class ProjectRow:
    project: Project
    run_count: int
    latest: Run | None


@dataclass(frozen=True)
class RunRow:
    run: Run
    summary: RunSummary


@bp.get("/")
def index():
    session = database.session()
    projects = session.exec(select(Project).order_by(Project.id)).all()
    counts = dict(session.exec(select(Run.project_id, func.count()).group_by(Run.project_id)).all())
    latest_ids = select(func.max(Run.id)).group_by(Run.project_id)
    latest = {r.project_id: r for r in session.exec(select(Run).where(Run.id.in_(latest_ids)))}
    rows = [ProjectRow(p, counts.get(p.id, 0), latest.get(p.id)) for p in projects]
    return render_template("ui/projects.html", rows=rows)


@bp.get("/projects/<project_id>")
def project(project_id: str):
    project = load_project(project_id)
    return _project_page(project, kickoff.panel(project))


@bp.post("/projects/<project_id>/kickoff")
def kick_off(project_id: str):
    project = load_project(project_id)
    form = kickoff.KickoffForm.posted()
    try:
        dispatched = kickoff.start(project, form)
    except ScorecardError as exc:
        # The kickoff may have ended the request's database session: load the project afresh.
        database.session().rollback()
        project = load_project(project_id)
        return _project_page(project, kickoff.panel(project, form, exc), status=http_status(exc))
    flash(dispatched.flash_message(), "ok")
    return redirect(url_for("ui.runs.run", project_id=project.id, run_id=dispatched.run_id))


def _project_page(project: Project, kickoff_panel: kickoff.KickoffPanel, status: int = 200):
    session = database.session()
    problems: list[str] = []
    source = _choice("source", SOURCES, problems)
    group = _choice("status", [g.key for g in STATUS_GROUPS], problems)
    cursor = cursor_arg()

    matching = select(Run).where(Run.project_id == project.id)
    if source:
        matching = matching.where(Run.source == source)
    listed = matching
    if group:
        listed = listed.where(Run.status.in_(next(g for g in STATUS_GROUPS if g.key == group).statuses))
    if cursor is not None:
        listed = listed.where(Run.id < cursor)
    page = list(session.exec(listed.order_by(Run.id.desc()).limit(RUNS_PER_PAGE + 1)))
    next_cursor = page[RUNS_PER_PAGE - 1].id if len(page) > RUNS_PER_PAGE else None
    rows = [RunRow(run, report_queries.figures(session, run)) for run in page[:RUNS_PER_PAGE]]

    recent = session.exec(matching.order_by(Run.id.desc()).limit(HISTORY_RUNS)).all()
    series = report_queries.history(session, recent, None)
    chosen = _chosen_metrics([s["metricId"] for s in series], problems)
    charted_runs = list(reversed(recent))
    shown = [s for s in series if chosen is None or s["metricId"] in chosen]
    charts = [history_chart(s, [str(r.id) for r in charted_runs]) for s in shown]
    return render_template(
        "ui/project.html",
        project=project,
        rows=rows,
        charts=charts,
        history=history_data(shown, charted_runs),
        series=series,
        chosen=chosen,
        sources=SOURCES,
        groups=STATUS_GROUPS,
        source=source,
        group=group,
        cursor=cursor,
        next_cursor=next_cursor,
        problem=" ".join(problems) or None,
        url_with=url_with,
        history_runs=HISTORY_RUNS,
        kickoff=kickoff_panel,
    ), status


def _choice(name: str, allowed: list[str] | tuple[str, ...], problems: list[str]) -> str | None:
    """A filter value; an unknown one is ignored and reported, the page still shows."""
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in allowed:
        problems.append(f"Unknown {name} {value!r}: choose one of {', '.join(allowed)}; showing all.")
        return None
    return value


def _chosen_metrics(available: list[str], problems: list[str]) -> set[str] | None:
    """The metrics picked in the chart selector (``?metric=ID``, repeated); None means all."""
    picked = request.args.getlist("metric")
    if not picked:
        return None
    unknown = [m for m in picked if m not in available]
    if unknown:
        problems.append(f"No run history for metric {', '.join(unknown)} in these runs.")
    return set(picked) - set(unknown) or None
