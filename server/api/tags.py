"""Tags on records: apply (idempotent), list, remove by text. Lists of a run's records filter by
tags in records.py."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g
from pydantic import WithJsonSchema

from scorecard_core import record_tags, wire
from scorecard_core.runs import get_record

from .. import database
from .parsing import Body, parse, path_id

bp = Blueprint("tags", __name__)


class TagCreate(Body):
    # Checked by record_tags.check_text, which names what is wrong; documented here.
    text: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": record_tags.MAX_TAG_LENGTH,
                "pattern": record_tags.TAG_PATTERN,
                "description": "no comma, not blank; applying a tag the record has is a no-op",
            }
        ),
    ]


def load_record(record_id: str):
    return get_record(database.session(), path_id(record_id, "record"))


@bp.post("/records/<record_id>/tags")
def create_tag(record_id: str):
    record = load_record(record_id)
    body = parse(TagCreate)
    session = database.session()
    known = {t.id for t in record_tags.list_tags(session, record)}
    tag = record_tags.add_tag(session, record, body.text, g.user_id)
    session.commit()
    return wire.record_tag(tag), 200 if tag.id in known else 201


@bp.get("/records/<record_id>/tags")
def list_tags(record_id: str):
    record = load_record(record_id)
    return {"data": [wire.record_tag(t) for t in record_tags.list_tags(database.session(), record)]}


@bp.delete("/records/<record_id>/tags/<path:text>")
def delete_tag(record_id: str, text: str):
    record = load_record(record_id)
    session = database.session()
    deleted = record_tags.remove_tag(session, record, text)
    session.commit()
    return {"deleted": deleted}
