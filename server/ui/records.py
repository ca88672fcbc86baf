"""Records with their scores: the run page's table and the page of one record."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, render_template
from sqlmodel import Session, select

from scorecard_core.models import Record, Run, Score
from scorecard_core.report import MetricSummary, metric_summary
from scorecard_core.scoring.lifecycle import run_versions

from .. import database
from .formatting import ScoreView, score_view
from .loading import load_record, load_run

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


@bp.get("/<record_id>")
def record(project_id: str, run_id: str, record_id: str):
    project, run = load_run(project_id, run_id)
    record = load_record(run, record_id)
    session = database.session()
    (row,) = record_rows(session, run_metrics(session, run), [record])
    return render_template(
        "ui/record.html",
        project=project,
        run=run,
        row=row,
        previous_id=_neighbour_id(session, record, newer=False),
        next_id=_neighbour_id(session, record, newer=True),
    )
