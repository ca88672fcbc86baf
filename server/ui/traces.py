"""A project's Traces page (its traces newest first, filtered by a GET form, keyset-paged) and the
page of one trace: its span tree with timing bars, the selected span's details (``?span=``), and
the records linked to it. Queries live in ``scorecard_core.trace_queries``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request, url_for

from scorecard_core.errors import InvalidField, NotFound
from scorecard_core.models import Project
from scorecard_core.trace_queries import (
    MAX_TRACE_SPANS,
    linked_records,
    parse_filter,
    service_names,
    trace_page,
    trace_spans,
)

from .. import database
from ..api.projects import load_project
from ..settings import current_settings
from . import trace_view

bp = Blueprint("traces", __name__, url_prefix="/projects/<project_id>/traces")

TRACES_PER_PAGE = 50
FILTER_FIELDS = ("service", "span_name", "q", "from", "to")
TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
# How both pages word times, durations and costs.
WORDS = {
    "moment": trace_view.moment,
    "duration": trace_view.duration,
    "cost_text": trace_view.cost_text,
    "cost_title": trace_view.cost_title,
}


@bp.get("")
def traces(project_id: str):
    project = load_project(project_id)
    session = database.session()
    form = {name: request.args.get(name, "") for name in FILTER_FIELDS}
    filtered = any(value.strip() for value in form.values())
    cursor = request.args.get("cursor") or None
    context: dict[str, Any] = {
        **WORDS,
        "project": project,
        "form": form,
        "filtered": filtered,
        "cursor": cursor,
        "services": service_names(session, project.id),
        "rows": [],
        "next_url": None,
        "problem": None,
        "tracing_url": _server_url() + url_for("otel.export_traces"),
    }
    status = 200
    try:
        wanted = parse_filter(session, request.args)
        page = trace_page(session, project.id, wanted, current_settings().model_prices, TRACES_PER_PAGE, cursor)
    except InvalidField as exc:
        context["problem"], status = f"{exc.message}.", 400
    else:
        context["rows"] = page.rows
        if page.next_cursor:
            context["next_url"] = _list_url(project, form, cursor=page.next_cursor)
    context["first_url"] = _list_url(project, form)
    return render_template("ui/traces.html", **context), status


def _server_url() -> str:
    """This server as the browser reached it; SCORECARD_PUBLIC_URL when it names the same host,
    as its scheme survives a TLS-terminating proxy."""
    public = current_settings().public_url.rstrip("/")
    return public if urlsplit(public).netloc == request.host else request.host_url.rstrip("/")


def _list_url(project: Project, form: dict[str, str], **extra: str) -> str:
    kept = {name: value for name, value in form.items() if value.strip()}
    return url_for("ui.traces.traces", project_id=project.id, **kept, **extra)


@bp.get("/<trace_id>")
def trace(project_id: str, trace_id: str):
    project = load_project(project_id)
    session = database.session()
    spans = trace_spans(session, project.id, trace_id) if TRACE_ID.fullmatch(trace_id) else []
    if not spans:
        raise NotFound(f"Project {project.id} has no trace {trace_id!r}: it was never received or has expired.")
    nodes = trace_view.span_tree(spans)
    wanted = request.args.get("span", "").strip().lower()
    selected = next((node for node in nodes if node.span.span_id == wanted), None) if wanted else nodes[0]
    if selected is None:
        raise InvalidField("span", "names no span of this trace; pick a span from the tree")
    prices = current_settings().model_prices
    return render_template(
        "ui/trace.html",
        **WORDS,
        project=project,
        trace_id=spans[0].trace_id,
        nodes=nodes,
        selected=selected,
        selected_cost=trace_view.span_cost(selected.span, prices),
        trace_cost=trace_view.trace_cost(spans, prices),
        truncated=len(spans) >= MAX_TRACE_SPANS,
        records=linked_records(session, project.id, spans),
    )
