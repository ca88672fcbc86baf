"""``POST /otel/v1/traces`` over loopback HTTP: Scorecard's Python SDK (``wrap_openai``) around a
real OpenAI client sends spans the server stores; protobuf, OTLP/JSON and gzip bodies; refusals
(no key, no project, bad bodies) with a clear message and nothing stored."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlmodel import col, select

from scorecard_core.db import session_scope
from scorecard_core.models import Span, utcnow
from scorecard_core.traces import RetentionSweep
from server.otel import RETENTION_EXTENSION
from tests.server.test_request_guard import headers_only
from tests.support import traced_chat
from tests.support.otlp import CHAT_ATTRIBUTES, export_request, otlp_json, span

ROOT = Path(__file__).parents[2]
PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def project_id(client) -> str:
    return client.post("/projects", {"name": "traced"})["id"]


@pytest.fixture
def traces_url(server) -> str:
    return f"{server.url}/otel/v1/traces"


def post(url: str, key: str | None, body: bytes, **headers: str) -> requests.Response:
    auth = {} if key is None else {"Authorization": f"Bearer {key}"}
    return requests.post(url, data=body, headers={**PROTOBUF, **auth, **headers}, timeout=10)


def stored(server) -> list[Span]:
    with session_scope(server.app.extensions["scorecard.engine"]) as session:
        return list(session.exec(select(Span).order_by(col(Span.span_id))).all())


def test_the_python_sdks_wrap_openai_sends_spans_the_server_stores(
    server, api_key, project_id, fake_openai, traces_url
):
    [answer] = traced_chat.chats_in_a_process(fake_openai.url, traces_url, api_key, project_id)
    [chat] = stored(server)
    assert (chat.project_id, chat.service_name, chat.name) == (int(project_id), "capitals", "openai.request")
    assert chat.model == fake_openai.requests[0]["model"] == traced_chat.MODEL
    assert chat.input_messages == [{"role": "user", "content": traced_chat.QUESTION}]
    assert chat.output_messages == [{"role": "assistant", "content": answer}]
    assert chat.input_tokens and chat.output_tokens
    assert chat.duration_ms > 0 and chat.status_code == "unset"


def test_protobuf_is_stored_once_and_acknowledged_in_protobuf(server, api_key, project_id, traces_url):
    body = export_request(project_id, span(0, CHAT_ATTRIBUTES), span(1, parent=0)).SerializeToString()
    for _ in range(2):  # an exporter's retry of a batch already stored
        answer = post(traces_url, api_key, body)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/x-protobuf"
        assert ExportTraceServiceResponse.FromString(answer.content) == ExportTraceServiceResponse()
    chat, child = stored(server)
    assert (chat.model, chat.input_tokens, chat.output_tokens) == ("gpt-4o-mini-2024-07-18", 12, 3)
    assert child.parent_span_id == chat.span_id


def test_otlp_json_and_gzip_are_accepted(server, api_key, project_id, traces_url):
    document = otlp_json(export_request(project_id, span(0, CHAT_ATTRIBUTES)))
    answer = post(traces_url, api_key, json.dumps(document).encode(), **{"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/json" and answer.json() == {}
    gzipped = gzip.compress(export_request(project_id, span(1)).SerializeToString())
    answer = post(traces_url, api_key, gzipped, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text
    assert [s.span_id for s in stored(server)] == ["0000000000000001", "0000000000000002"]


def test_invalid_span_ids_are_a_partial_success(server, api_key, project_id, traces_url):
    bad = span(1)
    bad.trace_id = b"short"
    answer = post(traces_url, api_key, export_request(project_id, span(0), bad).SerializeToString())
    assert answer.status_code == 200
    partial = ExportTraceServiceResponse.FromString(answer.content).partial_success
    assert partial.rejected_spans == 1 and "trace ID" in partial.error_message
    assert len(stored(server)) == 1


def test_without_a_valid_key_nothing_is_stored(server, project_id, traces_url):
    body = export_request(project_id, span(0)).SerializeToString()
    for key, message in ((None, "Missing API key"), ("ak_not-a-key", "Invalid or revoked API key")):
        answer = post(traces_url, key, body)
        assert answer.status_code == 401
        assert message in answer.json()["message"]
    assert stored(server) == []


def test_a_resource_without_a_project_is_a_400_naming_the_attribute(server, api_key, project_id, traces_url):
    for project, named in ((None, "is missing"), (str(int(project_id) + 1), "names no project")):
        answer = post(traces_url, api_key, export_request(project, span(0)).SerializeToString())
        assert answer.status_code == 400
        message = answer.json()["message"]
        assert "scorecard.project_id" in message and named in message and "SCORECARD_PROJECT_ID" in message
    assert stored(server) == []


@pytest.mark.parametrize(
    ("headers", "body", "status", "named"),
    [
        ({}, b"\xff\xff\xff", 400, "not a protobuf ExportTraceServiceRequest"),
        ({"Content-Type": "application/json"}, b"{oops", 400, "not JSON"),
        ({"Content-Encoding": "gzip"}, b"not gzip", 400, "not valid gzip"),
        ({"Content-Encoding": "br"}, b"x", 415, "send gzip or no encoding"),
        ({"Content-Type": "text/plain"}, b"x", 415, "send application/x-protobuf or application/json"),
    ],
)
def test_bad_bodies_are_refused_naming_what_to_fix(server, api_key, traces_url, headers, body, status, named):
    answer = post(traces_url, api_key, body, **headers)
    assert answer.status_code == status, answer.text
    assert named in answer.json()["message"]
    assert stored(server) == []


def test_bodies_past_the_limit_are_refused(database_url, fake_openai):
    from tests.conftest import start_server

    live = start_server(database_url, MAX_BODY_BYTES=2048)
    try:
        key = live.new_api_key()
        too_big = post(f"{live.url}/otel/v1/traces", key, b"\x00" * 4096)
        assert too_big.status_code == 413 and "limit" in too_big.json()["message"]
        bomb = post(f"{live.url}/otel/v1/traces", key, gzip.compress(b"\x00" * 100_000), **{"Content-Encoding": "gzip"})
        assert bomb.status_code == 413 and "fewer spans" in bomb.json()["message"]
    finally:
        live.stop()


def test_a_keyless_body_is_refused_from_its_headers(server, traces_url):
    """The request guard answers before reading: a declared 10 MB body is never sent."""
    port = int(server.url.rsplit(":", 1)[1])
    answer = headers_only(
        port, "POST /otel/v1/traces HTTP/1.1", "Content-Type: application/x-protobuf", "Content-Length: 10000000"
    )
    assert answer.status == 401 and answer.json()["message"].startswith("Missing API key")


def test_the_receiver_deletes_spans_past_retention(server, api_key, project_id, traces_url):
    assert post(traces_url, api_key, export_request(project_id, span(0)).SerializeToString()).ok
    with session_scope(server.app.extensions["scorecard.engine"]) as session:
        old = session.exec(select(Span)).one()
        old.created_at = utcnow() - timedelta(days=31)
    server.app.extensions[RETENTION_EXTENSION] = RetentionSweep()  # due again, as an hour later
    assert post(traces_url, api_key, export_request(project_id, span(1)).SerializeToString()).ok
    assert [s.span_id for s in stored(server)] == ["0000000000000002"]
