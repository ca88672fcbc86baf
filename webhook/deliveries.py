"""The deliveries log: each ``X-GitHub-Delivery`` is processed once.

GitHub redelivers on timeouts and people press "Redeliver" by hand, sometimes while the first
attempt is still running. The row is inserted *before* any work: the primary key makes a
duplicate fail to insert, whatever the timing. A failed delivery is claimed again by a single
conditional UPDATE, so two redeliveries of it cannot both win; so is one left unfinished for
longer than any handler runs (the process died with it queued or under way).

Every write is one short Core statement in its own transaction: the acknowledgement waits for the
insert, so it must not wait for the ORM's unit of work too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta

from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from scorecard_core.models import WebhookDelivery, utcnow

RECEIVED, PROCESSING, PROCESSED, FAILED, IGNORED = "received", "processing", "processed", "failed", "ignored"
MAX_ERROR_CHARS = 2000
# Longer than any handler runs (the longest, the standalone service's wait for scores, gives up
# after 30 minutes).
ABANDONED_AFTER = timedelta(hours=2)

_table = WebhookDelivery.__table__
# SQLite takes one writer at a time and makes the others poll with growing sleeps (1, 2, 5 ... 100
# ms): a burst of deliveries, each written by a request thread and twice more by a background job,
# turned that into acknowledgements of half a second. This process's writers of the log queue on a
# lock instead, each woken as soon as the previous one commits. PostgreSQL needs no such turn.
_sqlite_writer = threading.Lock()
# Built once: building a statement costs more than running it; the values come as parameters.
_INSERT = insert(_table)
_UPDATE_BY_ID = update(_table).where(_table.c.id == bindparam("delivery_id"))


class DeliveryLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    def claim(self, delivery_id: str, event: str, action: str | None) -> bool:
        """Record a delivery to process. True when the caller should process it: it is new, or
        an earlier attempt failed or was abandoned; False for a duplicate of one processed or
        under way."""
        if self._insert(id=delivery_id, event=event, action=action, status=RECEIVED, attempts=1, processed_at=None):
            return True
        now = utcnow()
        abandoned = _table.c.status.in_((RECEIVED, PROCESSING)) & (_table.c.received_at < now - ABANDONED_AFTER)
        with self._writing() as connection:
            reclaimed = connection.execute(
                update(_table)
                .where(_table.c.id == delivery_id, or_(_table.c.status == FAILED, abandoned))
                .values(status=RECEIVED, attempts=_table.c.attempts + 1, error=None, received_at=now,
                        processed_at=None)
            )
        return reclaimed.rowcount == 1

    def record_ignored(self, delivery_id: str, event: str, action: str | None) -> None:
        """Keep a trace of what GitHub sent that we do not handle (a repeat changes nothing)."""
        self._insert(id=delivery_id, event=event, action=action, status=IGNORED, attempts=0, processed_at=utcnow())

    def start(self, delivery_id: str) -> None:
        self._set(delivery_id, status=PROCESSING)

    def finish(self, delivery_id: str) -> None:
        self._set(delivery_id, status=PROCESSED, processed_at=utcnow())

    def fail(self, delivery_id: str, error: str) -> None:
        self._set(delivery_id, status=FAILED, error=error[:MAX_ERROR_CHARS], processed_at=utcnow())

    def _insert(self, **values: object) -> bool:
        try:
            with self._writing() as connection:
                connection.execute(_INSERT, {**values, "received_at": utcnow()})
        except IntegrityError:  # the primary key: this delivery ID is already recorded
            return False
        return True

    def _set(self, delivery_id: str, **values: object) -> None:
        with self._writing() as connection:
            connection.execute(_UPDATE_BY_ID, {"delivery_id": delivery_id, **values})

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction that commits on success, taken in turn on SQLite."""
        with _sqlite_writer if self.engine.dialect.name == "sqlite" else nullcontext():
            with self.engine.begin() as connection:
                yield connection
