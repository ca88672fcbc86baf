"""A fake OpenAI-compatible chat completions API: a real HTTP server on a loopback port.

It answers ``POST /v1/chat/completions`` in OpenAI's response shape, deterministically from the
prompt, so the real ``openai`` client can talk to it:

- a user message containing ``VERDICT: pass`` / ``VERDICT: fail`` gives the best / worst score;
  ``SCORE: <number>`` gives that number; otherwise the score is derived from a hash of the prompt;
- the score's type follows the JSON schema requested in ``response_format``
  (``properties.score.type``: boolean, integer or number) and the answer is
  ``{"reasoning": "...", "score": ...}``.

Tests script trouble with :meth:`FakeOpenAI.fail_next` (HTTP errors, optionally with
Retry-After), :meth:`FakeOpenAI.malformed_next` (an answer whose content is arbitrary text, NUL and
unpaired surrogates included), :meth:`FakeOpenAI.truncated_next` (a 200 whose JSON body is cut
short) and :meth:`FakeOpenAI.not_json_next` (a 200 whose body is not JSON), slow it down with
:attr:`FakeOpenAI.delay`, and inspect :attr:`FakeOpenAI.requests`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from tests.fakes.loopback import KeepAliveHandler, LoopbackService

COMPLETIONS_PATH = "/v1/chat/completions"
VERDICT_MARKER = re.compile(r"VERDICT:\s*(pass|fail)\b", re.IGNORECASE)
SCORE_MARKER = re.compile(r"SCORE:\s*(-?\d+(?:\.\d+)?)")
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "requests",
}


@dataclass(frozen=True)
class _ScriptedFailure:
    status: int
    retry_after: float | None


@dataclass(frozen=True)
class _ScriptedContent:
    text: str


@dataclass(frozen=True)
class _ScriptedBody:
    """Raw bytes for the HTTP body: ``cut`` keeps only that many bytes of a real completion."""

    data: bytes
    content_type: str
    cut: int | None = None


class _Handler(KeepAliveHandler):
    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.split("?")[0] != COMPLETIONS_PATH:
            self._send(404, {}, _error_body(404, f"Unknown path {self.path}"))
            return
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self._send(401, {}, _error_body(401, "Missing bearer API key"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send(400, {}, _error_body(400, "Request body is not JSON"))
            return
        status, headers, answer = self.server.fake.answer_completion(body)
        if isinstance(answer, bytes):
            self._send_bytes(status, headers, answer)
        else:
            self._send(status, headers, answer)

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, {}, _error_body(404, f"Unknown path {self.path}"))

    def _send(self, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        self._send_bytes(status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode())

    def _send_bytes(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeOpenAI(LoopbackService):
    """Start with ``with FakeOpenAI() as fake:`` (or ``start()`` / ``stop()``); ``fake.url`` is the base_url."""

    handler = _Handler
    name = "fake-openai"

    def __init__(self, delay: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._delay = delay
        self._script: deque[_ScriptedFailure | _ScriptedContent | _ScriptedBody] = deque()
        self._requests: list[dict[str, Any]] = []
        self._in_flight = 0
        self._max_in_flight = 0

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    # -- controls ----------------------------------------------------------------------------

    @property
    def delay(self) -> float:
        with self._lock:
            return self._delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def fail_next(self, status: int = 429, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` requests with an OpenAI-shaped HTTP error."""
        with self._lock:
            self._script.extend(_ScriptedFailure(status, retry_after) for _ in range(times))

    def malformed_next(self, times: int = 1, text: str = "not json") -> None:
        """Answer the next ``times`` requests with a normal completion whose content is ``text``."""
        with self._lock:
            self._script.extend(_ScriptedContent(text) for _ in range(times))

    def truncated_next(self, times: int = 1) -> None:
        """Answer the next ``times`` requests with 200 and a completion's JSON cut off halfway."""
        with self._lock:
            self._script.extend(_ScriptedBody(b"", "application/json", cut=60) for _ in range(times))

    def not_json_next(
        self,
        times: int = 1,
        body: bytes = b"<html><body>502 Bad Gateway</body></html>",
        content_type: str = "text/html",
    ) -> None:
        """Answer the next ``times`` requests with 200 and ``body``, as a misconfigured proxy might."""
        with self._lock:
            self._script.extend(_ScriptedBody(body, content_type) for _ in range(times))

    def reset(self) -> None:
        with self._lock:
            self._delay = 0.0
            self._script.clear()
            self._requests.clear()
            self._max_in_flight = 0

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body received, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being answered at the same moment."""
        with self._lock:
            return self._max_in_flight

    # -- answering (called from handler threads) ---------------------------------------------

    def answer_completion(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any] | bytes]:
        with self._lock:
            self._requests.append(body)
            scripted = self._script.popleft() if self._script else None
            delay = self._delay
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            time.sleep(delay)
            if isinstance(scripted, _ScriptedFailure):
                headers = {} if scripted.retry_after is None else {"Retry-After": str(scripted.retry_after)}
                return scripted.status, headers, _error_body(scripted.status, "scripted failure")
            problem = _invalid_request_problem(body)
            if problem:
                return 400, {}, _error_body(400, problem)
            if isinstance(scripted, _ScriptedBody):
                data = scripted.data
                if scripted.cut is not None:
                    data = json.dumps(_completion(body, _deterministic_content(body))).encode()[: scripted.cut]
                return 200, {"Content-Type": scripted.content_type}, data
            content = scripted.text if isinstance(scripted, _ScriptedContent) else _deterministic_content(body)
            return 200, {}, _completion(body, content)
        finally:
            with self._lock:
                self._in_flight -= 1


def _invalid_request_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    if any(not isinstance(m, dict) or "role" not in m for m in messages):
        return "each message needs a 'role'"
    return None


def _requested_score_type(body: dict[str, Any]) -> str | None:
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    return ((schema.get("properties") or {}).get("score") or {}).get("type")


def _deterministic_content(body: dict[str, Any]) -> str:
    prompt = "\n".join(str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user")
    score_type = _requested_score_type(body)
    if score_type is None:
        return f"fake answer {hashlib.sha256(prompt.encode()).hexdigest()[:8]}"
    verdicts = VERDICT_MARKER.findall(prompt)
    numbers = SCORE_MARKER.findall(prompt)
    if verdicts:
        passed = verdicts[-1].lower() == "pass"
        score: Any = {"boolean": passed, "integer": 5 if passed else 1, "number": 1.0 if passed else 0.0}[score_type]
        reasoning = f"found VERDICT: {verdicts[-1].lower()}"
    elif numbers:
        value = float(numbers[-1])
        score = {"boolean": value >= 0.5, "integer": int(value), "number": value}[score_type]
        reasoning = f"found SCORE: {numbers[-1]}"
    else:
        digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
        score = {"boolean": digest % 2 == 0, "integer": 1 + digest % 5, "number": (digest % 101) / 100}[score_type]
        reasoning = "derived from the prompt's hash"
    return json.dumps({"reasoning": f"fake judge {reasoning}", "score": score})


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    completion_tokens = len(content.split())
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _error_body(status: int, message: str) -> dict[str, Any]:
    error_type = ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = "rate_limit_exceeded" if status == 429 else None
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}
