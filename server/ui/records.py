"""Records with their scores: the run page's table and the page of one record, where people
score its human metrics (review_form.py) and move on to the next record awaiting review."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlmodel import Session, select

from scorecard_core.errors import InvalidField, ScorecardError
from scorecard_core.models import Project, Record, Run, Score
from scorecard_core.report import MetricSummary, metric_summary
from scorecard_core.scores import put_score
from scorecard_core.scoring.lifecycle import run_versions, scored_by
from scorecard_core.trace_queries import trace_of_record

from .. import database, scoring
from ..error_status import http_status
from .auth import current_key
from .formatting import ScoreView, score_view
from .loading import load_record, load_run
from .review_form import ReviewDraft, next_awaiting_review, posted_score

bp = Blueprint("records", __name__, url_prefix="/projects/<project_id>/runs/<run_id>/records")

RECORDS_PER_PAGE = 25


@dataclass(frozen=True)
class RecordRow:
    record: Record
    scores: list[ScoreView]  # one per metric of the run, in the run's order


def run_metrics(session: Session, run: Run) -> list[MetricSummary]:
    """The run's metrics as scored (their versions), without tallying any scores."""
    return [metric_summary(str(v.metric_id), v.id, v.config) for v in run_versions(session, run)]


def record_rows(session: Session, metrics: list[MetricSummary], records: list[Record]) -> list[RecordRow]:
    by_record: dict[int, dict[str, Score]] = defaultdict(dict)
    if records:
        for score in session.exec(select(Score).where(Score.record_id.in_([r.id for r in records]))):
            by_record[score.record_id][score.metric_version_id] = score
    return [RecordRow(r, [score_view(by_record[r.id].get(m.metric_version_id), m) for m in metrics]) for r in records]


def records_page(session: Session, run: Run, after: int | None) -> tuple[list[Record], int | None]:
    """One page of a run's records in upload order, and the cursor of the next page."""
    statement = select(Record).where(Record.run_id == run.id)
    if after is not None:
        statement = statement.where(Record.id > after)
    found = list(session.exec(statement.order_by(Record.id).limit(RECORDS_PER_PAGE + 1)))
    next_cursor = found[RECORDS_PER_PAGE - 1].id if len(found) > RECORDS_PER_PAGE else None
    return found[:RECORDS_PER_PAGE], next_cursor


def _neighbour_id(session: Session, record: Record, newer: bool) -> int | None:
    """The ID of the next (or previous) record of the same run, for the record page's links."""
    same_run = select(Record.id).where(Record.run_id == record.run_id)
    if newer:
        statement = same_run.where(Record.id > record.id).order_by(Record.id)
    else:
        statement = same_run.where(Record.id < record.id).order_by(Record.id.desc())
    return session.exec(statement.limit(1)).first()


def _human_version_ids(session: Session, run: Run) -> set[str]:
    return {v.id for v in run_versions(session, run) if scored_by(v.config) == "human"}


@bp.get("/<record_id>")
def record(project_id: str, run_id: str, record_id: str):
    project, run = load_run(project_id, run_id)
    return _record_page(project, run, load_record(run, record_id))


@bp.post("/<record_id>/scores/<metric_version_id>")
def review(project_id: str, run_id: str, record_id: str, metric_version_id: str):
    """A person's score for one human metric, stored as the API's score upsert stores it."""
    project, run = load_run(project_id, run_id)
    record = load_record(run, record_id)
    session = database.session()
    metric = next((m for m in run_metrics(session, run) if m.metric_version_id == metric_version_id), None)
    draft = ReviewDraft(request.form.get("value", ""), request.form.get("reasoning", ""))
    if metric is None or metric_version_id not in _human_version_ids(session, run):
        problem = "That metric is not one people score in this run; reload the page and use its forms."
        return _record_page(project, run, record, problem=problem, status=400)
    key = current_key()
    try:
        put_score(session, record, metric_version_id, posted_score(metric, draft), key.name if key else None)
    except ScorecardError as exc:
        session.rollback()
        message = f"{exc.field} {exc.problem}" if isinstance(exc, InvalidField) else exc.message
        problem = f"{message}. Nothing was saved: correct it and save again."
        record = load_record(run, record_id)
        return _record_page(
            project, run, record, drafts={metric_version_id: draft}, problem=problem, status=http_status(exc)
        )
    session.commit()
    scoring.stored(session)
    flash(f"Saved the score of {metric.name} for record #{record.id}.", "ok")
    following = next_awaiting_review(session, run.id, record.id)
    if following is None:
        flash(f"The review queue of run #{run.id} is empty: every human metric has its score.", "ok")
        following = record.id
    return redirect(url_for("ui.records.record", project_id=project.id, run_id=run.id, record_id=following))


def _record_page(
    project: Project,
    run: Run,
    record: Record,
    drafts: dict[str, ReviewDraft] | None = None,
    problem: str | None = None,
    status: int = 200,
):
    session = database.session()
    (row,) = record_rows(session, run_metrics(session, run), [record])
    reviewable = _human_version_ids(session, run) if record.error is None else set()
    awaiting = [
        v.metric.metric_version_id
        for v in row.scores
        if v.state == "pending" and v.metric.metric_version_id in reviewable
    ]
    # The keyboard starts in the refused form, else in the first score awaiting review.
    focus = next(iter(drafts or {}), None) or next(iter(awaiting), None)
    return render_template(
        "ui/record.html",
        project=project,
        run=run,
        row=row,
        reviewable=reviewable,
        drafts=drafts or {},
        focus=focus,
        problem=problem,
        previous_id=_neighbour_id(session, record, newer=False),
        next_id=_neighbour_id(session, record, newer=True),
        trace_id=trace_of_record(session, project.id, record),
    ), status
