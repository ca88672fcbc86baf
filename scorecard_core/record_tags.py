"""Tags on records (``urgent``, ``env:prod``), and the filter of a run's records by tags.

Applying a tag twice keeps one row. Tag texts hold no comma: the official SDK sends a filter of
several tags comma-separated, so a comma inside one tag could never be filtered on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from .errors import InvalidField
from .models import Record, RecordTag, id_of

MAX_TAG_LENGTH = 200
MAX_FILTER_TAGS = 100
# No comma, not only whitespace (ASCII whitespace: the same in Python and in JSON Schema's regexes).
TAG_PATTERN = r"^[^,]*[^, \t\n\r\f\v][^,]*$"


def check_text(text: str, field: str = "text") -> str:
    if len(text) > MAX_TAG_LENGTH:
        raise InvalidField(field, f"is longer than {MAX_TAG_LENGTH} characters")
    if "," in text:
        raise InvalidField(field, "must not contain a comma (filters list several tags comma-separated)")
    if not re.fullmatch(TAG_PATTERN, text):
        raise InvalidField(field, "must be a non-empty tag such as `urgent`")
    return text


def add_tag(session: Session, record: Record, text: str, user_id: str | None) -> RecordTag:
    """The record's tag with this text, created unless it exists."""
    check_text(text)
    existing = session.exec(
        select(RecordTag).where(col(RecordTag.record_id) == record.id, col(RecordTag.text) == text)
    ).first()
    if existing is not None:
        return existing
    tag = RecordTag(record_id=id_of(record), text=text, user_id=user_id)
    session.add(tag)
    session.flush()
    return tag


def list_tags(session: Session, record: Record) -> list[RecordTag]:
    return list(
        session.exec(select(RecordTag).where(col(RecordTag.record_id) == record.id).order_by(col(RecordTag.id)))
    )


def remove_tag(session: Session, record: Record, text: str) -> int:
    """How many tags were removed: 1, or 0 when the record did not carry it."""
    tag = session.exec(
        select(RecordTag).where(col(RecordTag.record_id) == record.id, col(RecordTag.text) == text)
    ).first()
    if tag is None:
        return 0
    session.delete(tag)
    session.flush()
    return 1


def parse_filter(values: Sequence[str], field: str = "tags") -> list[str]:
    """The tags of ``?tags=a&tags=b`` or ``?tags=a,b`` (the SDK's form), without repeats."""
    tags = list(dict.fromkeys(t for value in values for t in value.split(",") if t))
    if len(tags) > MAX_FILTER_TAGS:
        raise InvalidField(field, f"lists more than {MAX_FILTER_TAGS} tags")
    return tags


def carrying_all(statement: Any, tags: Sequence[str]) -> Any:
    """``statement`` over records, kept to the records that carry every one of ``tags``: a record
    has each text at most once, so carrying as many of them as there are tags means all."""
    if not tags:
        return statement
    carriers = (
        select(col(RecordTag.record_id))
        .where(col(RecordTag.text).in_(tags))
        .group_by(col(RecordTag.record_id))
        .having(func.count() == len(tags))
    )
    return statement.where(col(Record.id).in_(carriers))
