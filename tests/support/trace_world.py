"""Traces for the Traces pages' tests: spans of several traces, built on ``otlp.span``.

``three_traces`` is the world the query, page and browser tests share (oldest first):

1. service ``checkout``: root ``POST /checkout`` with a priced chat child (gpt-4o-mini, 12 + 3
   tokens); its spans carry the otel link ID ``link-1``.
2. service ``search``: root ``GET /search`` with an errored child ``embed`` on an unpriced model.
3. service ``search``: no root received; two spans whose parent is missing, the first named with
   hostile HTML and asked about a zebra in a message holding it too; the second has an event.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from scorecard_core.db import session_scope
from scorecard_core.models import Monitor, MonitorCycle, MonitorSample, Span, id_of, utcnow

from .otlp import CHAT_ATTRIBUTES, START_NANO, export_request, key_values, span

HOSTILE = "<script>alert(1)</script>{{7*7}}"
LINK_ID = "link-1"
MINUTE_NANO = 60 * 1_000_000_000


def trace_id(trace: int) -> str:
    return (trace + 1).to_bytes(16, "big").hex()


def trace_span(
    trace: int,
    number: int,
    name: str,
    start_ms: int = 0,
    duration_ms: int = 250,
    parent: int | None = None,
    attributes: dict[str, Any] | None = None,
    error: str | None = None,
) -> OtlpSpan:
    """Span ``number`` of trace ``trace``, starting ``trace`` minutes and ``start_ms`` after the
    first trace's start."""
    built = span(number, attributes, parent)
    built.trace_id = bytes.fromhex(trace_id(trace))
    built.name = name
    built.start_time_unix_nano = START_NANO + trace * MINUTE_NANO + start_ms * 1_000_000
    built.end_time_unix_nano = built.start_time_unix_nano + duration_ms * 1_000_000
    if error is not None:
        built.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=error))
    return built


def three_traces(project_id: Any) -> list[ExportTraceServiceRequest]:
    """The export requests of the module's three traces (one per service and trace)."""
    linked = {"scorecard.otel_link_id": LINK_ID}
    checkout = export_request(
        project_id,
        trace_span(1, 0, "POST /checkout", duration_ms=1000, attributes=linked),
        trace_span(1, 1, "openai.chat", 100, 500, parent=0, attributes={**CHAT_ATTRIBUTES, **linked}),
        service_name="checkout",
    )
    embed = {"gen_ai.request.model": "my-model", "gen_ai.usage.input_tokens": 40, "gen_ai.usage.output_tokens": 0}
    search = export_request(
        project_id,
        trace_span(2, 0, "GET /search", duration_ms=400),
        trace_span(2, 1, "embed", 50, 100, parent=0, attributes=embed, error="quota exceeded"),
        service_name="search",
    )
    rank = trace_span(3, 1, "rank", 10, 100, parent=9, attributes={"note": HOSTILE})
    rank.events.add(
        name="cache miss", time_unix_nano=rank.start_time_unix_nano, attributes=key_values({"key": HOSTILE})
    )
    question = json.dumps([{"role": "user", "content": f"Where does the zebra live? {HOSTILE}"}])
    orphans = export_request(
        project_id,
        trace_span(3, 0, f"retrieve {HOSTILE}", 0, 300, parent=9, attributes={"gen_ai.prompt.messages": question}),
        rank,
        service_name="search",
    )
    return [checkout, search, orphans]


def many_traces(project_id: Any, count: int) -> ExportTraceServiceRequest:
    """``count`` one-span traces named ``step-<n>``, a minute apart, after the three above."""
    return export_request(project_id, *(trace_span(10 + n, 0, f"step-{n}") for n in range(count)), service_name="bulk")


def sample(engine: Engine, project_id: int, span_name: str, record_id: int) -> None:
    """What a monitor's cycle leaves when it turns the span named ``span_name`` into a record."""
    now = utcnow()
    with session_scope(engine) as session:
        sampled = session.exec(select(Span).where(col(Span.name) == span_name)).one()
        monitor = Monitor(project_id=project_id, description=f"monitor of {span_name}", metric_ids=[])
        session.add(monitor)
        session.flush()
        cycle = MonitorCycle(monitor_id=id_of(monitor), trigger="manual", window_start=now, window_end=now)
        session.add(cycle)
        session.flush()
        session.add(
            MonitorSample(
                monitor_id=id_of(monitor), span_row_id=id_of(sampled), cycle_id=id_of(cycle), record_id=record_id
            )
        )
