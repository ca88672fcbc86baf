"""Fixtures for the webhook service: our live server with a webhook secret and GitHub pointed at
a fake, a project connected to the example payloads' repository, and a sender that signs
deliveries as GitHub does."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import Session, select

from scorecard_core.models import WebhookDelivery
from tests.conftest import LiveServer, start_server
from tests.fakes.github_server import ACTIONS_TOKEN, FakeGitHub
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric
from webhook.signatures import sign

SECRET = "webhook-secret-for-tests"
REPO = "Codertocat/Hello-World"  # the repository of most example payloads
PR_NUMBER, PR_HEAD_REF, PR_BASE_REF = 2, "changes", "master"
PR_HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
WORKFLOW = "scorecard-eval.yml"
EXAMPLES_FILE = Path(__file__).parents[1] / "fixtures" / "github" / "webhook-examples.json"
SETTLED = ("processed", "failed", "ignored")


def examples() -> dict[str, list[dict[str, Any]]]:
    """GitHub's example payloads by event name."""
    return {group["name"]: group["examples"] for group in json.loads(EXAMPLES_FILE.read_text())}


def example(event: str, action: str | None = None) -> dict[str, Any]:
    """A fresh copy of the first example of ``event`` (with ``action``) to edit."""
    found = next(p for p in examples()[event] if action is None or p.get("action") == action)
    return copy.deepcopy(found)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, default_branch=PR_BASE_REF)
        fake.add_workflow(REPO, WORKFLOW)
        fake.add_pull(REPO, PR_NUMBER, head_sha=PR_HEAD_SHA, head_ref=PR_HEAD_REF, base_ref=PR_BASE_REF)
        yield fake
        assert fake.spec_violations == []


@pytest.fixture
def server(database_url, github) -> Iterator[LiveServer]:
    """Overrides the suite's ``server``: GitHub is the fake, deliveries are signed with SECRET."""
    live = start_server(
        database_url,
        GITHUB_API_URL=github.url,
        GITHUB_TOKEN=None,
        GITHUB_WEBHOOK_SECRETS=(SECRET,),
        GITHUB_SECONDS_BETWEEN_WRITES=0,
    )
    yield live
    live.stop()


@pytest.fixture
def project(client) -> dict[str, Any]:
    """A project with a testset and a heuristic metric, connected to REPO with every trigger on."""
    project, testset, _testcases = make_project(client, cases=3)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    connection = client.put(
        f"/projects/{project['id']}/github",
        {
            "repo": REPO,
            "branch": PR_BASE_REF,
            "workflow": WORKFLOW,
            "onPullRequest": True,
            "onMerge": True,
            "testsetId": testset["id"],
            "metricIds": [exact["id"]],
            "auth": "token",
            "token": ACTIONS_TOKEN,
        },
    )
    return {"id": project["id"], "testset": testset, "metric": exact, "connection": connection}


@dataclass
class Sender:
    """Signs and posts deliveries to the live server, and waits for their processing."""

    server: LiveServer

    @property
    def url(self) -> str:
        return f"{self.server.url}/webhooks/github"

    def send(
        self,
        event: str,
        payload: Any,
        delivery: str | None = None,
        secret: str | None = SECRET,
        body: bytes | None = None,
        **headers: str,
    ) -> requests.Response:
        raw = body if body is not None else json.dumps(payload).encode()
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            **headers,
        }
        if secret is not None:
            sent["X-Hub-Signature-256"] = sign(secret, raw)
        return requests.post(self.url, data=raw, headers=sent, timeout=60)

    def deliver(self, event: str, payload: dict[str, Any], delivery: str | None = None) -> WebhookDelivery:
        """Send, expect it accepted, and wait until it is processed (or failed)."""
        delivery = delivery or str(uuid.uuid4())
        response = self.send(event, payload, delivery)
        assert response.status_code == 202 and response.json()["message"] == "accepted", response.text
        return self.wait(delivery)

    def delivery(self, delivery_id: str) -> WebhookDelivery | None:
        with Session(self.server.app.extensions["scorecard.engine"]) as session:
            return session.get(WebhookDelivery, delivery_id)

    def deliveries(self) -> list[WebhookDelivery]:
        with Session(self.server.app.extensions["scorecard.engine"]) as session:
            return list(session.exec(select(WebhookDelivery)))

    def wait(self, delivery_id: str, timeout: float = 30.0) -> WebhookDelivery:
        deadline = time.monotonic() + timeout
        while True:
            found = self.delivery(delivery_id)
            if found is not None and found.status in SETTLED:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"delivery {delivery_id} did not settle in {timeout}s: {found and found.status}")
            time.sleep(0.02)


@pytest.fixture
def sender(server) -> Sender:
    return Sender(server)
