"""Monitors: a project's recent spans, sampled on a schedule, become runs with source ``monitor``.

Each cycle looks at the spans received in its window that carry a model call's input or output,
keeps those matching the monitor's filters, samples whole traces by a hash of the trace ID (a
trace is in or out the same way every time, and one taken at some rate is taken at every higher
rate), and stores each sampled span as a record of a new run scored by the monitor's metrics, up
to ``max_records`` a cycle (the next cycle goes on from where a full one stopped).

Two guarantees, both held by the database rather than by one process's memory:

- **A span is sampled into one cycle of a monitor at most.** ``monitor_sample`` is keyed by
  (monitor, span); a cycle that would take a span again fails whole and stores nothing.
- **One cycle of a monitor at a time, none lost or repeated across restarts.** A process claims a
  cycle by writing a token and a lease into the monitor's row, then runs the whole cycle (run,
  records, samples, the next due time) in one transaction that first checks the token is still
  its own. A process that dies mid-cycle commits nothing; once its lease lapses another process
  (or the same one restarted) runs the cycle from the start.

A scheduled window ends ``settle`` seconds ago: a span is stamped when its export request is
read, and a request still committing must not fall between two windows.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .errors import Conflict, NotFound
from .models import Metric, Monitor, MonitorCycle, MonitorSample, Run, Span, id_of, table_of, utcnow
from .runs import RecordInput, add_records, create_run, end_execution
from .trace_queries import text_in

log = logging.getLogger(__name__)

# Long enough for any cycle (10,000 spans take well under two seconds): a lease that lapsed
# means the process holding it died.
CYCLE_LEASE = timedelta(minutes=5)
DUE_PER_ROUND = 100
SPANS_PER_READ = 500
# A cycle's records at most, by default: a busy service at a high rate makes several runs (a
# cycle each period), not one too big to judge, read or compare.
MAX_RECORDS_PER_CYCLE = 10_000


def sampled(trace_id: str, sample_rate: int) -> bool:
    """Whether a trace is in a ``sample_rate`` percent sample: a hash of its ID, so the answer
    never changes, and a trace sampled at some rate is sampled at every higher one."""
    digest = hashlib.blake2b(trace_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") * 100 < sample_rate * 2**64


@dataclass
class Window:
    start: datetime
    end: datetime
    trigger: str  # schedule | manual
    # Where the next scheduled window starts: this one's end, unless a full cycle cut it short.
    resume_at: datetime | None = None


@dataclass
class CycleResult:
    cycle: MonitorCycle
    run: Run | None


class CycleTaken(Conflict):
    """Another process is running this monitor's cycle (or took it over)."""


