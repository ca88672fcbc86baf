"""A project's records across its runs, searched and filtered (our extension).

``GET /projects/{projectId}/records?q=refund&filter=metric.12:fail&filter=source:api`` answers the
newest records first, each with its ``runId`` and scores; one ``filter`` per pill, AND-ed
(``scorecard_core.records_search`` says what each pill keeps). The page has no ``total``: counting
every match of a search would cost more than the page itself.
"""

from __future__ import annotations

from flask import Blueprint, request

from scorecard_core import records_search, wire
from scorecard_core.models import id_of

from .. import database
from .parsing import limit_arg
from .projects import load_project

bp = Blueprint("project_records", __name__)


@bp.get("/projects/<project_id>/records")
def search_records(project_id: str):
    project = load_project(project_id)
    query = records_search.parse_query(request.args.get("q", ""), request.args.getlist("filter"))
    page = records_search.search_records(
        database.session(), id_of(project), query, limit_arg(), request.args.get("cursor") or None
    )
    data = [wire.record(record, page.scores_by_record.get(record.id or 0, [])) for record in page.records]
    return {"data": data, "nextCursor": page.next_cursor, "hasMore": page.next_cursor is not None}
