"""Traces received over OTLP/HTTP: decoding an export request, storing its spans, retention.

The OpenTelemetry project's own messages (``opentelemetry-proto``) decode both encodings: binary
protobuf, and OTLP/JSON, whose trace and span IDs are hex strings where protobuf's JSON mapping
expects base64 (the OTLP specification's one departure from that mapping). Each span belongs to
the project its resource names in ``scorecard.project_id``, as Scorecard's SDKs send it.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Status
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from .errors import BadRequest, PayloadTooLarge
from .ids import parse_id
from .models import Project, Span, table_of, utcnow
from .storable import storable_json

PROJECT_ATTRIBUTE = "scorecard.project_id"
LINK_ATTRIBUTE = "scorecard.otel_link_id"
PROTOBUF = "protobuf"
JSON = "json"
# The IDs' lengths in bytes; all-zero IDs are invalid (OTLP specification).
TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8
# Token counts a 32-bit integer column holds; a larger count is no real one, and is not kept.
MAX_TOKENS = 2**31 - 1
# GenAI fields, first name found wins: the semantic conventions' current names, older ones
# (Scorecard's Python SDK sends gen_ai.usage.prompt_tokens / completion_tokens,
# gen_ai.prompt.messages and gen_ai.completion.choices as JSON text), then the Vercel AI SDK's
# telemetry names (ai.*), which JS applications trace with.
INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "ai.usage.inputTokens",
    "ai.usage.promptTokens",
)
OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "ai.usage.outputTokens",
    "ai.usage.completionTokens",
)
MODEL = ("gen_ai.response.model", "gen_ai.request.model", "ai.response.model", "ai.model.id")
INPUT_MESSAGES = ("gen_ai.input.messages", "gen_ai.prompt.messages", "ai.prompt.messages")
OUTPUT_MESSAGES = ("gen_ai.output.messages", "gen_ai.completion.choices", "ai.response.text")


class UnknownProject(BadRequest):
    """A resource names no project this key may use (or none at all)."""


def decompress_gzip(body: bytes, limit: int) -> bytes:
    """A gzip body's content, refused past ``limit`` bytes (a small body can inflate to gigabytes)."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        content = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"The body is not valid gzip ({exc}): send it as gzip or drop Content-Encoding") from None
    if len(content) > limit:
        raise PayloadTooLarge(
            f"The body inflates to more than {limit // (1024 * 1024)} MB; send fewer spans per request"
        )
    if not inflater.eof:
        raise BadRequest("The gzip body is cut short: send the whole compressed body")
    return content


def decode_request(body: bytes, encoding: str) -> ExportTraceServiceRequest:
    """An ``ExportTraceServiceRequest`` from binary protobuf or OTLP/JSON."""
    request = ExportTraceServiceRequest()
    if encoding == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError:
            raise BadRequest(
                "The body is not a protobuf ExportTraceServiceRequest: send OTLP protobuf, "
                "or OTLP/JSON with Content-Type: application/json"
            ) from None
        return request
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than any request
        raise BadRequest(f"The body is not JSON ({exc}): send an OTLP/JSON ExportTraceServiceRequest") from None
    if not isinstance(document, dict):
        raise BadRequest('The body must be a JSON object with "resourceSpans"')
    for where, span in _json_spans(document):
        _hex_ids_to_base64(span, where)
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise BadRequest(f"The body is not an OTLP/JSON ExportTraceServiceRequest: {exc}") from None
    return request


