"""OTLP export requests for the trace receiver's tests, built with the OpenTelemetry messages."""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
START_NANO = 1_764_806_400_000_000_000  # 2025-12-04T00:00:00Z

# A chat completion span as Scorecard's Python SDK (wrap_openai) sends it.
CHAT_ATTRIBUTES = {
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.prompt.messages": json.dumps([{"role": "user", "content": "What is 2+2?"}]),
    "gen_ai.completion.choices": json.dumps([{"message": {"role": "assistant", "content": "4"}}]),
    "gen_ai.usage.prompt_tokens": 12,
    "gen_ai.usage.completion_tokens": 3,
}


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


def span(number: int, attributes: dict[str, Any] | None = None, parent: int | None = None) -> Span:
    """Span ``number`` of the trace: it starts ``number`` ms after the first and lasts 250 ms."""
    start = START_NANO + number * 1_000_000
    return Span(
        trace_id=TRACE_ID,
        span_id=(number + 1).to_bytes(8, "big"),
        parent_span_id=b"" if parent is None else (parent + 1).to_bytes(8, "big"),
        name=f"openai.request.{number}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 250_000_000,
        attributes=key_values(attributes or {}),
        status=Status(code=Status.STATUS_CODE_OK),
    )


def export_request(project_id: Any, *spans: Span, service_name: str = "llm-app") -> ExportTraceServiceRequest:
    """One resource (``project_id`` None leaves out scorecard.project_id) holding ``spans``."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource = {"service.name": service_name}
    if project_id is not None:
        resource["scorecard.project_id"] = project_id
    resource_spans.resource.attributes.extend(key_values(resource))
    resource_spans.scope_spans.add().spans.extend(spans)
    return request


def otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """OTLP/JSON of ``request``: hex IDs, as the OTLP specification spells them."""
    document = json_format.MessageToDict(request)
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for item in scope.get("spans", []):
                for name in ("traceId", "spanId", "parentSpanId"):
                    if name in item:
                        item[name] = base64.b64decode(item[name]).hex()
    return document
