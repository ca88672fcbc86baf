"""Chat spans stored straight into the span table, one trace each, for monitors' tests: the rows
the trace receiver makes (``traces.span_row``), with the time received set by the test."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from scorecard_core import traces
from scorecard_core.db import session_scope
from tests.support.otlp import span


def trace_id_of(number: int) -> str:
    return f"{number:032x}"


def chat_row(
    project_id: int,
    number: int,
    received: datetime,
    service: str = "chat-app",
    name: str = "chat gpt-4o-mini",
    prompt: str | None = None,
    answer: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Trace ``number``'s one span: a chat call asked ``prompt`` (default "question N") that
    answered ``answer`` (default "answer N"); ``prompt=""`` and ``answer=""`` leave the call out."""
    prompt = f"question {number}" if prompt is None else prompt
    answer = f"answer {number}" if answer is None else answer
    attributes: dict[str, Any] = {"gen_ai.request.model": "gpt-4o-mini", **(extra or {})}
    if prompt:
        attributes["gen_ai.prompt.messages"] = json.dumps([{"role": "user", "content": prompt}])
        attributes["gen_ai.usage.prompt_tokens"] = 7
    if answer:
        attributes["gen_ai.completion.choices"] = json.dumps([{"message": {"role": "assistant", "content": answer}}])
        attributes["gen_ai.usage.completion_tokens"] = 2
    message = span(0, attributes)
    message.trace_id = bytes.fromhex(trace_id_of(number))
    message.name = name
    row = traces.span_row(project_id, service, {"service.name": service}, message)
    row["created_at"] = received
    return row


def store_rows(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        traces.store_spans(session, rows)
