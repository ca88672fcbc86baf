"""Members assigned to review a record: assign (idempotent), list, unassign."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, g
from pydantic import WithJsonSchema

from scorecard_core import record_assignments, wire

from .. import database
from .parsing import Body, parse
from .tags import load_record

bp = Blueprint("assignees", __name__)


class AssigneeCreate(Body):
    # Checked by record_assignments.assign, which names what is wrong; documented here.
    assignee_user_id: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": record_assignments.MAX_USER_ID_LENGTH,
                "pattern": record_assignments.USER_ID_PATTERN,
                "description": "who to assign, e.g. an email address",
            }
        ),
    ]


@bp.post("/records/<record_id>/assignees")
def create_assignee(record_id: str):
    record = load_record(record_id)
    body = parse(AssigneeCreate)
    session = database.session()
    known = {a.id for a in record_assignments.list_assignments(session, record)}
    assignment = record_assignments.assign(session, record, body.assignee_user_id, g.user_id)
    session.commit()
    return wire.record_assignment(assignment), 200 if assignment.id in known else 201


@bp.get("/records/<record_id>/assignees")
def list_assignees(record_id: str):
    record = load_record(record_id)
    assignments = record_assignments.list_assignments(database.session(), record)
    return {"data": [wire.record_assignment(a) for a in assignments]}


@bp.delete("/records/<record_id>/assignees/<path:assignee_user_id>")
def delete_assignee(record_id: str, assignee_user_id: str):
    record = load_record(record_id)
    session = database.session()
    deleted = record_assignments.unassign(session, record, assignee_user_id)
    session.commit()
    return {"deleted": deleted}
