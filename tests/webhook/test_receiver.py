"""``POST /webhooks/github`` over real HTTP: verification, limits, acknowledgement, and each
delivery processed exactly once however GitHub (re)sends it."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests

from scorecard_core.db import session_scope
from scorecard_core.models import WebhookDelivery, utcnow
from tests.conftest import start_server
from tests.webhook.conftest import PR_HEAD_REF, REPO, SECRET, WORKFLOW, Sender, example
from webhook.signatures import sign

MB = 1024 * 1024


def test_without_a_configured_secret_every_delivery_is_refused(sqlite_url):
    live = start_server(sqlite_url, GITHUB_WEBHOOK_SECRETS=())
    try:
        response = Sender(live).send("ping", example("ping"))
        assert response.status_code == 401
        assert "SCORECARD_GITHUB_WEBHOOK_SECRET" in response.json()["message"]
    finally:
        live.stop()


def test_missing_or_bad_signatures_are_refused_and_nothing_is_stored(sender, github):
    payload = example("pull_request", "opened")
    unsigned = sender.send("pull_request", payload, secret=None)
    wrong_secret = sender.send("pull_request", payload, secret="not the secret")
    body = json.dumps(payload).encode()
    tampered = sender.send(
        "pull_request",
        None,
        body=body.replace(b'"opened"', b'"closed"'),
        secret=None,
        **{"X-Hub-Signature-256": sign(SECRET, body)},
    )
    for response in (unsigned, wrong_secret, tampered):
        assert response.status_code == 401
        assert "X-Hub-Signature-256" in response.json()["message"]
    assert sender.deliveries() == []
    assert github.requests == []


def test_ping_is_answered(sender):
    response = sender.send("ping", example("ping"))
    assert response.status_code == 200
    assert response.json()["message"] == "pong"


def test_bodies_that_are_not_a_json_object_are_refused(sender):
    for body, content_type in (
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"payload=%7B%7D", "application/x-www-form-urlencoded"),
    ):
        response = sender.send("push", None, body=body, **{"Content-Type": content_type})
        assert response.status_code == 400, body
        assert "application/json" in response.json()["message"] or "JSON object" in response.json()["message"]
    assert sender.deliveries() == []


def test_missing_github_headers_are_refused(sender):
    payload = example("ping")
    response = sender.send("", payload)
    assert response.status_code == 400 and "X-GitHub-Event" in response.json()["message"]


def test_payloads_up_to_githubs_25_mb_are_taken_and_larger_ones_refused(sender):
    # Over the API's 15 MB limit but within GitHub's 25 MB: the webhook route takes it.
    payload = {"action": "padding", "zen": "x" * (20 * MB)}
    accepted = sender.send("push", payload)
    assert accepted.status_code == 202 and accepted.json()["message"] == "ignored"

    too_large = sender.send("push", None, body=b"{" + b" " * (25 * MB) + b"}")
    assert too_large.status_code == 413 and "25 MB" in too_large.json()["message"]

    chunked = requests.post(
        sender.url,
        data=(b" " * MB for _ in range(26)),
        timeout=60,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=0",
        },
    )
    assert chunked.status_code == 413


def test_events_and_actions_without_a_handler_are_acknowledged_as_ignored(sender, github):
    for event, payload in (
        ("push", example("push")),
        ("check_run", example("check_run")),
        ("pull_request", example("pull_request", "labeled")),
        ("issue_comment", example("issue_comment", "edited")),
    ):
        delivery = str(uuid.uuid4())
        response = sender.send(event, payload, delivery)
        assert response.status_code == 202 and response.json()["message"] == "ignored", event
        assert sender.delivery(delivery).status == "ignored"
    assert github.requests == []


def test_text_no_database_can_store_is_replaced_before_a_delivery_is_recorded(sender, github):
    payload = example("pull_request", "labeled")
    payload["action"] = "labeled\u0000\ud800"  # sent as JSON escapes, as any JSON encoder does
    delivery = str(uuid.uuid4())
    response = sender.send("pull_request", payload, delivery)
    assert response.status_code == 202 and response.json()["action"] == "labeled\ufffd\ufffd"
    assert sender.delivery(delivery).action == "labeled\ufffd\ufffd"
    assert github.requests == []


def test_a_redelivery_is_processed_once(sender, github, project):
    payload, delivery = example("pull_request", "opened"), str(uuid.uuid4())
    assert sender.deliver("pull_request", payload, delivery).status == "processed"
    again = sender.send("pull_request", payload, delivery)
    assert again.status_code == 202 and again.json()["message"] == "already processed"
    assert len(github.workflow_dispatches(REPO)) == 1
    assert sender.delivery(delivery).attempts == 1


def test_simultaneous_copies_of_one_delivery_are_processed_once(sender, github, project):
    payload, delivery = example("pull_request", "opened"), str(uuid.uuid4())
    start = threading.Barrier(10)

    def send_copy(_index: int) -> str:
        start.wait()
        return sender.send("pull_request", payload, delivery).json()["message"]

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(send_copy, range(10)))
    assert sorted(answers) == ["accepted"] + ["already processed"] * 9
    assert sender.wait(delivery).status == "processed"
    assert len(github.workflow_dispatches(REPO)) == 1


def test_a_failed_delivery_is_retried_on_redelivery(sender, github, project):
    payload, delivery = example("pull_request", "opened"), str(uuid.uuid4())
    github.fail_next("POST", "/repos/*/actions/workflows/*/dispatches", 404)
    failed = sender.deliver("pull_request", payload, delivery)
    assert failed.status == "failed"
    assert "404" in failed.error and WORKFLOW in failed.error

    retried = sender.deliver("pull_request", payload, delivery)
    assert retried.status == "processed" and retried.error is None and retried.attempts == 2
    dispatched = github.workflow_dispatches(REPO)
    assert len(dispatched) == 1 and dispatched[0].ref == PR_HEAD_REF


def test_a_delivery_abandoned_by_a_dead_process_is_taken_again(sender, github, project):
    payload, delivery = example("pull_request", "opened"), str(uuid.uuid4())
    engine = sender.server.app.extensions["scorecard.engine"]
    with session_scope(engine) as session:  # queued three hours ago by a process that then died
        session.add(
            WebhookDelivery(
                id=delivery,
                event="pull_request",
                action="opened",
                status="processing",
                attempts=1,
                received_at=utcnow() - timedelta(hours=3),
            )
        )
    taken = sender.deliver("pull_request", payload, delivery)
    assert taken.status == "processed" and taken.attempts == 2
    assert len(github.workflow_dispatches(REPO)) == 1


def test_a_hundred_concurrent_deliveries_are_all_recorded_and_processed(sender):
    payload = example("issue_comment", "created")  # handled, and quick: a comment on an issue, not a PR
    deliveries = [str(uuid.uuid4()) for _ in range(100)]
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda d: sender.send("issue_comment", payload, d), deliveries))
    assert [r.status_code for r in responses] == [202] * 100
    assert {r.json()["message"] for r in responses} == {"accepted"}
    settled = [sender.wait(d) for d in deliveries]
    assert [d.status for d in settled] == ["processed"] * 100
    assert len(sender.deliveries()) == 100


@pytest.mark.parametrize("secret", ["old secret", "new secret"])
def test_either_configured_secret_is_accepted_while_rotating(sqlite_url, secret):
    live = start_server(sqlite_url, GITHUB_WEBHOOK_SECRETS=("old secret", "new secret"))
    try:
        assert Sender(live).send("ping", example("ping"), secret=secret).status_code == 200
        assert Sender(live).send("ping", example("ping"), secret="older secret").status_code == 401
    finally:
        live.stop()
