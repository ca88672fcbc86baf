"""The standalone service (``webhook.app``) against a Scorecard API over HTTP: our live server
stands in for hosted Scorecard, the service keeps its own database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer, wait_for_run
from tests.fakes.github_server import ACTIONS_TOKEN
from tests.server.test_response_headers import assert_protected
from tests.server.test_scoring_lifecycle import upload
from tests.webhook.conftest import (
    PR_HEAD_REF,
    PR_HEAD_SHA,
    PR_NUMBER,
    REPO,
    SECRET,
    Sender,
    example,
)
from tests.webhook.test_events import workflow_run
from webhook.app import create_app


def standalone_config(server, api_key, tmp_path, github, project) -> dict[str, Any]:
    return {
        "SCORECARD_API_URL": server.api_url,
        "SCORECARD_API_KEY": api_key,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'webhook.db'}",
        "CONNECTIONS": [
            {
                "projectId": project["id"],
                "repo": REPO,
                "branch": "master",
                "onPullRequest": True,
                "testsetId": project["testset"]["id"],
                "metricIds": [project["metric"]["id"]],
                "failUnder": "0.5",
                "auth": "token",
                "token": ACTIONS_TOKEN,
            }
        ],
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": None,
        "GITHUB_WEBHOOK_SECRETS": (SECRET,),
        "GITHUB_SECONDS_BETWEEN_WRITES": 0,
    }


@pytest.fixture
def standalone(server, api_key, tmp_path, github, project) -> Iterator[LiveServer]:
    live = LiveServer(create_app(standalone_config(server, api_key, tmp_path, github, project)))
    yield live
    live.stop()


def test_a_pull_request_starts_a_run_through_the_api(standalone, github, client, project):
    assert Sender(standalone).deliver("pull_request", example("pull_request", "opened")).status == "processed"
    (dispatch,) = github.workflow_dispatches(REPO)
    (run,) = client.paginate(f"/projects/{project['id']}/runs")
    assert dispatch.ref == PR_HEAD_REF and dispatch.inputs["run_id"] == run["id"]
    assert dispatch.inputs["project_id"] == project["id"]


def pr_run(client, project, actions_run_id: int) -> dict[str, Any]:
    """A run the workflow of Actions run ``actions_run_id`` fills (only the standalone service
    reports it: our server's own connection is removed)."""
    client.request("DELETE", f"/projects/{project['id']}/github")
    return client.post(
        f"/projects/{project['id']}/runs",
        {
            "testsetId": project["testset"]["id"],
            "metricIds": [project["metric"]["id"]],
            "source": "github",
            "git": {
                "repo": REPO,
                "ref": PR_HEAD_REF,
                "sha": PR_HEAD_SHA,
                "prNumber": PR_NUMBER,
                "actionsRunUrl": f"https://github.com/{REPO}/actions/runs/{actions_run_id}",
            },
        },
    )


def fill(client, project, run) -> None:
    upload(client, run, list(client.paginate(f"/testsets/{project['testset']['id']}/testcases")))


def test_a_finished_workflow_posts_the_runs_results(standalone, server, github, client, project):
    run = pr_run(client, project, 777)
    fill(client, project, run)
    assert wait_for_run(client, run["id"])["status"] == "completed"

    assert Sender(standalone).deliver("workflow_run", workflow_run(777, "success")).status == "processed"
    run_url = f"{server.url}/projects/{project['id']}/runs/{run['id']}"
    (comment,) = github.comments(REPO, PR_NUMBER)
    assert run_url in comment.body and "Exact" in comment.body
    (status,) = github.statuses(REPO, PR_HEAD_SHA)
    assert status.state == "success" and status.target_url == run_url


def test_results_wait_for_scoring_that_ends_after_the_workflow(standalone, server, github, client, project):
    run = pr_run(client, project, 778)
    sender = Sender(standalone)
    delivery = "workflow-778"
    assert sender.send("workflow_run", workflow_run(778, "success"), delivery).status_code == 202
    fill(client, project, run)  # the service is polling the run meanwhile
    assert sender.wait(delivery).status == "processed"
    assert client.get(f"/runs/{run['id']}")["status"] == "completed"
    (comment,) = github.comments(REPO, PR_NUMBER)
    assert f"/runs/{run['id']}" in comment.body


def test_configuration_problems_are_named(server, api_key, tmp_path, github, project):
    config = standalone_config(server, api_key, tmp_path, github, project)
    with pytest.raises(ValueError, match="SCORECARD_API_URL and SCORECARD_API_KEY"):
        create_app({**config, "SCORECARD_API_KEY": None})
    with pytest.raises(ValueError, match="projectId"):
        create_app({**config, "CONNECTIONS": [{"repo": REPO}]})
    for too_big in (2**63, "99999999999999999999999"):  # no 64-bit key holds them
        with pytest.raises(ValueError, match="projectId"):
            create_app({**config, "CONNECTIONS": [{"projectId": too_big, "repo": REPO}]})
    with pytest.raises(ValueError, match="`repo`"):
        create_app({**config, "CONNECTIONS": [{"projectId": "1", "repo": "not a repository"}]})


def test_the_standalone_service_sends_the_protective_headers(standalone):
    sender = Sender(standalone)
    answers = [sender.send("ping", {"zen": "Keep it logically awesome."}), sender.send("ping", {}, secret="wrong")]
    assert [answer.status_code for answer in answers] == [200, 401]
    for answer in answers:
        assert_protected(answer)
