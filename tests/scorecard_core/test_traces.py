"""Traces, called directly: decoding OTLP (protobuf, OTLP/JSON with hex IDs, gzip), the GenAI
fields pulled out of a span, storing a re-sent batch once, and retention."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, select

from scorecard_core import traces
from scorecard_core.db import session_scope
from scorecard_core.errors import BadRequest, PayloadTooLarge
from scorecard_core.models import Project, Span, id_of
from tests.support.otlp import CHAT_ATTRIBUTES, TRACE_ID, export_request, otlp_json, span


@pytest.fixture
def project_id(engine) -> int:
    with session_scope(engine) as session:
        project = Project(name="traced")
        session.add(project)
        session.flush()
        return id_of(project)


def store(engine, request) -> traces.Received:
    with session_scope(engine) as session:
        received = traces.received_spans(session, request)
        traces.store_spans(session, received.rows)
    return received


def stored(engine) -> list[Span]:
    with session_scope(engine) as session:
        return list(session.exec(select(Span).order_by(col(Span.span_id))).all())


def test_a_chat_span_keeps_its_timing_and_the_genai_fields(engine, project_id):
    store(engine, export_request(str(project_id), span(0, CHAT_ATTRIBUTES), span(1, {"step": 2}, parent=0)))
    chat, child = stored(engine)
    assert (chat.trace_id, chat.span_id, chat.parent_span_id) == (TRACE_ID.hex(), "0000000000000001", None)
    assert child.parent_span_id == chat.span_id
    assert (chat.service_name, chat.name, chat.kind) == ("llm-app", "openai.request.0", "client")
    assert chat.status_code == "ok"
    assert chat.start_time == datetime(2025, 12, 4, tzinfo=timezone.utc)
    assert chat.duration_ms == 250.0
    assert chat.model == "gpt-4o-mini-2024-07-18"
    assert chat.input_messages == [{"role": "user", "content": "What is 2+2?"}]
    assert chat.output_messages == [{"role": "assistant", "content": "4"}]
    assert (chat.input_tokens, chat.output_tokens) == (12, 3)
    assert chat.resource_attributes == {"service.name": "llm-app", "scorecard.project_id": str(project_id)}
    assert (child.model, child.input_messages, child.input_tokens, child.attributes) == (None, None, None, {"step": 2})


def test_current_semantic_convention_names_and_the_link_id_are_read(engine, project_id):
    attributes = {
        "gen_ai.request.model": "gpt-4.1",
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]),
        "gen_ai.output.messages": "plain text answer",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 2**40,  # no real count: not kept
        "scorecard.otel_link_id": "link-1",
        "bad.number": float("nan"),
        "nul": "a\x00b",
    }
    store(engine, export_request(project_id, span(0, attributes)))
    [row] = stored(engine)
    assert row.model == "gpt-4.1"
    assert row.input_messages == [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert row.output_messages == [{"role": "assistant", "content": "plain text answer"}]
    assert (row.input_tokens, row.output_tokens, row.otel_link_id) == (7, None, "link-1")
    assert row.attributes["bad.number"] == "nan" and row.attributes["nul"] == "a\ufffdb"


def test_the_vercel_ai_sdks_telemetry_names_are_read(engine, project_id):
    attributes = {
        "ai.model.id": "gpt-4o",
        "ai.prompt.messages": json.dumps([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]),
        "ai.response.text": "42",  # text that parses as JSON is still the answer's text
        "ai.usage.promptTokens": 5,
        "ai.usage.completionTokens": 1,
    }
    store(engine, export_request(project_id, span(0, attributes)))
    [row] = stored(engine)
    assert (row.model, row.input_tokens, row.output_tokens) == ("gpt-4o", 5, 1)
    assert row.input_messages == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert row.output_messages == [{"role": "assistant", "content": "42"}]


def test_a_resent_batch_is_stored_once(engine, project_id):
    request = export_request(project_id, span(0, CHAT_ATTRIBUTES), span(1))
    store(engine, request)
    store(engine, request)
    store(engine, export_request(project_id, span(1), span(2)))
    assert [s.span_id[-1] for s in stored(engine)] == ["1", "2", "3"]


def test_a_resource_without_a_known_project_refuses_the_request(engine, project_id):
    for project, named in ((None, "is missing"), ("abc", "'abc', not a project ID"), (project_id + 1, "names no")):
        with pytest.raises(traces.UnknownProject) as refused:
            store(engine, export_request(project, span(0)))
        assert "scorecard.project_id" in refused.value.message and named in refused.value.message
    assert stored(engine) == []


def test_spans_with_invalid_ids_are_rejected_alone(engine, project_id):
    bad = span(1)
    bad.span_id = b"\x00" * 8
    received = store(engine, export_request(project_id, span(0), bad))
    assert received.rejected == 1 and "span ID" in received.problem
    assert traces.response(received).partial_success.rejected_spans == 1
    assert len(stored(engine)) == 1


def test_otlp_json_with_hex_ids_decodes_to_the_same_request():
    request = export_request(3, span(0, CHAT_ATTRIBUTES), span(1, parent=0))
    body = json.dumps(otlp_json(request)).encode()
    assert traces.decode_request(body, traces.JSON) == request
    assert traces.decode_request(request.SerializeToString(), traces.PROTOBUF) == request


@pytest.mark.parametrize(
    ("body", "encoding", "named"),
    [
        (b"\xff\xff\xff", traces.PROTOBUF, "not a protobuf ExportTraceServiceRequest"),
        (b"{not json", traces.JSON, "not JSON"),
        (b"[" * 100_000, traces.JSON, "not JSON"),
        (
            b'{"resourceSpans": [{"resource": {"attributes": [{"key": "a", "value": {"stringValue": "\\ud800"}}]}}]}',
            traces.JSON,
            "not an OTLP/JSON",
        ),
        (b"[1]", traces.JSON, "JSON object"),
        (b'{"resourceSpans": 3}', traces.JSON, "not an OTLP/JSON"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', traces.JSON, "spans[0].traceId"),
    ],
)
def test_bad_bodies_are_refused_naming_what_to_send(body, encoding, named):
    with pytest.raises(BadRequest) as refused:
        traces.decode_request(body, encoding)
    assert named in refused.value.message


def test_gzip_is_inflated_within_the_limit():
    content = b"x" * 5000
    assert traces.decompress_gzip(gzip.compress(content), 5000) == content
    with pytest.raises(PayloadTooLarge):
        traces.decompress_gzip(gzip.compress(content), 4999)
    with pytest.raises(BadRequest, match="not valid gzip"):
        traces.decompress_gzip(b"plain", 5000)
    with pytest.raises(BadRequest, match="cut short"):
        traces.decompress_gzip(gzip.compress(content)[:-10], 5000)


def test_retention_deletes_spans_received_before_the_period(engine, project_id):
    store(engine, export_request(project_id, span(0), span(1)))
    with session_scope(engine) as session:
        old = session.exec(select(Span).where(col(Span.span_id) == "0000000000000001")).one()
        old.created_at = datetime.now(timezone.utc) - timedelta(days=31)
    with session_scope(engine) as session:
        assert traces.delete_expired_spans(session, retention_days=30) == 1
    assert [s.span_id for s in stored(engine)] == ["0000000000000002"]


def test_the_retention_sweep_is_due_at_most_once_an_hour():
    sweep = traces.RetentionSweep()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert sweep.due(now)
    assert not sweep.due(now + timedelta(minutes=59))
    assert sweep.due(now + timedelta(hours=1))
