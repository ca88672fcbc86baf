"""Annotations (thumbs up or down, comments) on a record. Scorecard takes them in its web app, and
neither its API nor this server has a way to create one, so a record's list is empty; the route
exists so the official SDK's ``records.annotations.list`` works, and answers 404 for an unknown
record like every other record route."""

from __future__ import annotations

from flask import Blueprint

from .tags import load_record

bp = Blueprint("annotations", __name__)


@bp.get("/records/<record_id>/annotations")
def list_annotations(record_id: str):
    load_record(record_id)
    return {"data": []}
