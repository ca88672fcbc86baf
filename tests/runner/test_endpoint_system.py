"""Endpoint systems (a version's HTTP API) against a small endpoint on loopback: body rendering,
responsePath, errors, secret headers and the guard against server-side request forgery."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from runner.systems import SystemCall, SystemCallFailed, check_system_config, system_from_config
from runner.systems.endpoint import check_destination
from runner.systems.version_config import parse_system_config
from scorecard_core.errors import InvalidField
from tests.fakes.loopback import KeepAliveHandler, LoopbackService

SECRET = "s3cr3t-value-never-shown"
BODY = '{"prompt": {{ inputs.question | tojson }}, "n": 1}'
ALLOW_SETTING = "SCORECARD_ENDPOINT_ALLOW_LINK_LOCAL=true"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(KeepAliveHandler):
    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, data = self.server.fake.receive(Received(self.command, self.path, dict(self.headers), body))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer  # noqa: N815  (http.server's naming)


class FakeEndpoint(LoopbackService):
    """Answers ``{"received": <the JSON body>, "headers": {...}, "choices": [{"text": "an answer"}]}``,
    or ``status`` with ``reply`` once they are set; records every request."""

    handler = _Handler
    name = "fake-endpoint"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self.status = 200
        self.reply: bytes | None = None

    def receive(self, request: Received) -> tuple[int, bytes]:
        with self._lock:
            self.requests.append(request)
        if self.reply is not None:
            return self.status, self.reply
        received = json.loads(request.body) if request.body else None
        answer = {"received": received, "headers": request.headers, "choices": [{"text": "an answer"}]}
        return self.status, json.dumps(answer).encode()

    def url(self, path: str = "/generate") -> str:
        return f"{self.origin}{path}"


@pytest.fixture
def endpoint() -> Iterator[FakeEndpoint]:
    with FakeEndpoint() as fake:
        yield fake


def endpoint_config(url: str, **overrides) -> dict:
    return {"kind": "endpoint", "url": url, "method": "POST", "body": BODY, **overrides}


def call(config: dict, inputs: dict, allow_link_local: bool = False) -> SystemCall:
    system = system_from_config(
        config,
        concurrency=2,
        openai_base_url="http://127.0.0.1:9/v1",
        openai_api_key=None,
        allow_link_local=allow_link_local,
    )

    async def scenario() -> SystemCall:
        await system.start()
        try:
            return await system.call(inputs, None, 10)
        finally:
            await system.close()

    return asyncio.run(scenario())


def test_the_body_is_rendered_with_tojson_escaping_quotes_and_newlines(endpoint):
    question = 'say "hi"\nand \\ goodbye'
    result = call(endpoint_config(endpoint.url()), {"question": question})

    assert result.error is None
    [request] = endpoint.requests
    assert (request.method, request.path) == ("POST", "/generate")
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"prompt": question, "n": 1}
    assert result.outputs is not None and result.outputs["received"] == {"prompt": question, "n": 1}


@pytest.mark.parametrize(
    ("path", "outputs"),
    [
        ("/choices/0/text", {"output": "an answer"}),
        ("/received", {"prompt": "hi", "n": 1}),
        ("/received/n", {"output": 1}),
    ],
)
def test_the_output_is_the_value_at_the_response_path(endpoint, path, outputs):
    result = call(endpoint_config(endpoint.url(), responsePath=path), {"question": "hi"})

    assert result.error is None
    assert result.outputs == outputs


def test_a_response_path_missing_from_the_answer_is_a_call_error_saying_where(endpoint):
    result = call(endpoint_config(endpoint.url(), responsePath="/choices/3/text"), {"question": "hi"})

    assert result.outputs is None
    assert result.error.startswith("responsePath /choices/3/text is not in the answer: no '3' in a list of 1;")


def test_without_a_body_template_the_inputs_are_posted_and_a_get_sends_nothing(endpoint):
    posted = call(endpoint_config(endpoint.url(), body=None), {"question": "hi"})
    got = call(endpoint_config(endpoint.url(), body=None, method="get"), {"question": "hi"})

    assert posted.outputs is not None and posted.outputs["received"] == {"question": "hi"}
    assert got.outputs is not None and got.outputs["received"] is None
    assert [request.method for request in endpoint.requests] == ["POST", "GET"]


def test_a_body_that_does_not_render_json_is_a_call_error_pointing_at_tojson(endpoint):
    result = call(endpoint_config(endpoint.url(), body='{"prompt": "{{ inputs.question }}"}'), {"question": 'a "b"'})

    assert result.outputs is None
    assert result.error.startswith("config.body rendered something that is not JSON (")
    assert "{{ inputs.<name> | tojson }}" in result.error
    assert endpoint.requests == []


def test_a_non_2xx_answer_is_a_call_error_with_the_status_and_the_body(endpoint):
    endpoint.status, endpoint.reply = 503, b'{"error": "overloaded, try later"}'
    result = call(endpoint_config(endpoint.url()), {"question": "hi"})

    assert result.outputs is None
    assert result.error == f'POST {endpoint.url()} answered HTTP 503: {{"error": "overloaded, try later"}}'


def test_a_secret_header_is_sent_but_never_shown_in_errors(endpoint):
    config = endpoint_config(endpoint.url(), headers={"X-Key": {"secret": SECRET}, "X-Team": "evals"})
    ok = call(config, {"question": "hi"})
    endpoint.status = 401  # an API that echoes the request's headers in its error
    failed = call(config, {"question": "hi"})

    assert ok.error is None
    assert all(request.headers["X-Key"] == SECRET for request in endpoint.requests)
    assert endpoint.requests[0].headers["X-Team"] == "evals"
    assert "answered HTTP 401" in failed.error and '"X-Key": "***"' in failed.error
    assert SECRET not in failed.error
    assert SECRET not in repr(parse_system_config(config))


def test_the_cloud_metadata_address_is_refused_naming_the_setting_that_allows_it():
    result = call(endpoint_config("http://169.254.169.254/latest"), {"question": "hi"})

    assert result.outputs is None
    assert result.error == (
        "the server refuses to call http://169.254.169.254/latest: 169.254.169.254 is a cloud metadata address; "
        f"set {ALLOW_SETTING} on the server to allow it"
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a cloud metadata service"),
        ("http://METADATA.google.internal./", "is a cloud metadata service"),
        ("http://169.254.1.2:8080/", "a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata address"),
        ("http://100.100.100.200/", "a cloud metadata address"),
    ],
)
def test_link_local_and_metadata_destinations_are_refused(url, why):
    with pytest.raises(SystemCallFailed, match=ALLOW_SETTING) as raised:
        asyncio.run(check_destination(url, allow_link_local=False))
    assert why in str(raised.value)


def test_allowing_link_local_lets_the_call_past_the_resolution_step():
    # Only the guard runs: nothing is sent to the metadata address.
    addresses = asyncio.run(check_destination("http://169.254.169.254/latest", allow_link_local=True))

    assert addresses == [ipaddress.ip_address("169.254.169.254")]


def test_loopback_and_private_destinations_are_allowed():
    assert asyncio.run(check_destination("http://127.0.0.1:8000/", allow_link_local=False)) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    assert asyncio.run(check_destination("http://10.1.2.3/", allow_link_local=False)) == [
        ipaddress.ip_address("10.1.2.3")
    ]


@pytest.mark.parametrize(
    ("overrides", "field", "problem"),
    [
        ({"url": "ftp://example.com/x"}, "config.url", "must be an http(s) URL"),
        ({"url": None}, "config.url", "must be an http(s) URL"),
        ({"method": "FETCH"}, "config.method", "must be one of GET, POST, PUT, PATCH, DELETE"),
        ({"responsePath": "choices/0/text"}, "config.responsePath", "must be a JSON pointer like /a/0/b"),
        ({"responsePath": "/a~2b"}, "config.responsePath", "must be a JSON pointer like /a/0/b"),
        ({"headers": {"X-Key": 3}}, "config.headers.X-Key", 'must be a string or {"secret": "<value>"}'),
        ({"headers": {"X-Key": {"secret": "a", "b": "c"}}}, "config.headers.X-Key", "must be a string or"),
        ({"headers": {"Bad Name": "x"}}, "config.headers.Bad Name", "is not a valid header name"),
        ({"headers": {"X-Key": "a\r\nX-Injected: 1"}}, "config.headers.X-Key", "must be on one line"),
        ({"body": '{"q": {{ inputs.question | tojson }'}, "config.body", "has a template error: line 1:"),
    ],
)
def test_a_bad_endpoint_config_is_refused_naming_the_field(overrides, field, problem):
    with pytest.raises(InvalidField) as raised:
        check_system_config({**endpoint_config("https://api.example.com/generate"), **overrides})
    assert raised.value.field == field
    assert problem in raised.value.problem


def test_a_good_endpoint_config_passes_the_check():
    check_system_config(
        endpoint_config(
            "https://api.example.com/generate",
            headers={"Authorization": {"secret": "Bearer x"}, "X-Team": "evals"},
            responsePath="/choices/0/a~1b",
        )
    )
