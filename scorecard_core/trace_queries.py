"""A project's traces as the UI lists them, one trace's spans, and the records linked to a trace.

A trace is listed once, at its head: its earliest span (ties broken by span ID). Pages walk the
heads newest first by the (project, start time) index, each head checked against its own trace's
spans by the (project, trace, span) index, so a page reads about as many spans as it shows traces
and never counts or groups the whole table. Filters keep a trace when any of its spans matches:
the service, a regular expression over span names (``~`` on PostgreSQL, Python's ``re`` behind
SQLite's REGEXP, which SQLAlchemy registers), text in span names or messages; the time range
applies to the trace's start.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from .errors import InvalidField
from .models import MonitorSample, Record, Run, Span
from .name_patterns import check_name_pattern
from .prices import ModelPrice, price_of

MAX_TEXT_CHARS = 200
# The service select lists the services of the project's latest spans: a bounded read.
RECENT_SPANS_FOR_SERVICES = 10_000
MAX_TRACE_SPANS = 2_000  # a trace view shows this many spans at most, earliest first
MAX_LINKED_RECORDS = 100
DATETIME_LOCAL = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True)
class TraceFilter:
    """What the Traces page filters by, checked (see ``parse_filter``)."""

    service: str = ""
    span_name: str = ""  # a regular expression
    text: str = ""
    start_from: datetime | None = None
    start_to: datetime | None = None


def parse_filter(session: Session, args: Mapping[str, str]) -> TraceFilter:
    """The filter from the page's form fields (``service``, ``span_name``, ``q``, ``from``, ``to``);
    a bad value raises ``InvalidField`` naming its field."""
    text = args.get("q", "").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidField("q", f"is longer than {MAX_TEXT_CHARS} characters; search for fewer words")
    pattern = args.get("span_name", "").strip()
    if pattern:
        _check_pattern(session, pattern)
    start_from, start_to = _moment(args, "from"), _moment(args, "to")
    if start_from and start_to and start_to < start_from:
        raise InvalidField("to", "is before `from`; pick a time range that ends after it starts")
    return TraceFilter(args.get("service", "").strip(), pattern, text, start_from, start_to)


def _check_pattern(session: Session, pattern: str) -> None:
    check_name_pattern(pattern, "span_name")
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL's dialect differs from Python's: ask it, in a savepoint a refusal rolls back.
        try:
            with session.begin_nested():
                session.execute(select(literal("").regexp_match(pattern)))
        except DBAPIError as exc:
            problem = str(exc.orig).splitlines()[0] if exc.orig else "refused by the database"
            raise InvalidField("span_name", f"is not a regular expression the database accepts ({problem})") from None


def _moment(args: Mapping[str, str], name: str) -> datetime | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    for shape in DATETIME_LOCAL:
        try:
            return datetime.strptime(raw, shape).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise InvalidField(name, f"must be a date and time like 2025-12-04T09:30 (UTC), not {raw!r}")


@dataclass
class TraceRow:
    """One trace of the list, summed over its spans."""

    trace_id: str
    started: datetime
    service_name: str
    name: str  # the root span's name, or the earliest span's when the root is missing
    spans: int = 0
    duration_ms: float = 0.0
    errored: bool = False
    models: list[str] = field(default_factory=list)
    tokens: int = 0
    cost: SpanCost | None = None


@dataclass(frozen=True)
class SpanCost:
    """Dollars of the tokens spent, or None with the models no price names."""

    usd: float | None
    unpriced: tuple[str, ...] = ()


@dataclass(frozen=True)
class TracePage:
    rows: list[TraceRow]
    next_cursor: str | None


def trace_page(
    session: Session,
    project_id: int,
    wanted: TraceFilter,
    prices: Mapping[str, ModelPrice],
    limit: int,
    cursor: str | None = None,
) -> TracePage:
    """One page of the project's traces that match, newest first."""
    head = aliased(Span, name="head")
    conditions = [col(head.project_id) == project_id, _is_earliest(head), *_matching(head, wanted)]
    if cursor is not None:
        started, trace_id = _decode_cursor(cursor)
        conditions.append(
            or_(col(head.start_time) < started, and_(col(head.start_time) == started, col(head.trace_id) < trace_id))
        )
    statement = (
        select(col(head.trace_id), col(head.start_time), col(head.service_name), col(head.name))
        .where(*conditions)
        .order_by(col(head.start_time).desc(), col(head.trace_id).desc())
        .limit(limit + 1)
    )
    heads = session.execute(statement).all()
    rows = {trace_id: TraceRow(trace_id, started, service, name) for trace_id, started, service, name in heads[:limit]}
    _summarize(session, project_id, rows, prices)
    shown = list(rows.values())
    next_cursor = _encode_cursor(shown[-1]) if len(heads) > limit else None
    return TracePage(shown, next_cursor)