class MonitorCycles:
    """Runs monitors' cycles against the database behind ``engine``; ``on_new_run`` hears of each
    run a cycle stored (to wake scoring)."""

    def __init__(
        self,
        engine: Engine,
        on_new_run: Callable[[int], None] | None = None,
        settle_seconds: float = 60,
        max_records: int = MAX_RECORDS_PER_CYCLE,
    ):
        self._engine = engine
        self._on_new_run = on_new_run
        self._settle = timedelta(seconds=settle_seconds)
        self._max_records = max_records

    def run_due(self, now: datetime | None = None) -> list[int]:
        """Run every active monitor's cycle that is due and not held; the cycles' IDs."""
        now = now or utcnow()
        with Session(self._engine) as session:
            due = session.exec(
                select(col(Monitor.id))
                .where(col(Monitor.active), col(Monitor.next_cycle_at) <= now, _free(now))
                .order_by(col(Monitor.next_cycle_at))
                .limit(DUE_PER_ROUND)
            ).all()
        done = []
        for monitor_id in due:
            assert monitor_id is not None
            try:
                result = self.run_cycle(monitor_id, None, now)
            except CycleTaken:
                continue  # another process claimed it between the two statements
            except Exception:
                log.exception("monitor %s: the cycle failed; it is tried again once its lease lapses", monitor_id)
                continue
            done.append(id_of(result.cycle))
        return done

    def run_cycle(self, monitor_id: int, lookback_minutes: int | None, now: datetime | None = None) -> CycleResult:
        """One cycle: the scheduled one when ``lookback_minutes`` is None (refused unless due),
        else a manual one over the last ``lookback_minutes`` (the schedule is left as it is)."""
        now = now or utcnow()
        token = self._claim(monitor_id, scheduled=lookback_minutes is None, now=now)
        try:
            with Session(self._engine) as session:
                monitor = self._hold(session, monitor_id, token)
                if lookback_minutes is None:
                    start = monitor.sampled_through or now - timedelta(minutes=monitor.frequency_minutes)
                    window = Window(start, max(start, now - self._settle), "schedule")
                else:
                    window = Window(now - timedelta(minutes=lookback_minutes), now, "manual")
                result = _sample(session, monitor, window, self._max_records)
                _release(session, monitor, window, now)
                session.commit()
                session.refresh(result.cycle)
                if result.run is not None:
                    session.refresh(result.run)
        except IntegrityError:
            self._let_go(monitor_id, token)
            raise CycleTaken(
                "Another cycle of this monitor sampled the same spans at the same moment; this one stored nothing"
            ) from None
        except BaseException:
            self._let_go(monitor_id, token)
            raise
        if result.run is not None and self._on_new_run is not None:
            self._on_new_run(id_of(result.run))
        return result

    def _claim(self, monitor_id: int, scheduled: bool, now: datetime) -> str:
        token = uuid.uuid4().hex
        monitors = table_of(Monitor)
        conditions = [monitors.c.id == monitor_id, _free(now)]
        if scheduled:
            conditions += [monitors.c.active, monitors.c.next_cycle_at <= now]
        with Session(self._engine) as session:
            claimed = session.exec(
                update(monitors).where(*conditions).values(cycle_token=token, cycle_lease_until=now + CYCLE_LEASE)
            ).rowcount
            session.commit()
            if claimed:
                return token
            if session.get(Monitor, monitor_id) is None:
                raise NotFound.of("monitor", monitor_id)
        raise CycleTaken(
            "A cycle of this monitor is running now (or is not due): try again in a moment",
            {"monitorId": str(monitor_id)},
        )

    @staticmethod
    def _hold(session: Session, monitor_id: int, token: str) -> Monitor:
        """The monitor, locked for this transaction, if ``token`` still holds its cycle."""
        monitors = table_of(Monitor)
        held = session.exec(
            update(monitors)
            .where(monitors.c.id == monitor_id, monitors.c.cycle_token == token)
            .values(cycle_lease_until=monitors.c.cycle_lease_until)
        ).rowcount
        if not held:
            raise CycleTaken("This monitor's cycle was taken over by another process; nothing was stored")
        return session.get_one(Monitor, monitor_id, populate_existing=True)

    def _let_go(self, monitor_id: int, token: str) -> None:
        """Free the cycle a failed attempt held, so the next round may try at once."""
        monitors = table_of(Monitor)
        try:
            with Session(self._engine) as session:
                session.exec(
                    update(monitors)
                    .where(monitors.c.id == monitor_id, monitors.c.cycle_token == token)
                    .values(cycle_token=None, cycle_lease_until=None)
                )
                session.commit()
        except Exception:
            log.exception("monitor %s: could not free its cycle; it is freed when the lease lapses", monitor_id)


def _free(now: datetime) -> Any:
    return or_(col(Monitor.cycle_lease_until).is_(None), col(Monitor.cycle_lease_until) < now)


def _release(session: Session, monitor: Monitor, window: Window, now: datetime) -> None:
    monitor.cycle_token = None
    monitor.cycle_lease_until = None
    if window.trigger == "schedule":
        monitor.sampled_through = window.resume_at or window.end
        period = timedelta(minutes=monitor.frequency_minutes)
        monitor.next_cycle_at += period
        if monitor.next_cycle_at <= now:
            # The server was down: the missed times are skipped, and this window (from where the
            # last one ended) has covered every span received meanwhile.
            monitor.next_cycle_at = now + period
    session.add(monitor)


@dataclass(frozen=True)
class Candidate:
    row_id: int
    trace_id: str
    name: str
    received: datetime


def candidate_spans(session: Session, monitor: Monitor, window: Window) -> list[Candidate]:
    """The spans in the window, in the order received, that carry a model call, match the
    monitor's filters, and the monitor has not sampled before."""
    spans = table_of(Span)
    samples = table_of(MonitorSample)
    statement = (
        select(spans.c.id, spans.c.trace_id, spans.c.name, spans.c.created_at)
        .outerjoin(samples, and_(samples.c.monitor_id == monitor.id, samples.c.span_row_id == spans.c.id))
        .where(
            spans.c.project_id == monitor.project_id,
            spans.c.created_at > window.start,
            spans.c.created_at <= window.end,
            or_(_is_set(spans.c.input_messages), _is_set(spans.c.output_messages)),
            samples.c.span_row_id.is_(None),
        )
        .order_by(spans.c.created_at, spans.c.id)
    )
    if monitor.service_name:
        statement = statement.where(spans.c.service_name == monitor.service_name)
    if monitor.search:
        statement = statement.where(text_in(Span, monitor.search))  # as the Traces page searches
    rows = [Candidate(*row) for row in session.execute(statement)]
    if monitor.span_name:
        pattern = re.compile(monitor.span_name)
        rows = [row for row in rows if pattern.search(row.name)]
    return rows


