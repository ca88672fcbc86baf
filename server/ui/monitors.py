"""A project's monitors: the list, the create and edit forms, and a monitor's page (its settings,
its latest cycles with each run's pass rates and their intervals, Run now, Pause/Resume, Delete).

The forms go through the settings functions the API uses (``scorecard_core.monitor_settings``),
so a form accepts and refuses exactly what ``PATCH /monitors/{id}`` does; Run now runs the same
cycle as ``POST /monitors/{id}/run`` (``server.monitoring``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func
from sqlmodel import Session, col, select

from scorecard_core import report_queries, wording
from scorecard_core.errors import InvalidField, ScorecardError
from scorecard_core.models import Metric, Monitor, MonitorCycle, Project, Run, id_of
from scorecard_core.monitor_settings import (
    MAX_LOOKBACK_MINUTES,
    MonitorChanges,
    change_monitor,
    check_lookback,
    new_monitor,
)
from scorecard_core.monitors import CycleResult, CycleTaken
from scorecard_core.trace_queries import service_names

from .. import database, monitoring
from ..api.projects import load_project
from .formatting import still_moving, when
from .loading import load_child
from .monitor_form import FREQUENCIES, LABELS, MonitorForm, frequency_words, refusal, whole_number
from .paging import cursor_arg, url_with

bp = Blueprint("monitors", __name__, url_prefix="/projects/<project_id>/monitors")

CYCLES_PER_PAGE = 20


@dataclass(frozen=True)
class RunFigures:
    """A cycle's run as the pages show it: every figure is a pass rate with its 95% interval."""

    run: Run
    overall: str
    metrics: list[tuple[str, str]]  # (metric name, its result)


@dataclass(frozen=True)
class CycleRow:
    cycle: MonitorCycle
    figures: RunFigures | None  # None: nothing sampled, or the run was deleted


@dataclass(frozen=True)
class MonitorRow:
    monitor: Monitor
    last: CycleRow | None  # the latest cycle that made a run


def _load_monitor(project: Project, monitor_id: str) -> Monitor:
    return load_child(Monitor, monitor_id, "monitor", "project_id", project, "project")


def _project_metrics(session: Session, project: Project) -> list[Metric]:
    return list(session.exec(select(Metric).where(col(Metric.project_id) == project.id).order_by(col(Metric.id))))


def run_figures(session: Session, run_id: int | None) -> RunFigures | None:
    run = session.get(Run, run_id) if run_id is not None else None
    if run is None:
        return None
    summary = report_queries.summarize(session, run)
    return RunFigures(
        run,
        wording.rate_with_interval(summary.pass_rate, summary.pass_rate_estimate),
        [(m.name, wording.metric_result(m)) for m in summary.metrics],
    )


