"""A project's GitHub connection over the API: validation, and secrets that never come back."""

from __future__ import annotations

import pytest
import requests

from tests.server.test_scoring_lifecycle import make_project, metric
from tests.support.processes import run_cli


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
        ({"repo": "acme/bot", "failUnderMode": "x"}, "failUnderMode"),
        ({"repo": "acme/bot", "regressionMargin": "x"}, "regressionMargin"),
        ({"repo": "acme/bot", "regressionMargin": "2pp, 3pp"}, "regressionMargin"),
        ({"repo": "acme/bot", "alpha": 0.9}, "alpha"),
        ({"repo": "acme/bot", "alpha": 0}, "alpha"),
        ({"repo": "acme/bot", "alpha": "abc"}, "alpha"),
        ({"repo": "acme/bot", "failOnRegression": "maybe"}, "failOnRegression"),
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


GATE = {"failUnderMode": "lower-bound", "failOnRegression": True, "regressionMargin": "2pp, 0.25", "alpha": 0.05}
DEFAULT_GATE = {"failUnderMode": "point", "failOnRegression": False, "regressionMargin": "", "alpha": 0.01}


def gate_of(connection: dict) -> dict:
    return {name: connection[name] for name in GATE}


def test_the_gate_fields_round_trip(client):
    project, _testset, _cases = make_project(client, cases=1)
    path = f"/projects/{project['id']}/github"
    assert gate_of(client.put(path, {"repo": "acme/bot"})) == DEFAULT_GATE
    assert gate_of(client.put(path, {"repo": "acme/bot", **GATE})) == GATE
    assert gate_of(client.get(path)) == GATE
    # A refused edit keeps what was stored.
    assert put(client, project["id"], {"repo": "acme/bot", **GATE, "regressionMargin": "lots"}).status_code == 400
    assert gate_of(client.get(path)) == GATE
    # A connection is replaced whole: fields left out go back to their defaults.
    assert gate_of(client.put(path, {"repo": "acme/bot"})) == DEFAULT_GATE


def test_scorecard_github_connect_stores_the_gate(client, database_url):
    project, _testset, _cases = make_project(client, cases=1)
    args = ("github", "connect", "--project", project["id"], "--repo", "acme/bot", "--fail-on-regression")
    done = run_cli(*args, "--regression-margin", "2pp", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "failOnRegression: True" in done.stdout and "regressionMargin: 2pp" in done.stdout
    connection = client.get(f"/projects/{project['id']}/github")
    assert gate_of(connection) == {**DEFAULT_GATE, "failOnRegression": True, "regressionMargin": "2pp"}

    more = ("--fail-under-mode", "lower-bound", "--alpha", "0.05", "--regression-margin", "2pp, 0.25")
    done = run_cli(*args, *more, database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert gate_of(client.get(f"/projects/{project['id']}/github")) == GATE

    for option, value in (("--regression-margin", "lots"), ("--alpha", "0.9")):
        done = run_cli(*args, option, value, database_url=database_url)
        assert done.returncode == 1 and f"(set by {option})" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert gate_of(client.get(f"/projects/{project['id']}/github")) == GATE