def _json_spans(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every span object (and span link) of an OTLP/JSON document, with where it is."""
    for r, resource in enumerate(_json_list(document, "resourceSpans", "resource_spans")):
        for s, scope in enumerate(_json_list(resource, "scopeSpans", "scope_spans")):
            for n, span in enumerate(_json_list(scope, "spans")):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                if isinstance(span, dict):
                    yield where, span
                    for k, link in enumerate(_json_list(span, "links")):
                        if isinstance(link, dict):
                            yield f"{where}.links[{k}]", link


def _json_list(parent: Any, *names: str) -> list[Any]:
    if not isinstance(parent, dict):
        return []
    value: Any = next((parent[name] for name in names if name in parent), [])
    return value if isinstance(value, list) else []


def _hex_ids_to_base64(span: dict[str, Any], where: str) -> None:
    for camel, snake in (("traceId", "trace_id"), ("spanId", "span_id"), ("parentSpanId", "parent_span_id")):
        for name in (camel, snake):
            value = span.get(name)
            if not isinstance(value, str):
                continue
            try:
                span[name] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise BadRequest(
                    f"{where}.{camel} must be hex digits (OTLP/JSON encodes IDs as hex), not {value!r}"
                ) from None


@dataclass
class Received:
    """What an export request held: span rows to store, and the spans refused with why."""

    rows: list[dict[str, Any]]
    rejected: int = 0
    problem: str = ""


def received_spans(session: Session, request: ExportTraceServiceRequest) -> Received:
    """The rows of every span in ``request``. A resource without a project this server holds
    refuses the whole request (nothing is stored); a span with invalid IDs is refused alone."""
    projects = [_project_of(resource, r) for r, resource in enumerate(request.resource_spans)]
    known = set(session.exec(select(Project.id).where(col(Project.id).in_(set(projects)))).all() if projects else [])
    received = Received(rows=[])
    for project_id, resource_spans in zip(projects, request.resource_spans):
        if project_id not in known:
            raise UnknownProject(
                f"Resource attribute {PROJECT_ATTRIBUTE} is {project_id}, which names no project on this "
                "server: set it to the ID of an existing project (the SDK's project_id option or "
                "SCORECARD_PROJECT_ID)",
                {"attribute": PROJECT_ATTRIBUTE},
            )
        resource = attributes_of(resource_spans.resource.attributes)
        service_name = str(resource.get("service.name", ""))
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                if len(span.trace_id) != TRACE_ID_BYTES or not any(span.trace_id):
                    received.rejected += 1
                    received.problem = f"a span's trace ID must be {TRACE_ID_BYTES} bytes, not all zero"
                elif len(span.span_id) != SPAN_ID_BYTES or not any(span.span_id):
                    received.rejected += 1
                    received.problem = f"a span's span ID must be {SPAN_ID_BYTES} bytes, not all zero"
                else:
                    received.rows.append(span_row(project_id, service_name, resource, span))
    return received


def _project_of(resource_spans: ResourceSpans, index: int) -> int:
    value = attributes_of(resource_spans.resource.attributes).get(PROJECT_ATTRIBUTE)
    project_id = parse_id(value)
    if value is None or project_id is None:
        shown = "missing" if value is None else f"{value!r}, not a project ID"
        raise UnknownProject(
            f"resourceSpans[{index}]: resource attribute {PROJECT_ATTRIBUTE} is {shown}: set it to your "
            "project's ID (the SDK's project_id option or SCORECARD_PROJECT_ID)",
            {"attribute": PROJECT_ATTRIBUTE},
        )
    return project_id


def span_row(project_id: int, service_name: str, resource: dict[str, Any], span: OtlpSpan) -> dict[str, Any]:
    """The ``span`` table's row for one OTLP span."""
    attributes = attributes_of(span.attributes)
    events = [
        {"name": e.name, "time": _time(e.time_unix_nano).isoformat(), "attributes": attributes_of(e.attributes)}
        for e in span.events
    ]
    link_id = attributes.get(LINK_ATTRIBUTE, resource.get(LINK_ATTRIBUTE))
    return storable_json(
        {
            "project_id": project_id,
            "trace_id": span.trace_id.hex(),
            "span_id": span.span_id.hex(),
            "parent_span_id": span.parent_span_id.hex() or None,
            "service_name": service_name,
            "name": span.name,
            "kind": _enum_name(OtlpSpan.SpanKind, span.kind, "SPAN_KIND_"),
            "start_time": _time(span.start_time_unix_nano),
            "end_time": _time(span.end_time_unix_nano),
            "duration_ms": max(span.end_time_unix_nano - span.start_time_unix_nano, 0) / 1e6,
            "status_code": _enum_name(Status.StatusCode, span.status.code, "STATUS_CODE_"),
            "status_message": span.status.message,
            "attributes": attributes,
            "resource_attributes": resource,
            "events": events or None,
            "model": _first(attributes, MODEL, str),
            "input_messages": _messages(attributes, INPUT_MESSAGES, "user"),
            "output_messages": _messages(attributes, OUTPUT_MESSAGES, "assistant"),
            "input_tokens": _tokens(attributes, INPUT_TOKENS),
            "output_tokens": _tokens(attributes, OUTPUT_TOKENS),
            "otel_link_id": None if link_id is None else str(link_id),
            "created_at": utcnow(),
        }
    )


def attributes_of(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {pair.key: value_of(pair.value) for pair in pairs}


def value_of(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as JSON: bytes as hex, NaN and infinities (no JSON) as text."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    if kind == "double_value" and not math.isfinite(value.double_value):
        return str(value.double_value)
    return None if kind is None else getattr(value, kind)


def _enum_name(enum: Any, number: int, prefix: str) -> str:
    """``SPAN_KIND_SERVER`` -> ``server``; a number newer than our messages stays a number."""
    try:
        return str(enum.Name(number)).removeprefix(prefix).lower()
    except ValueError:
        return str(number)


def _time(unix_nano: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=unix_nano // 1000)


def _first(attributes: dict[str, Any], names: tuple[str, ...], kind: type) -> Any:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
    return None


def _tokens(attributes: dict[str, Any], names: tuple[str, ...]) -> int | None:
    count = _first(attributes, names, int)
    return count if count is not None and 0 <= count <= MAX_TOKENS else None


def _messages(attributes: dict[str, Any], names: tuple[str, ...], role: str) -> list | None:
    """Messages sent as JSON text (a list; OpenAI's choices unwrap to their message), or any
    other text as one message from ``role``."""
    text = _first(attributes, names, str)
    if text is None:
        return None
    try:
        messages = json.loads(text, parse_constant=str)
    except ValueError:
        messages = None
    if isinstance(messages, dict):
        return [messages]
    if not isinstance(messages, list):
        return [{"role": role, "content": text}]
    return [m["message"] if isinstance(m, dict) and isinstance(m.get("message"), dict) else m for m in messages]


def store_spans(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; a span already stored (a re-sent batch) is skipped, not repeated."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table_of(Span)).on_conflict_do_nothing(
        index_elements=["project_id", "trace_id", "span_id"]
    )
    session.execute(statement, rows)


def response(received: Received) -> ExportTraceServiceResponse:
    answer = ExportTraceServiceResponse()
    if received.rejected:
        answer.partial_success.rejected_spans = received.rejected
        answer.partial_success.error_message = received.problem
    return answer


def encode_response(answer: ExportTraceServiceResponse, encoding: str) -> bytes:
    if encoding == PROTOBUF:
        return answer.SerializeToString()
    return json_format.MessageToJson(answer, indent=None).encode()


def delete_expired_spans(session: Session, retention_days: int, now: datetime | None = None) -> int:
    """Delete spans received more than ``retention_days`` ago; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    spans = table_of(Span)
    return session.exec(delete(spans).where(spans.c.created_at < cutoff)).rowcount


class RetentionSweep:
    """Says when retention is due: at most once per ``interval`` (a cheap check per request)."""

    def __init__(self, interval: timedelta = timedelta(hours=1)) -> None:
        self.interval = interval
        self._next_at: datetime | None = None
        self._lock = threading.Lock()

    def due(self, now: datetime) -> bool:
        with self._lock:
            if self._next_at is not None and now < self._next_at:
                return False
            self._next_at = now + self.interval
            return True
