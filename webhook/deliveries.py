"""The deliveries log: each ``X-GitHub-Delivery`` is processed once.

GitHub redelivers on timeouts and people press "Redeliver" by hand, sometimes while the first
attempt is still running. The row is inserted *before* any work: the primary key makes a
duplicate fail to insert, whatever the timing. A failed delivery is claimed again by a single
conditional UPDATE, so two redeliveries of it cannot both win; so is one left unfinished for
longer than any handler runs (the process died with it queued or under way).

Every write is one Core statement that commits by itself (autocommit): the acknowledgement waits
for the insert, so it must not wait for the ORM's unit of work, nor for other writers. On SQLite a
transaction holds the database's single write lock until its COMMIT; between statement and COMMIT
the thread needs the GIL back, which under load takes milliseconds, and meanwhile every other
writer polls the lock with growing sleeps (1, 2, 5 ... 100 ms). A statement that commits by itself
holds the lock only while SQLite runs it, with the GIL released."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import bindparam, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from scorecard_core.models import WebhookDelivery, utcnow
from scorecard_core.storable import storable_text

RECEIVED, PROCESSING, PROCESSED, FAILED, IGNORED = "received", "processing", "processed", "failed", "ignored"
MAX_ERROR_CHARS = 2000
# Longer than any handler runs (the longest, the standalone service's wait for scores, gives up
# after 30 minutes).
ABANDONED_AFTER = timedelta(hours=2)

_table = WebhookDelivery.__table__
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
        reclaimed = self._commit(
            update(_table)
            .where(_table.c.id == delivery_id, or_(_table.c.status == FAILED, abandoned))
            .values(status=RECEIVED, attempts=_table.c.attempts + 1, error=None, received_at=now, processed_at=None)
        )
        return reclaimed == 1

    def record_ignored(self, delivery_id: str, event: str, action: str | None) -> None:
        """Keep a trace of what GitHub sent that we do not handle (a repeat changes nothing)."""
        self._insert(id=delivery_id, event=event, action=action, status=IGNORED, attempts=0, processed_at=utcnow())

    def start(self, delivery_id: str) -> None:
        self._set(delivery_id, status=PROCESSING)

    def finish(self, delivery_id: str) -> None:
        self._set(delivery_id, status=PROCESSED, processed_at=utcnow())

    def fail(self, delivery_id: str, error: str) -> None:
        # The reason can quote the payload or GitHub's answer.
        self._set(delivery_id, status=FAILED, error=storable_text(error)[:MAX_ERROR_CHARS], processed_at=utcnow())

    def _insert(self, **values: object) -> bool:
        try:
            self._commit(_INSERT, {**values, "received_at": utcnow()})
        except IntegrityError:  # the primary key: this delivery ID is already recorded
            return False
        return True

    def _set(self, delivery_id: str, **values: object) -> None:
        self._commit(_UPDATE_BY_ID, {"delivery_id": delivery_id, **values})

    def _commit(self, statement: Executable, parameters: Mapping[str, object] | None = None) -> int:
        """Run one statement that commits by itself; the count of rows it changed."""
        with self.engine.connect() as connection:
            return connection.execution_options(isolation_level="AUTOCOMMIT").execute(statement, parameters).rowcount
