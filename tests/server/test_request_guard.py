"""Bodies the server must refuse are refused from the headers, before the body is read.

Each request goes over a raw socket to a real server process: the headers are sent and the body
never is, so an answer can only come from the headers. Before the guard, waitress waited for the
whole declared body (up to 1 GiB) and these requests got no answer at all.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from bench.webhook import GunicornProcess
from tests.support.processes import ServerProcess, create_api_key, serving

MB = 1024 * 1024
ANSWER_TIMEOUT = 5.0  # an answer "at once" comes in milliseconds; without the guard none comes at all


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self):
        assert self.headers["content-type"] == "application/json", self
        return json.loads(self.body)


def read_answer(sock: socket.socket, started: float) -> Answer:
    sock.settimeout(ANSWER_TIMEOUT)
    received = b""
    try:
        while b"\r\n\r\n" not in received or len(received) < _expected_length(received):
            data = sock.recv(65536)
            if not data:
                break
            received += data
    except TimeoutError:
        pytest.fail(f"no answer within {ANSWER_TIMEOUT} s: the server is waiting for the body")
    except ConnectionResetError:
        pass  # after the answer: the server closed with our unsent body pending
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return Answer(int(status_line.split()[1]), headers, body, time.monotonic() - started)


def _expected_length(received: bytes) -> int:
    head, _, _ = received.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(head) + 4 + int(value)
    return len(received) + 1


def headers_only(port: int, request_line: str, *headers: str) -> Answer:
    """Sends the request line and headers, never the body the headers announce."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT) as sock:
        started = time.monotonic()
        sock.sendall("\r\n".join([request_line, "Host: 127.0.0.1", *headers, "", ""]).encode())
        return read_answer(sock, started)


@contextmanager
def gunicorn(database_url: str, tmp_path) -> Iterator[ServerProcess]:
    server = GunicornProcess(database_url, tmp_path / "gunicorn.log", {}, workers=1, threads=2)
    try:
        server.wait_until_ready()
        yield server
        server.stop()
    finally:
        server.kill()


@pytest.fixture(params=["scorecard serve", "gunicorn"])
def live(request, database_url, tmp_path) -> Iterator[tuple[ServerProcess, str]]:
    """The server process under each WSGI server we document, and an API key."""
    if request.param == "gunicorn" and not database_url.startswith("sqlite"):
        pytest.skip("the middleware does not depend on the database; gunicorn runs once, on SQLite")
    key = create_api_key(database_url)
    start = (
        serving(database_url, tmp_path / "server.log")
        if request.param == "scorecard serve"
        else gunicorn(database_url, tmp_path)
    )
    with start as server:
        yield server, key


def test_bodies_are_refused_from_their_headers_at_once(live):
    server, key = live
    auth = f"Authorization: Bearer {key}"

    too_big = headers_only(
        server.port,
        "POST /api/v2/projects HTTP/1.1",
        auth,
        "Content-Type: application/json",
        f"Content-Length: {15 * MB + 1}",
    )
    assert too_big.status == 413
    assert too_big.json()["code"] == "PAYLOAD_TOO_LARGE" and "15 MB" in too_big.json()["message"]
    assert too_big.headers["x-content-type-options"] == "nosniff"

    delivery = headers_only(
        server.port,
        "POST /webhooks/github HTTP/1.1",
        "X-GitHub-Event: push",
        "X-Hub-Signature-256: sha256=00",
        f"Content-Length: {25 * MB + 1}",
    )
    assert delivery.status == 413 and "25 MB" in delivery.json()["message"]

    no_key = headers_only(server.port, "POST /api/v2/projects HTTP/1.1", "Content-Length: 1000")
    assert no_key.status == 401 and no_key.json()["message"].startswith("Missing API key")

    not_a_key = headers_only(
        server.port, "POST /api/v2/projects HTTP/1.1", "Authorization: Bearer guessed", "Content-Length: 1000"
    )
    assert not_a_key.status == 401 and not_a_key.json()["message"] == "Invalid or revoked API key"

    unsigned = headers_only(
        server.port, "POST /webhooks/github HTTP/1.1", "X-GitHub-Event: push", "Content-Length: 1000"
    )
    assert unsigned.status == 401 and "X-Hub-Signature-256" in unsigned.json()["message"]

    form = headers_only(
        server.port,
        "POST /sign-in HTTP/1.1",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {15 * MB + 1}",
    )
    assert form.status == 413

    for answer in (too_big, delivery, no_key, not_a_key, unsigned, form):
        assert answer.seconds < 2, answer

    # Bodies within the limits, with a key, are served as before.
    created = requests.post(
        f"{server.api_url}/projects",
        json={"name": "still served"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text


def test_a_chunked_body_is_refused_once_it_passes_the_limit(database_url, tmp_path):
    key = create_api_key(database_url)
    with serving(database_url, tmp_path / "server.log") as server:
        chunk = b"%x\r\n%s\r\n" % (MB, b" " * MB)
        with socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_TIMEOUT) as sock:
            started = time.monotonic()
            sock.sendall(
                f"POST /api/v2/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
            )
            sent = 0
            try:
                # Never the final chunk: a server that waits for the whole body never answers.
                while sent < 64 * MB:
                    sock.sendall(chunk)
                    sent += MB
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass  # the server stopped reading: its answer is waiting
            answer = read_answer(sock, started)
    assert answer.status == 413, answer
    assert answer.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert sent < 64 * MB, "the server read the whole 64 MB before answering"
