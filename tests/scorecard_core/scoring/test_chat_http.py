"""The judge's HTTP client (aiohttp underneath) on the wire: timeouts, refused connections,
connections the server closed while pooled, a chunked and compressed answer, errors worded as the
openai client's, against small real servers on loopback (the fake OpenAI server, and for
wire-level details a raw one written here)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
from collections.abc import Awaitable, Callable

import openai
import pytest

from scorecard_core.model_errors import describe_model_error
from scorecard_core.scoring.chat_http import (
    ChatEndpoint,
    EndpointConnectionError,
    EndpointStatusError,
    EndpointTimeoutError,
    retry_after_seconds,
)

COMPLETION = {"choices": [{"message": {"content": "ok"}}]}
BODY = json.dumps(COMPLETION).encode()
Answer = Callable[[int], Awaitable[bytes]]  # the nth request's raw HTTP answer


def http_answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


async def serve(
    answer: Answer, close_after_each: bool = False, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.base_events.Server, list[int]]:
    """A raw HTTP/1.1 server: ``answer(n)`` for the nth request; returns it and the connections'
    request counts."""
    per_connection: list[int] = []
    requests = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        per_connection.append(0)
        index = len(per_connection) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                per_connection[index] += 1
                requests += 1
                writer.write(await answer(requests))
                await writer.drain()
                if close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    return server, per_connection


def endpoint(server: asyncio.base_events.Server, max_retries: int = 0, timeout: float = 5.0) -> ChatEndpoint:
    port = server.sockets[0].getsockname()[1]
    return ChatEndpoint(f"http://127.0.0.1:{port}/v1", "sk-test", max_retries=max_retries, timeout=timeout)


async def post_and_close(client: ChatEndpoint, body: dict) -> bytes:
    try:
        return (await client.post("chat/completions", body)).body
    finally:
        await client.aclose()


def test_a_connection_the_server_closed_while_pooled_is_replaced_without_a_retry():
    async def scenario() -> list[int]:
        async def answer(_: int) -> bytes:
            return http_answer(BODY, f"Content-Length: {len(BODY)}", "Content-Type: application/json")

        server, per_connection = await serve(answer, close_after_each=True)
        client = endpoint(server, max_retries=0)  # no retries: the second call must not need one
        for _ in range(3):
            assert json.loads((await client.post("chat/completions", {"n": 1})).body) == COMPLETION
            await asyncio.sleep(0.05)  # the server's close arrives while the connection idles in the pool
        await client.aclose()
        server.close()
        return per_connection

    assert asyncio.run(scenario()) == [1, 1, 1]


def test_a_chunked_gzip_answer_is_decoded():
    zipped = gzip.compress(BODY)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (zipped[:10], zipped[10:])) + b"0\r\n\r\n"

    async def scenario() -> bytes:
        async def answer(_: int) -> bytes:
            return http_answer(chunked, "Transfer-Encoding: chunked", "Content-Encoding: gzip")

        server, _ = await serve(answer)
        client = endpoint(server)
        body = await post_and_close(client, {})
        server.close()
        return body

    assert asyncio.run(scenario()) == BODY


def test_a_slow_endpoint_times_out_on_every_try():
    async def scenario() -> tuple[EndpointTimeoutError, list[int]]:
        async def answer(_: int) -> bytes:
            await asyncio.sleep(1.0)
            return http_answer(BODY, f"Content-Length: {len(BODY)}")

        server, per_connection = await serve(answer)
        client = endpoint(server, max_retries=1, timeout=0.2)
        with pytest.raises(EndpointTimeoutError) as raised:
            await post_and_close(client, {})
        server.close()
        return raised.value, per_connection

    error, per_connection = asyncio.run(scenario())
    assert per_connection == [1, 1]  # a connection that timed out mid-answer is not used again
    assert isinstance(error, openai.APITimeoutError)
    described = describe_model_error(error, where="the judge", tries=2, model="m", timeout=0.2)
    assert described == "the judge did not answer within 0.2s (tried 2 times)"


def test_an_error_status_carries_the_error_object_as_the_openai_client_does(fake_openai):
    client = ChatEndpoint(fake_openai.url, "sk-test", max_retries=0, timeout=5)
    with pytest.raises(EndpointStatusError) as raised:
        asyncio.run(post_and_close(client, {"messages": []}))
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "message": "you must provide a model parameter",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert raised.value.type == "invalid_request_error"
    described = describe_model_error(raised.value, where="the judge", tries=1, model="m")
    assert described == "the judge answered HTTP 400 for model 'm': you must provide a model parameter."


def test_a_netrc_default_entry_leaves_the_api_key_be(fake_openai, monkeypatch, tmp_path):
    # aiohttp's trust_env would add these credentials to every request, and refuse them beside
    # the Authorization header; the client reads .netrc only for a proxy's credentials.
    netrc = tmp_path / "netrc"
    netrc.write_text("default login eve password nope\n")
    monkeypatch.setenv("NETRC", str(netrc))
    client = ChatEndpoint(fake_openai.url, "sk-test", max_retries=0, timeout=5)
    body = {"model": "m", "messages": [{"role": "user", "content": "VERDICT: pass"}]}
    assert json.loads(asyncio.run(post_and_close(client, body)))["choices"]


def test_a_refused_connection_is_a_connection_error():
    # A port bound but not listening refuses connections, and no other process can take it
    # meanwhile (a port merely closed again could be taken by a server of a parallel test).
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        client = ChatEndpoint(f"http://127.0.0.1:{port}/v1", "sk-test", max_retries=1, timeout=5)
        with pytest.raises(EndpointConnectionError) as raised:
            asyncio.run(post_and_close(client, {}))
    assert not isinstance(raised.value, openai.APITimeoutError)
    described = describe_model_error(raised.value, where="the judge", tries=2, model="m")
    assert (
        described == "could not connect to the judge (tried 2 times); check SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL"
    )


def test_a_base_url_that_is_not_http_is_refused_naming_it():
    with pytest.raises(ValueError, match="base URL 'ftp://example.com' must be an http:// or https:// URL"):
        ChatEndpoint("ftp://example.com", "sk-test", max_retries=0, timeout=1)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),  # in the past: negative, so backoff
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers, seconds):
    found = retry_after_seconds(headers)
    if seconds is None:
        assert found is None or found < 0
    else:
        assert found == seconds
