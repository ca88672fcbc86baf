"""A run's page: status explanation, per-metric figures with their intervals, the comparison with
a baseline run, latency, tokens and cost, git context, system version, notes, re-run scoring, CSV
export and the records table."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from scorecard_core import report_queries
from scorecard_core import runs as run_logic
from scorecard_core.errors import BadRequest
from scorecard_core.ids import parse_id
from scorecard_core.models import Metric, Monitor, MonitorCycle, Project, Run, System, SystemVersion, Testset
from scorecard_core.scoring.lifecycle import rescore

from .. import database, scoring
from ..api import results
from .evidence import evidence
from .git import git_links
from .loading import load_run, picked_metrics
from .paging import cursor_arg
from .records import record_rows, records_page

bp = Blueprint("runs", __name__, url_prefix="/projects/<project_id>/runs/<run_id>")

MAX_NOTES_CHARS = 100_000  # as the API allows


@bp.get("")
def run(project_id: str, run_id: str):
    project, run = load_run(project_id, run_id)
    return _run_page(project, run)


@bp.post("/notes")
def save_notes(project_id: str, run_id: str):
    project, run = load_run(project_id, run_id)
    notes = request.form.get("notes", "").replace("\r\n", "\n")
    problem = _notes_problem(notes)
    if problem:
        return _run_page(project, run, status=400, problem=problem, notes_draft=notes)
    session = database.session()
    run_logic.update_run(session, run, notes=notes)
    session.commit()
    flash("Notes saved.", "ok")
    return redirect(url_for("ui.runs.run", project_id=project.id, run_id=run.id))


def _notes_problem(notes: str) -> str | None:
    if len(notes) > MAX_NOTES_CHARS:
        return f"Notes are {len(notes):,} characters long; keep them under {MAX_NOTES_CHARS:,}. Nothing was saved."
    if "\x00" in notes:
        return "Notes cannot contain NUL characters; remove them and save again."
    return None


@bp.post("/rescore")
def rescore_run(project_id: str, run_id: str):
    project, run = load_run(project_id, run_id)
    picked = request.form.getlist("metric_id")
    session = database.session()
    try:
        metrics = picked_metrics(project, picked, "re-score")
    except BadRequest as exc:
        return _run_page(project, run, status=400, problem=exc.message, picked=picked)
    # A ticked "ask the judge again" box: judge every record anew rather than reuse cached answers.
    fresh = bool(request.form.get("fresh"))
    rescore(session, run, metrics, fresh=fresh)
    session.commit()
    scoring.stored(session)
    names = ", ".join(m.name for m in metrics)
    asking = ", asking the judge again" if fresh else ""
    flash(f"Re-scoring started with {len(metrics)} metric(s){asking}: {names}.", "ok")
    return redirect(url_for("ui.runs.run", project_id=project.id, run_id=run.id))


@bp.get("/export.csv")
def export_csv(project_id: str, run_id: str):
    """The same download as the API's ``/runs/{id}/export.csv``, for a signed-in browser."""
    _project, run = load_run(project_id, run_id)
    return results.export_run(str(run.id))


def _monitor_of(session: Session, run: Run) -> Monitor | None:
    """The monitor whose cycle made ``run`` (a run with source ``monitor``), if it still exists."""
    if run.source != "monitor":
        return None
    return session.exec(
        select(Monitor)
        .join(MonitorCycle, col(MonitorCycle.monitor_id) == Monitor.id)
        .where(MonitorCycle.run_id == run.id)
    ).first()


def _run_page(
    project: Project,
    run: Run,
    status: int = 200,
    problem: str | None = None,
    notes_draft: str | None = None,
    picked: list[str] | None = None,
):
    session = database.session()
    summary = report_queries.summarize(session, run)
    cursor = cursor_arg()
    records, next_cursor = records_page(session, run, cursor)
    version = session.get(SystemVersion, run.system_version_id) if run.system_version_id else None
    context: dict[str, Any] = {
        "project": project,
        "run": run,
        "summary": summary,
        "evidence": evidence(session, project, run, summary, request.args.get("baseline")),
        "baseline_arg": request.args.get("baseline") or None,
        "problem": problem,
        "rows": record_rows(session, summary.metrics, records),
        "next_cursor": next_cursor,
        "cursor": cursor,
        "detail": run.status_detail or {},
        "git": git_links(run.git or {}),
        "testset": session.get(Testset, run.testset_id) if run.testset_id else None,
        "version": version,
        "system": session.get(System, version.system_id) if version else None,
        "monitor": _monitor_of(session, run),
        # After a refused form, show what was typed or picked, with the form open.
        "notes": run.notes if notes_draft is None else notes_draft,
        "details_open": notes_draft is not None,
        "picked": set(map(parse_id, picked)) if picked is not None else set(run.metric_ids),
        "rescore_open": picked is not None,
        "fresh": picked is not None and bool(request.form.get("fresh")),
        "project_metrics": session.exec(
            select(Metric).where(Metric.project_id == project.id).order_by(Metric.id)
        ).all(),
    }
    return render_template("ui/run.html", **context), status