def _is_set(column: Any) -> Any:
    # No messages: the receiver's JSON null, or SQL NULL (a row written by other means).
    return and_(column.isnot(None), cast(column, String) != "null")


def _sample(session: Session, monitor: Monitor, window: Window, max_records: int) -> CycleResult:
    candidates = candidate_spans(session, monitor, window)
    picked = [c for c in candidates if sampled(c.trace_id, monitor.sample_rate)]
    if len(picked) > max_records:
        # The window ends at the last span taken; the next cycle goes on from there (the spans
        # received in that same moment but not taken yet are in its window too).
        picked = picked[:max_records]
        window.end = picked[-1].received
        candidates = [c for c in candidates if c.received <= window.end]
        window.resume_at = window.end - timedelta(microseconds=1)
    cycle = MonitorCycle(
        monitor_id=id_of(monitor),
        trigger=window.trigger,
        window_start=window.start,
        window_end=window.end,
        candidates=len(candidates),
        sampled=len(picked),
    )
    session.add(cycle)
    session.flush()
    if not picked:
        return CycleResult(cycle, None)
    metric_ids = [m for m in monitor.metric_ids if session.get(Metric, m) is not None]
    run = create_run(
        session,
        monitor.project_id,
        metric_ids,
        source="monitor",
        notes=f"Monitor “{monitor.description}”: spans received {window.start:%Y-%m-%d %H:%M:%S} to "
        f"{window.end:%H:%M:%S} UTC, {monitor.sample_rate}% sampled",
    )
    cycle.run_id = run.id
    session.add(cycle)
    sample_rows = []
    spans = table_of(Span)
    for start in range(0, len(picked), SPANS_PER_READ):
        chunk = [c.row_id for c in picked[start : start + SPANS_PER_READ]]
        # Only what a record holds: `attributes` repeats the messages, and decoding it would
        # cost as much again.
        rows = session.execute(
            select(*(spans.c[name] for name in RECORD_COLUMNS)).where(spans.c.id.in_(chunk)).order_by(spans.c.id)
        ).all()
        records = add_records(session, id_of(run), [record_of(row) for row in rows])
        sample_rows += [
            {"monitor_id": monitor.id, "span_row_id": row.id, "cycle_id": cycle.id, "record_id": record.id}
            for row, record in zip(rows, records)
        ]
    session.execute(insert(table_of(MonitorSample)), sample_rows)
    end_execution(session, session.get_one(Run, id_of(run), populate_existing=True))
    return CycleResult(cycle, run)


# The span columns record_of reads.
RECORD_COLUMNS = (
    "id",
    "trace_id",
    "span_id",
    "service_name",
    "name",
    "model",
    "input_messages",
    "output_messages",
    "input_tokens",
    "output_tokens",
    "status_code",
    "status_message",
    "otel_link_id",
    "duration_ms",
)


def record_of(span: Any) -> RecordInput:
    """A sampled span as a record: the model call's messages in, its answer out."""
    usage = {"inputTokens": span.input_tokens, "outputTokens": span.output_tokens}
    metadata = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "serviceName": span.service_name,
        "spanName": span.name,
        "model": span.model,
        "usage": {k: v for k, v in usage.items() if v is not None},
    }
    error = None
    if span.status_code == "error":
        error = span.status_message or "The span ended with status error"
    return RecordInput(
        inputs={"messages": span.input_messages or []},
        expected={},
        outputs={"response": message_text(span.output_messages or [])},
        idempotency_key=f"span:{span.id}",
        error=error,
        otel_link_id=span.otel_link_id,
        metadata={k: v for k, v in metadata.items() if v not in (None, {})},
        duration_ms=span.duration_ms,
    )


def message_text(messages: list[Any]) -> str:
    """The text of messages: string contents, and the text parts of multi-part contents."""
    texts = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else message
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(texts)
