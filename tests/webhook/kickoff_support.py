"""What the kickoff tests share, on top of tests/webhook/conftest.py (our live server pointed at a
fake GitHub holding REPO, its example workflow and pull request): a project to evaluate, its
connection, and the kickoff call. Test modules import ``evaluation_fixture``, which pytest knows as
``evaluation``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from scorecard_core.client import ScorecardClient
from tests.fakes.github_server import ACTIONS_TOKEN, FakeGitHub, RecordedRequest
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric
from tests.webhook.conftest import PR_BASE_REF, REPO, WORKFLOW

CASES = 6
DISPATCH_OPERATIONS = ("actions/create-workflow-dispatch", "repos/create-dispatch-event")


@dataclass
class Evaluation:
    project_id: str
    testset_id: str
    metric_ids: list[str]


@pytest.fixture(name="evaluation")
def evaluation_fixture(client) -> Evaluation:
    """A project whose testset two exact-match metrics score (two, to see the comma list)."""
    project, testset, _testcases = make_project(client, cases=CASES)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    again = metric(client, project, name="Exact again", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    return Evaluation(project["id"], testset["id"], [exact["id"], again["id"]])


def connect(client: ScorecardClient, evaluation: Evaluation, **fields: Any) -> dict[str, Any]:
    """Connect the project to REPO's example workflow with the Actions token (write access)."""
    body = {
        "repo": REPO,
        "branch": PR_BASE_REF,
        "workflow": WORKFLOW,
        "auth": "token",
        "token": ACTIONS_TOKEN,
        **fields,
    }
    return client.put(f"/projects/{evaluation.project_id}/github", body)


def kick_off(client: ScorecardClient, evaluation: Evaluation, **fields: Any) -> dict[str, Any]:
    body = {"testsetId": evaluation.testset_id, "metricIds": evaluation.metric_ids, **fields}
    return client.post(f"/projects/{evaluation.project_id}/kickoffs", body)


def dispatch_requests(github: FakeGitHub) -> list[RecordedRequest]:
    """The dispatches GitHub was sent, either kind, with their bodies as sent."""
    return [r for r in github.requests if r.operation_id in DISPATCH_OPERATIONS]


def runs_of(client: ScorecardClient, evaluation: Evaluation) -> list[dict[str, Any]]:
    return client.get(f"/projects/{evaluation.project_id}/runs")["data"]
