"""A run's usage (``usage.RunUsage``) from the database: its records' durations and metadata and
its finished scores' judge usage, read in pages of a few columns, since a run may hold 100k
records and loading them as ORM objects would cost more than the figures are worth."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from .models import Record, Run, Score, id_of, table_of
from .prices import ModelPrice
from .usage import RunUsage, UsageTally

ROWS_PER_QUERY = 2000
FINISHED = ("scored", "error")  # the scores a run's record list shows


def usage_of_run(session: Session, run: Run, prices: Mapping[str, ModelPrice]) -> RunUsage:
    tally = UsageTally()
    records, scores = table_of(Record), table_of(Score)
    record_rows = select(records.c.id, records.c.duration_ms, records.c.call_metadata).where(
        records.c.run_id == id_of(run)
    )
    for _id, duration_ms, metadata in _pages(session, record_rows, records.c.id):
        tally.add_record(duration_ms, metadata)
    score_rows = select(scores.c.id, scores.c.usage).where(scores.c.run_id == id_of(run), scores.c.status.in_(FINISHED))
    for _id, usage in _pages(session, score_rows, scores.c.id):
        tally.add_score(usage)
    return tally.result(prices)


def _pages(session: Session, statement: Any, key: Any) -> Iterator[Any]:
    """The rows of ``statement`` in order of ``key`` (its first column), a page per query."""
    after = 0
    while True:
        rows = session.execute(statement.where(key > after).order_by(key).limit(ROWS_PER_QUERY)).all()
        yield from rows
        if len(rows) < ROWS_PER_QUERY:
            return
        after = rows[-1][0]
