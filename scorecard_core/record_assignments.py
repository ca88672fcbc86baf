"""Who is asked to review a record: assigning twice keeps one assignment."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from .errors import InvalidField
from .models import Record, RecordAssignment, id_of

MAX_USER_ID_LENGTH = 200
# Something besides ASCII whitespace (the same in Python and in JSON Schema's regexes).
USER_ID_PATTERN = r"[^ \t\n\r\f\v]"


def assign(session: Session, record: Record, assignee_user_id: str, assigned_by: str) -> RecordAssignment:
    if not re.search(USER_ID_PATTERN, assignee_user_id):
        raise InvalidField("assigneeUserId", "must name the member to assign")
    if len(assignee_user_id) > MAX_USER_ID_LENGTH:
        raise InvalidField("assigneeUserId", f"is longer than {MAX_USER_ID_LENGTH} characters")
    existing = _find(session, record, assignee_user_id)
    if existing is not None:
        return existing
    assignment = RecordAssignment(
        record_id=id_of(record), assignee_user_id=assignee_user_id, assigned_by_user_id=assigned_by
    )
    session.add(assignment)
    session.flush()
    return assignment


def list_assignments(session: Session, record: Record) -> list[RecordAssignment]:
    statement = select(RecordAssignment).where(col(RecordAssignment.record_id) == record.id)
    return list(session.exec(statement.order_by(col(RecordAssignment.id))))


def unassign(session: Session, record: Record, assignee_user_id: str) -> int:
    """How many assignments were removed: 1, or 0 when the member was not assigned."""
    existing = _find(session, record, assignee_user_id)
    if existing is None:
        return 0
    session.delete(existing)
    session.flush()
    return 1


def _find(session: Session, record: Record, assignee_user_id: str) -> RecordAssignment | None:
    statement = select(RecordAssignment).where(
        col(RecordAssignment.record_id) == record.id, col(RecordAssignment.assignee_user_id) == assignee_user_id
    )
    return session.exec(statement).first()
