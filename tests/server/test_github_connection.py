"""A project's GitHub connection over the API: validation, and secrets that never come back."""

from __future__ import annotations

import pytest
import requests

from tests.server.test_scoring_lifecycle import make_project, metric


def put(client, project_id, body):
    return requests.put(f"{client.base_url}/projects/{project_id}/github", json=body, headers=client.http.headers)


def test_secrets_go_in_and_never_come_out(client):
    project, testset, _cases = make_project(client, cases=1)
    saved = client.put(
        f"/projects/{project['id']}/github",
        {"repo": "acme/bot", "auth": "token", "token": "ghp_supersecret", "failUnder": "0.8"},
    )
    assert saved["hasToken"] is True and "ghp_supersecret" not in str(saved)
    # Editing without the secret keeps it.
    edited = client.put(f"/projects/{project['id']}/github", {"repo": "acme/bot", "auth": "token", "branch": "dev"})
    assert edited["hasToken"] is True and edited["branch"] == "dev"
    assert "ghp_supersecret" not in str(client.get(f"/projects/{project['id']}/github"))


@pytest.mark.parametrize(
    "body, field",
    [
        ({"repo": "not a repo"}, "repo"),
        ({"repo": "acme/bot", "auth": "token"}, "token"),
        ({"repo": "acme/bot", "auth": "app", "appId": "12"}, "appId"),
        ({"repo": "acme/bot", "failUnder": "eighty"}, "failUnder"),
        ({"repo": "acme/bot", "failUnder": "80"}, "failUnder"),
        ({"repo": "acme/bot", "onPullRequest": True}, "testsetId"),
        ({"repo": "acme/bot", "dispatch": "carrier pigeon"}, "dispatch"),
    ],
)
def test_bad_connections_are_refused_naming_the_field(client, body, field):
    project, _testset, _cases = make_project(client, cases=1)
    response = put(client, project["id"], body)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    assert (
        requests.get(f"{client.base_url}/projects/{project['id']}/github", headers=client.http.headers).status_code
        == 404
    )


def test_pull_request_triggers_need_known_metrics(client):
    project, testset, _cases = make_project(client, cases=1)
    exact = metric(client, project, name="m", evalType="human", outputType="boolean")
    ok = put(
        client,
        project["id"],
        {"repo": "acme/bot", "onPullRequest": True, "testsetId": testset["id"], "metricIds": [exact["id"]]},
    )
    assert ok.status_code == 200 and ok.json()["metricIds"] == [exact["id"]]
    unknown = put(
        client,
        project["id"],
        {"repo": "acme/bot", "onPullRequest": True, "testsetId": testset["id"], "metricIds": ["999"]},
    )
    assert unknown.status_code == 404