def _is_earliest(head: Any) -> ColumnElement[bool]:
    earlier = aliased(Span, name="earlier")
    return ~exists().where(
        col(earlier.project_id) == col(head.project_id),
        col(earlier.trace_id) == col(head.trace_id),
        or_(
            col(earlier.start_time) < col(head.start_time),
            and_(col(earlier.start_time) == col(head.start_time), col(earlier.span_id) < col(head.span_id)),
        ),
    )


def _matching(head: Any, wanted: TraceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.start_from:
        conditions.append(col(head.start_time) >= wanted.start_from)
    if wanted.start_to:
        conditions.append(col(head.start_time) <= wanted.start_to)
    span_conditions = []
    if wanted.service:
        span_conditions.append(lambda s: col(s.service_name) == wanted.service)
    if wanted.span_name:
        span_conditions.append(lambda s: col(s.name).regexp_match(wanted.span_name))
    if wanted.text:
        span_conditions.append(lambda s: text_in(s, wanted.text))
    for condition in span_conditions:
        member = aliased(Span, name="member")
        conditions.append(
            exists().where(
                col(member.project_id) == col(head.project_id),
                col(member.trace_id) == col(head.trace_id),
                condition(member),
            )
        )
    return conditions


def text_in(span: Any, text: str) -> ColumnElement[bool]:
    """``text`` in the span's name or messages, ignoring case. Messages are matched in their JSON
    text, where SQLite keeps non-ASCII letters and quotes escaped: both spellings are tried."""
    spellings = {text.lower(), json.dumps(text.lower())[1:-1]}
    columns = [col(span.name), cast(col(span.input_messages), String), cast(col(span.output_messages), String)]
    return or_(*(func.lower(c).like(f"%{_like_escaped(s)}%", escape="\\") for c in columns for s in spellings))


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _summarize(session: Session, project_id: int, rows: dict[str, TraceRow], prices: Mapping[str, ModelPrice]) -> None:
    """Span counts, durations, errors, roots, models, tokens and cost of the listed traces."""
    if not rows:
        return
    of_traces = (col(Span.project_id) == project_id, col(Span.trace_id).in_(rows))
    totals = select(
        col(Span.trace_id),
        func.count(),
        func.max(col(Span.end_time)),
        func.sum(func.coalesce(col(Span.input_tokens), 0) + func.coalesce(col(Span.output_tokens), 0)),
        func.max(_is_error()),
    ).where(*of_traces)
    for trace_id, spans, ended, tokens, errored in session.execute(totals.group_by(col(Span.trace_id))):
        row = rows[trace_id]
        row.spans, row.tokens, row.errored = spans, int(tokens or 0), bool(errored)
        row.duration_ms = max((_utc(ended) - row.started).total_seconds() * 1000, 0.0)
    roots = select(col(Span.trace_id), col(Span.service_name), col(Span.name)).where(
        *of_traces, col(Span.parent_span_id).is_(None)
    )
    for trace_id, service, name in session.execute(roots.order_by(col(Span.start_time).desc())):
        rows[trace_id].service_name, rows[trace_id].name = service, name  # the earliest root is set last
    by_model = select(
        col(Span.trace_id), col(Span.model), func.sum(col(Span.input_tokens)), func.sum(col(Span.output_tokens))
    )
    usage: dict[str, list[tuple[str | None, int, int]]] = defaultdict(list)
    for trace_id, model, spent_in, spent_out in session.execute(
        by_model.where(*of_traces).group_by(col(Span.trace_id), col(Span.model))
    ):
        usage[trace_id].append((model, int(spent_in or 0), int(spent_out or 0)))
    for trace_id, spent in usage.items():
        rows[trace_id].models = sorted(model for model, _, _ in spent if model)
        rows[trace_id].cost = cost_of(spent, prices)


def _is_error() -> ColumnElement[Any]:
    return case((col(Span.status_code) == "error", 1), else_=0)


def cost_of(spent: list[tuple[str | None, int, int]], prices: Mapping[str, ModelPrice]) -> SpanCost | None:
    """The cost of (model, input tokens, output tokens) usages: None when no tokens were spent,
    unknown (usd None) when a model that spent tokens has no price or no name."""
    used = [(model, i, o) for model, i, o in spent if i or o]
    if not used:
        return None
    priced = {model: price_of(model, prices) if model else None for model, _, _ in used}
    unpriced = tuple(sorted({model or "(no model)" for model, price in priced.items() if price is None}))
    if unpriced:
        return SpanCost(None, unpriced)
    return SpanCost(sum((price.cost(i, o) for model, i, o in used if (price := priced[model])), 0.0))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _encode_cursor(row: TraceRow) -> str:
    position = [_utc(row.started).isoformat(), row.trace_id]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        started, trace_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(started)
        if not isinstance(trace_id, str) or moment.tzinfo is None:
            raise ValueError(cursor)
        return moment.astimezone(timezone.utc), trace_id
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("cursor", "is not one this page gave; go back to the first page") from None


def service_names(session: Session, project_id: int) -> list[str]:
    """The services of the project's latest spans, by name."""
    recent = (
        select(col(Span.service_name))
        .where(col(Span.project_id) == project_id)
        .order_by(col(Span.start_time).desc())
        .limit(RECENT_SPANS_FOR_SERVICES)
        .subquery()
    )
    return sorted(name for name in session.execute(select(recent.c.service_name).distinct()).scalars() if name)


def trace_spans(session: Session, project_id: int, trace_id: str) -> list[Span]:
    """The trace's spans, earliest first (at most ``MAX_TRACE_SPANS``); empty for no such trace."""
    statement = (
        select(Span)
        .where(col(Span.project_id) == project_id, col(Span.trace_id) == trace_id.lower())
        .order_by(col(Span.start_time), col(Span.span_id))
        .limit(MAX_TRACE_SPANS)
    )
    return list(session.execute(statement).scalars())


def linked_records(session: Session, project_id: int, spans: list[Span]) -> list[tuple[Record, str]]:
    """The project's records linked to these spans, each with how: its run's ``otelLinkId``, or a
    monitor that sampled one of the spans. Newest first, at most ``MAX_LINKED_RECORDS``."""
    link_ids = {span.otel_link_id for span in spans if span.otel_link_id}
    sampled = select(col(MonitorSample.record_id)).where(col(MonitorSample.span_row_id).in_([s.id for s in spans]))
    of_project = col(Record.run_id).in_(select(col(Run.id)).where(col(Run.project_id) == project_id))
    statement = (
        select(Record)
        .where(of_project, or_(col(Record.otel_link_id).in_(link_ids), col(Record.id).in_(sampled)))
        .order_by(col(Record.id).desc())
        .limit(MAX_LINKED_RECORDS)
    )
    return [
        (record, "otel link ID" if record.otel_link_id in link_ids else "monitor sample")
        for record in session.execute(statement).scalars()
    ]


def trace_of_record(session: Session, project_id: int, record: Record) -> str | None:
    """The ID of a trace linked to the record (by its ``otelLinkId`` or a monitor's sample)."""
    sampled = select(col(MonitorSample.span_row_id)).where(col(MonitorSample.record_id) == record.id)
    linked: ColumnElement[bool] = col(Span.id).in_(sampled)
    if record.otel_link_id:
        linked = or_(linked, col(Span.otel_link_id) == record.otel_link_id)
    statement = select(col(Span.trace_id)).where(col(Span.project_id) == project_id, linked).limit(1)
    return session.execute(statement).scalars().first()
