"""The client retries what is safe to repeat: a POST only with idempotency keys (else a proxy's
502 after the server created a run would leave one more run per retry); every other method as
the official SDK does. Against a real HTTP server on loopback that fails each request once."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from scorecard_core.client import ApiError, ScorecardClient
from tests.fakes.loopback import KeepAliveHandler, LoopbackService


class FailsOnce(LoopbackService):
    """Answers 502 to the first request of each method and path, 200 ``{"ok": true}`` after;
    counts the requests it saw."""

    name = "fails-once"

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}
        self.first_status = 502
        self.lock = threading.Lock()

    class handler(KeepAliveHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake: FailsOnce = self.server.fake
            with fake.lock:
                count = fake.seen[(self.command, self.path)] = fake.seen.get((self.command, self.path), 0) + 1
            status, body = (
                (fake.first_status, {"code": "HICCUP", "message": "try again"})
                if count == 1 and fake.first_status >= 400
                else (200, {"ok": True})
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Retry-After-Ms", "1")  # keep the test fast
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = answer


@pytest.fixture
def flaky():
    with FailsOnce() as server:
        yield server


@pytest.fixture
def client(flaky) -> ScorecardClient:
    return ScorecardClient(flaky.origin, "key", max_retries=3)


def test_a_post_without_keys_is_not_retried(flaky, client):
    with pytest.raises(ApiError) as failed:
        client.post("/projects/1/runs", {"testsetId": "2", "metricIds": ["3"]})
    assert failed.value.status == 502
    assert flaky.seen == {("POST", "/projects/1/runs"): 1}


def test_a_batch_whose_items_carry_keys_is_retried(flaky, client):
    explicit = {"items": [{"idempotencyKey": "a", "inputs": {}, "outputs": {}}]}
    assert client.post("/runs/1/records/batch", explicit) == {"ok": True}
    derived = {"items": [{"testcaseId": "5", "trial": 0, "inputs": {}, "outputs": {}}]}
    assert client.post("/runs/2/records/batch", derived) == {"ok": True}
    assert flaky.seen == {("POST", "/runs/1/records/batch"): 2, ("POST", "/runs/2/records/batch"): 2}


def test_a_batch_with_one_item_without_a_key_is_not_retried(flaky, client):
    mixed = {"items": [{"idempotencyKey": "a", "inputs": {}}, {"inputs": {}}]}
    with pytest.raises(ApiError):
        client.post("/testsets/1/testcases", mixed)
    assert flaky.seen == {("POST", "/testsets/1/testcases"): 1}


def test_other_methods_are_retried(flaky, client):
    assert client.get("/runs/1") == {"ok": True}
    assert client.patch("/runs/1", {"status": "awaiting_scoring"}) == {"ok": True}
    assert client.put("/records/1/scores/2", {"score": None}) == {"ok": True}
    assert flaky.seen == {("GET", "/runs/1"): 2, ("PATCH", "/runs/1"): 2, ("PUT", "/records/1/scores/2"): 2}


def test_a_post_refused_by_the_rate_limiter_is_retried(flaky, client):
    """A 429 says the request was not carried out, so repeating it creates nothing twice."""
    flaky.first_status = 429
    assert client.post("/projects/1/runs", {"testsetId": "2", "metricIds": ["3"]}) == {"ok": True}
    assert flaky.seen == {("POST", "/projects/1/runs"): 2}


def test_a_post_that_could_not_connect_is_retried():
    """Nothing listens on the first try (a refused connection, so nothing was sent): the POST is
    sent again once the server is up, and carried out once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    later = FailsOnce()
    later.first_status = 200
    starter = threading.Timer(0.2, lambda: later.start(port))
    starter.start()
    try:
        client = ScorecardClient(f"http://127.0.0.1:{port}", "key", max_retries=2)
        assert client.post("/projects/1/runs", {"testsetId": "2"}) == {"ok": True}
        assert later.seen == {("POST", "/projects/1/runs"): 1}
    finally:
        starter.join()
        later.stop()
