"""The Scorecard API client against a scripted HTTP server on loopback: paging through lists,
Scorecard's error shape as ``ApiError``, Retry-After on a GET answered 429, unreachable servers.
(POST retries are out of scope here: their policy is the client's own business to change.)"""

from __future__ import annotations

import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from scorecard_core.client import ApiError, ScorecardClient
from scorecard_core.errors import ScorecardError
from tests.fakes.loopback import KeepAliveHandler, LoopbackService

Response = tuple[int, dict[str, str], Any]  # status, headers, JSON body (bytes are sent as they are)


class _Handler(KeepAliveHandler):
    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        fake: ScriptedApi = self.server.fake
        url = urlsplit(self.path)
        fake.requests.append((url.path, {k: v[0] for k, v in parse_qs(url.query).items()}, dict(self.headers)))
        status, headers, body = fake.next_response(url.path)
        data = body if isinstance(body, bytes) else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        if data and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ScriptedApi(LoopbackService):
    """Answers each path with its scripted responses in turn; the last one repeats."""

    handler = _Handler
    name = "scripted-scorecard"

    def __init__(self):
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self._script: dict[str, deque[Response]] = defaultdict(deque)

    def script(self, path: str, *responses: Response) -> None:
        self._script[path].extend(responses)

    def next_response(self, path: str) -> Response:
        queued = self._script.get(path)
        if not queued:
            return 404, {}, {"code": "NOT_FOUND", "message": f"nothing scripted at {path}", "details": {}}
        return queued.popleft() if len(queued) > 1 else queued[0]

    def client(self, **options: Any) -> ScorecardClient:
        return ScorecardClient(f"{self.origin}/api/v2/", "sk-test", **{"max_retries": 0, "timeout": 10, **options})


@pytest.fixture
def api() -> Iterator[ScriptedApi]:
    with ScriptedApi() as fake:
        yield fake


def page(items: list[int], cursor: str | None) -> Response:
    return 200, {}, {"data": [{"id": str(i)} for i in items], "hasMore": cursor is not None, "nextCursor": cursor}


def test_paginate_follows_the_cursor_across_pages(api):
    api.script("/api/v2/runs/1/records", page([1, 2], "c2"), page([3, 4], "c3"), page([5], None))
    records = list(api.client().paginate("/runs/1/records", limit=2, status="completed", testsetId=None))
    assert [r["id"] for r in records] == ["1", "2", "3", "4", "5"]
    assert [query for _path, query, _headers in api.requests] == [
        {"limit": "2", "status": "completed"},  # a parameter given as None is not sent
        {"limit": "2", "status": "completed", "cursor": "c2"},
        {"limit": "2", "status": "completed", "cursor": "c3"},
    ]


def test_paginate_stops_when_a_page_says_more_but_gives_no_cursor(api):
    api.script("/api/v2/projects", (200, {}, {"data": [{"id": "1"}], "hasMore": True, "nextCursor": None}))
    assert [p["id"] for p in api.client().paginate("/projects")] == ["1"]
    assert len(api.requests) == 1


def test_requests_carry_the_api_key(api):
    api.script("/api/v2/runs/7", (200, {}, {"id": "7"}))
    assert api.client().get("/runs/7") == {"id": "7"}
    [(_path, _query, headers)] = api.requests
    assert headers["Authorization"] == "Bearer sk-test"
    assert headers["User-Agent"] == "scorecard-github"


def test_an_empty_answer_is_none(api):
    api.script("/api/v2/runs/7", (204, {}, None))
    assert api.client().get("/runs/7") is None


def test_scorecards_error_shape_becomes_an_api_error(api):
    details = {"resource": "run", "id": "9"}
    api.script("/api/v2/runs/9", (404, {}, {"code": "NOT_FOUND", "message": "run 9 not found", "details": details}))
    with pytest.raises(ApiError) as raised:
        api.client(max_retries=3).get("/runs/9")
    error = raised.value
    assert isinstance(error, ScorecardError)
    assert (error.status, error.code, error.details) == (404, "NOT_FOUND", details)
    assert str(error) == "404 NOT_FOUND: run 9 not found"
    assert len(api.requests) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"upstream down", "Bad Gateway", "upstream down"),
        (["not", "an", "object"], "Bad Gateway", '["not", "an", "object"]'),
        ({"code": "", "message": "", "details": ["x"]}, "Bad Gateway", '{"code": "", "message": "", "details": ["x"]}'),
    ],
    ids=["text", "a list", "empty fields"],
)
def test_an_error_without_scorecards_shape_falls_back_to_the_http_status(api, body, code, message):
    api.script("/api/v2/runs/9", (502, {}, body))
    with pytest.raises(ApiError) as raised:
        api.client().get("/runs/9")
    assert (raised.value.status, raised.value.code, raised.value.details) == (502, code, {})
    assert str(raised.value) == f"502 {code}: {message}"


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "1"}, 1.0),  # longer than the client's own first backoff (0.5 s)
        ({"retry-after-ms": "700", "Retry-After": "0"}, 0.7),  # the millisecond header wins
    ],
    ids=["seconds", "milliseconds"],
)
def test_a_get_answered_429_is_retried_after_the_wait_the_server_asked_for(api, headers, wait):
    busy = (429, headers, {"code": "RATE_LIMITED", "message": "slow down", "details": {}})
    api.script("/api/v2/runs/7", busy, (200, {}, {"id": "7"}))
    started = time.monotonic()
    assert api.client(max_retries=2).get("/runs/7") == {"id": "7"}
    assert time.monotonic() - started >= wait
    assert len(api.requests) == 2


def test_a_retry_after_date_is_honoured_too(api):
    """Retry-After may also be an HTTP date (RFC 9110), which the official SDK honours as well."""
    when = formatdate(time.time() + 2, usegmt=True)  # whole seconds: a wait of 1 to 2 s from now
    busy = (429, {"Retry-After": when}, {"code": "RATE_LIMITED", "message": "slow down", "details": {}})
    api.script("/api/v2/runs/7", busy, (200, {}, {"id": "7"}))
    started = time.monotonic()
    assert api.client(max_retries=2).get("/runs/7") == {"id": "7"}
    assert time.monotonic() - started >= 1.0  # not the client's own first backoff (0.5 s)


def test_a_get_still_refused_after_its_retries_raises_the_last_error(api):
    busy = (429, {"Retry-After": "0"}, {"code": "RATE_LIMITED", "message": "slow down", "details": {}})
    api.script("/api/v2/runs/7", busy)
    with pytest.raises(ApiError) as raised:
        api.client(max_retries=2).get("/runs/7")
    assert (raised.value.status, raised.value.code) == (429, "RATE_LIMITED")
    assert len(api.requests) == 3


def test_an_unreachable_server_is_a_connection_error():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ScorecardClient(f"http://127.0.0.1:{port}/api/v2", "sk-test", max_retries=0, timeout=5)
    with pytest.raises(ApiError) as raised:
        client.get("/runs/7")
    assert (raised.value.status, raised.value.code) == (0, "CONNECTION_ERROR")
    assert f"cannot reach http://127.0.0.1:{port}/api/v2" in str(raised.value)
