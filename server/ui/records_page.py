"""The project's Records page: every record across its runs, newest first, with full-text search,
``key:value`` filter pills, chosen field columns, a score column per metric, a records-over-time
histogram whose bars filter by period, bulk re-score and a CSV of the filtered set.

The search is the URL: ``q``, one ``filter`` per pill and ``cursor``. Without JavaScript pills
are typed into ``pills``, space-separated, and join the ``filter`` list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from sqlmodel import col, select
from werkzeug.datastructures import MultiDict

from scorecard_core import records_table
from scorecard_core.errors import BadRequest, InvalidField
from scorecard_core.models import Metric, MetricVersion, Project
from scorecard_core.record_rescore import RescoreOutcome, rescore_records
from scorecard_core.records_search import (
    RecordPage,
    RecordQuery,
    count_by_period,
    matching_record_ids,
    parse_query,
    period_pills,
    search_records,
)
from scorecard_core.report import metric_summary
from scorecard_core.runs import SOURCES

from .. import database, scoring
from ..api.projects import load_project
from .formatting import ScoreView, score_view
from .loading import picked_metrics
from .record_columns import Column, available_columns, chosen_columns, remember
from .record_histogram import histogram

bp = Blueprint("records_page", __name__, url_prefix="/projects/<project_id>/records")

RECORDS_PER_PAGE = 50
MAX_BULK_RECORDS = 5_000  # a bulk re-score of more is refused: narrow the filter first


@dataclass(frozen=True)
class Search:
    """What the page searches for, as typed: the query text and the pills."""

    q: str
    filters: list[str]

    @classmethod
    def of(cls, args: MultiDict) -> Search:
        filters = [f.strip() for f in args.getlist("filter") if f.strip()]
        filters += args.get("pills", "").split()
        return cls(args.get("q", "").strip(), list(dict.fromkeys(filters)))

    def params(self, **extra: Any) -> list[tuple[str, Any]]:
        pairs: list[tuple[str, Any]] = [("q", self.q)] if self.q else []
        pairs += [("filter", f) for f in self.filters]
        return pairs + [(k, v) for k, v in extra.items() if v is not None]

    def without(self, pill: str) -> Search:
        return Search(self.q, [f for f in self.filters if f != pill])

    def with_period(self, start: datetime, end: datetime) -> Search:
        """Filtered to one period instead of any created range before."""
        kept = [f for f in self.filters if not f.startswith(("created>:", "created<:"))]
        return Search(self.q, [*kept, *period_pills(start, end)])


@dataclass(frozen=True)
class Row:
    record: Any
    run: Any
    fields: list[Any]
    scores: list[ScoreView]


def page_url(project: Project, search: Search, endpoint: str = "ui.records_page.records", **extra: Any) -> str:
    base = url_for(endpoint, project_id=project.id)
    query = urlencode(search.params(**extra))
    return f"{base}?{query}" if query else base


@bp.get("")
def records(project_id: str):
    project = load_project(project_id)
    return _page(project, Search.of(request.args))


def _page(project: Project, search: Search, problem: str | None = None, status: int = 200) -> Response:
    session = database.session()
    metrics = records_table.project_metrics(session, project.id)
    columns, remember_columns = chosen_columns(request, project.id)
    context: dict[str, Any] = {
        "project": project,
        "search": search,
        "metrics": metrics,
        "columns": columns,
        "page_url": lambda s, **extra: page_url(project, s, **extra),
        "csv_url": page_url(project, search, endpoint="ui.records_page.export_csv"),
        "sources": SOURCES,
        "rows": [],
        "available": columns,
        "histogram": None,
        "next_cursor": None,
        "cursor": request.args.get("cursor") or None,
    }
    try:
        query = _parse(search)
        found = search_records(session, project.id, query, RECORDS_PER_PAGE, context["cursor"])
    except InvalidField as exc:
        problem, status = exc.message, 400
    else:
        context.update(
            rows=_rows(found, metrics, columns),
            available=available_columns(found.records, columns),
            next_cursor=found.next_cursor,
            histogram=histogram(
                count_by_period(session, project.id, query),
                lambda start, end: page_url(project, search.with_period(start, end)),
            ),
        )
    response = make_response(render_template("ui/records.html", problem=problem, **context), status)
    if remember_columns:
        remember(response, project.id, columns, url_for("ui.records_page.records", project_id=project.id))
    return response


def _parse(search: Search) -> RecordQuery:
    return parse_query(search.q, search.filters)


def _rows(found: RecordPage, metrics: list[Metric], columns: list[Column]) -> list[Row]:
    session = database.session()
    version_ids = {v for run in found.run_of.values() for v in run.metric_version_ids}
    versions = {v.id: v for v in session.exec(select(MetricVersion).where(col(MetricVersion.id).in_(version_ids)))}
    rows = []
    for record in found.records:
        run = found.run_of[record.id]
        run_versions = records_table.run_version_ids(run)
        scores = records_table.scores_per_metric(run, found.scores_by_record.get(record.id, []), metrics)
        views = []
        for metric, score in zip(metrics, scores):
            version = versions.get(run_versions.get(metric.id, ""))
            summary = metric_summary(str(metric.id), version.id, version.config) if version else None
            views.append(score_view(score, summary) if summary else None)
        rows.append(Row(record, run, [c.value_of(record) for c in columns], views))
    return rows


@bp.post("/rescore")
def rescore(project_id: str):
    project = load_project(project_id)
    search = Search.of(request.form)
    back = page_url(project, search)
    try:
        metrics = picked_metrics(project, request.form.getlist("metric_id"), "re-score")
        record_ids = _records_to_rescore(project, search)
    except BadRequest as exc:
        return _page(project, search, exc.message, 400)
    session = database.session()
    outcome = rescore_records(session, project.id, record_ids, metrics, fresh=bool(request.form.get("fresh")))
    session.commit()
    scoring.stored(session)
    flash(_rescore_message(len(record_ids), outcome), "ok")
    return redirect(back)


def _records_to_rescore(project: Project, search: Search) -> list[int]:
    if request.form.get("scope") == "all":
        query = _parse(search)
        ids = matching_record_ids(database.session(), project.id, query, MAX_BULK_RECORDS + 1)
        if len(ids) > MAX_BULK_RECORDS:
            raise BadRequest(
                f"More than {MAX_BULK_RECORDS:,} records match; narrow the search or filters to re-score them."
            )
        if not ids:
            raise BadRequest("No records match the search and filters; nothing to re-score.")
        return list(ids)
    ticked = [r.strip() for r in request.form.getlist("record_id")]
    ids = [int(r) for r in ticked if r.isdigit() and len(r) < 19]
    if not ticked:
        raise InvalidField("record_id", "is empty: tick the records to re-score, or re-score all filtered records")
    if len(ids) != len(ticked):
        raise InvalidField("record_id", "must be record IDs from the table; reload the page")
    if len(ids) > MAX_BULK_RECORDS:
        raise InvalidField("record_id", f"lists more than {MAX_BULK_RECORDS:,} records; tick fewer")
    return ids


def _rescore_message(asked: int, outcome: RescoreOutcome) -> str:
    if not outcome.queued:
        return (
            f"Nothing was queued: none of the {asked} record(s) was scored with the chosen metrics "
            "(or their system calls failed)."
        )
    text = f"Queued {outcome.queued} score(s) of {asked} record(s) across {outcome.runs} run(s) for re-scoring."
    for run_id, names in sorted(outcome.whole_runs.items()):
        text += (
            f" Run #{run_id} is re-scored whole for {', '.join(names)}: "
            "the metric changed since that run was scored, and a run keeps one version of each metric."
        )
    return text


@bp.get("/export.csv")
def export_csv(project_id: str):
    """The filtered set, newest first, streamed (cells escaped as the run export's are)."""
    project = load_project(project_id)
    query = _parse(Search.of(request.args))
    # A pill naming another project's metric is refused here, before the download starts.
    matching_record_ids(database.session(), project.id, query, 1)
    return Response(
        records_table.stream_csv(database.engine(), project.id, query),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="project-{project.id}-records.csv"'},
    )
