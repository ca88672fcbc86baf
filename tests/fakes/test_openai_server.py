"""The fake OpenAI server's own contract, over plain HTTP (the judge tests cover the openai client)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.fakes.openai_server import FakeOpenAI

AUTH = {"Authorization": "Bearer sk-test"}
BOOLEAN_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "b", "schema": {"type": "object", "properties": {"score": {"type": "boolean"}}}},
}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def complete(fake: FakeOpenAI, body: dict, headers: dict | None = None) -> requests.Response:
    headers = AUTH if headers is None else headers
    return requests.post(f"{fake.url}/chat/completions", json=body, headers=headers, timeout=5)


def chat(content: str, **extra) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}


def test_completion_shape_and_verdict(fake):
    response = complete(fake, chat("VERDICT: fail", response_format=BOOLEAN_FORMAT))
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "m"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert json.loads(body["choices"][0]["message"]["content"])["score"] is False
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_plain_text_without_a_schema(fake):
    content = complete(fake, chat("hello")).json()["choices"][0]["message"]["content"]
    assert content.startswith("fake answer ")
    assert complete(fake, chat("hello")).json()["choices"][0]["message"]["content"] == content


def test_errors_in_openai_shape(fake):
    assert requests.post(f"{fake.url}/models", json={}, headers=AUTH, timeout=5).status_code == 404
    assert complete(fake, chat("x"), headers={}).json()["error"]["message"] == "Missing bearer API key"
    invalid = complete(fake, {"model": "m", "messages": []})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["type"] == "invalid_request_error"


def test_script_plays_in_order_then_resets(fake):
    fake.fail_next(status=429, times=1, retry_after=0.25)
    fake.malformed_next(times=1, text="oops")
    limited = complete(fake, chat("a"))
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "0.25")
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert complete(fake, chat("b")).json()["choices"][0]["message"]["content"] == "oops"
    assert complete(fake, chat("c")).status_code == 200
    assert [r["messages"][0]["content"] for r in fake.requests] == ["a", "b", "c"]
    fake.fail_next(status=500, times=3)
    fake.reset()
    assert fake.requests == []
    assert complete(fake, chat("d")).status_code == 200


def test_scripted_bodies_a_client_cannot_read(fake):
    fake.truncated_next()
    fake.not_json_next(body=b"<html>bad gateway</html>")
    truncated = complete(fake, chat("VERDICT: pass"))
    assert truncated.status_code == 200 and truncated.headers["Content-Type"] == "application/json"
    assert truncated.content.startswith(b'{"id": "chatcmpl-')
    with pytest.raises(ValueError):
        truncated.json()
    html = complete(fake, chat("VERDICT: pass"))
    assert html.status_code == 200 and html.headers["Content-Type"] == "text/html"
    assert html.content == b"<html>bad gateway</html>"
    assert complete(fake, chat("VERDICT: pass")).json()["object"] == "chat.completion"