def window_words(start: datetime, end: datetime) -> str:
    """A cycle's window, its end's date left out when it is the start's."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    shown = "%H:%M:%S UTC" if start.date() == end.date() else "%Y-%m-%d %H:%M:%S UTC"
    return f"{start:%Y-%m-%d %H:%M:%S} to {end.strftime(shown)}"


def _page_words(project: Project, metrics: list[Metric] | None = None) -> dict[str, Any]:
    """What every monitors page shows: metric names by ID, how a frequency and a window read."""
    if metrics is None:
        metrics = _project_metrics(database.session(), project)
    return {
        "project": project,
        "metric_names": {m.id: m.name for m in metrics},
        "frequency_words": frequency_words,
        "window_words": window_words,
    }


# ---- the list ----


@bp.get("")
def monitors(project_id: str):
    project = load_project(project_id)
    session = database.session()
    listed = list(session.exec(select(Monitor).where(col(Monitor.project_id) == project.id).order_by(col(Monitor.id))))
    latest = dict(
        session.execute(
            select(col(MonitorCycle.monitor_id), func.max(col(MonitorCycle.id)))
            .where(col(MonitorCycle.monitor_id).in_([id_of(m) for m in listed]), col(MonitorCycle.run_id).is_not(None))
            .group_by(col(MonitorCycle.monitor_id))
        ).all()
    )
    rows = []
    for monitor in listed:
        cycle = session.get(MonitorCycle, latest[monitor.id]) if monitor.id in latest else None
        rows.append(MonitorRow(monitor, CycleRow(cycle, run_figures(session, cycle.run_id)) if cycle else None))
    # The list follows the monitors' last runs while one is still being scored, as a monitor's page does.
    following = any(r.last and r.last.figures and still_moving(r.last.figures.run.status) for r in rows)
    return render_template("ui/monitors.html", rows=rows, following=following, **_page_words(project))


# ---- the forms ----


def _form_page(project: Project, monitor: Monitor | None, form: MonitorForm, status: int = 200, **refused: Any):
    session = database.session()
    metrics = _project_metrics(session, project)
    context = {
        **_page_words(project, metrics),
        "monitor": monitor,
        "form": form,
        "metrics": metrics,
        "services": service_names(session, id_of(project)),
        "frequencies": FREQUENCIES,
        "labels": LABELS,
        "invalid": None,
        **refused,
    }
    return render_template("ui/monitor_form.html", **context), status


def _refused(project: Project, monitor: Monitor | None, form: MonitorForm, exc: ScorecardError):
    database.session().rollback()  # nothing stored: not the monitor, nor a metric a line made
    problem, field = form.problem(exc)
    return _form_page(project, monitor, form, 400, problem=problem, invalid=field)


@bp.get("/new")
def new(project_id: str):
    project = load_project(project_id)
    return _form_page(project, None, MonitorForm.prefilled(request.args))


@bp.post("/new")
def create(project_id: str):
    project = load_project(project_id)
    form = MonitorForm.posted()
    session = database.session()
    try:
        monitor = new_monitor(session, id_of(project), form.changes())
        session.commit()
    except ScorecardError as exc:
        return _refused(project, None, form, exc)
    schedule = f"its first cycle is due {when(monitor.next_cycle_at)}" if monitor.active else "it is paused"
    flash(f"Monitor created; {schedule}. Run now samples recent spans at once.", "ok")
    return redirect(url_for("ui.monitors.monitor", project_id=project.id, monitor_id=monitor.id))


@bp.get("/<monitor_id>/edit")
def edit(project_id: str, monitor_id: str):
    project = load_project(project_id)
    monitor = _load_monitor(project, monitor_id)
    return _form_page(project, monitor, MonitorForm.of(monitor))


@bp.post("/<monitor_id>/edit")
def save(project_id: str, monitor_id: str):
    project = load_project(project_id)
    monitor = _load_monitor(project, monitor_id)
    form = MonitorForm.posted()
    session = database.session()
    try:
        change_monitor(session, monitor, form.changes())
        session.commit()
    except ScorecardError as exc:
        return _refused(project, monitor, form, exc)
    flash("Saved. A new frequency, or turning the monitor on, starts its schedule afresh from now.", "ok")
    return redirect(url_for("ui.monitors.monitor", project_id=project.id, monitor_id=monitor.id))


# ---- a monitor's page and its buttons ----


@bp.get("/<monitor_id>")
def monitor(project_id: str, monitor_id: str):
    project = load_project(project_id)
    return _monitor_page(project, _load_monitor(project, monitor_id))


def _monitor_page(project: Project, monitor: Monitor, status: int = 200, **refused: Any):
    session = database.session()
    cursor = cursor_arg()
    listed = select(MonitorCycle).where(col(MonitorCycle.monitor_id) == monitor.id)
    if cursor is not None:
        listed = listed.where(col(MonitorCycle.id) < cursor)
    page = list(session.exec(listed.order_by(col(MonitorCycle.id).desc()).limit(CYCLES_PER_PAGE + 1)))
    cycles = [CycleRow(c, run_figures(session, c.run_id)) for c in page[:CYCLES_PER_PAGE]]
    context = {
        **_page_words(project),
        "monitor": monitor,
        "cycles": cycles,
        "cursor": cursor,
        "next_cursor": page[CYCLES_PER_PAGE - 1].id if len(page) > CYCLES_PER_PAGE else None,
        "url_with": url_with,
        # The page follows its runs while one is still being scored.
        "following": any(c.figures and still_moving(c.figures.run.status) for c in cycles),
        "lookback": refused.pop("lookback", None) or str(monitor.frequency_minutes),
        "max_lookback": MAX_LOOKBACK_MINUTES,
        "invalid": None,
        **refused,
    }
    return render_template("ui/monitor.html", **context), status


@bp.post("/<monitor_id>/run")
def run_now(project_id: str, monitor_id: str):
    project = load_project(project_id)
    monitor = _load_monitor(project, monitor_id)
    typed = request.form.get("lookback_minutes", "")
    try:
        lookback = whole_number(
            typed, "lookbackMinutes", f"must be a whole number of minutes from 1 to {MAX_LOOKBACK_MINUTES}"
        )
        check_lookback(lookback)
    except InvalidField as exc:
        field, message = refusal(exc)
        return _monitor_page(project, monitor, 400, problem=f"{message} No cycle ran.", invalid=field, lookback=typed)
    database.session().rollback()  # the cycle runs in its own transaction
    try:
        result = monitoring.cycles_of(current_app).run_cycle(id_of(monitor), lookback)
    except CycleTaken:
        flash("A cycle of this monitor is running now: try again in a moment.", "error")
    else:
        flash(_cycle_message(result, lookback), "ok")
    return redirect(url_for("ui.monitors.monitor", project_id=project.id, monitor_id=monitor_id))


def _cycle_message(result: CycleResult, lookback: int) -> str:
    cycle = result.cycle
    found = f"Cycle ran over the last {lookback} minute{'' if lookback == 1 else 's'}: {cycle.candidates} matching span"
    found += f"{'' if cycle.candidates == 1 else 's'}, {cycle.sampled} sampled"
    if result.run is None:
        return found + ", so no run was made (a span is sampled once per monitor)."
    return found + f"; run #{result.run.id} scores them."


@bp.post("/<monitor_id>/active")
def pause_or_resume(project_id: str, monitor_id: str):
    project = load_project(project_id)
    monitor = _load_monitor(project, monitor_id)
    active = request.form.get("active") == "on"
    session = database.session()
    change_monitor(session, monitor, MonitorChanges(active=active))
    session.commit()
    if active:
        flash(f"Resumed: the next cycle is due {when(monitor.next_cycle_at)}.", "ok")
    else:
        flash("Paused: no cycle runs on schedule until it is resumed; Run now still works.", "ok")
    return redirect(url_for("ui.monitors.monitor", project_id=project.id, monitor_id=monitor.id))


@bp.post("/<monitor_id>/delete")
def delete(project_id: str, monitor_id: str):
    project = load_project(project_id)
    monitor = _load_monitor(project, monitor_id)
    session = database.session()
    session.delete(monitor)
    session.commit()
    flash(f"Monitor “{monitor.description}” deleted with its cycles; the runs it made stay.", "ok")
    return redirect(url_for("ui.monitors.monitors", project_id=project.id))
