"""Kickoff Run -> GitHub, over real HTTP: the kickoff API's contract, the whole way from the kickoff
through the dispatch and the real runner (as the workflow runs it) to scoring and the results on
the pull request, and ``scorecard github connect``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scorecard_core.client import ApiError
from scorecard_core.db import make_engine, session_scope
from scorecard_core.gate import percent
from scorecard_core.models import Project
from server.settings import settings_of
from tests.conftest import wait_for_run
from tests.fakes.github_server import ACTIONS_TOKEN, FakeGitHub
from tests.support.processes import CLI_TIMEOUT, SCORECARD
from tests.support.waiting import eventually
from tests.webhook.conftest import PR_BASE_REF, PR_HEAD_REF, PR_HEAD_SHA, PR_NUMBER, REPO, example
from tests.webhook.kickoff_support import (
    CASES,
    connect,
    dispatch_requests,
    evaluation_fixture,  # noqa: F401  (the `evaluation` fixture)
    kick_off,
    runs_of,
)

# Answers every testcase but the first right (kickoff_support's testsets ask q0..q5, expect a0..a5).
SYSTEM = """
def run_system(inputs, system_config=None):
    question = inputs["question"]
    return {"answer": "wrong" if question == "q0" else "a" + question[1:]}
"""
BASE_SHA = "b" * 40


def post_kickoff(client, project_id: str, body: Any):
    """The raw answer, to see its status."""
    return client.http.post(f"{client.base_url}/projects/{project_id}/kickoffs", json=body, timeout=30)


# -- the API's contract -------------------------------------------------------------------------


def test_a_kickoff_answers_201_with_its_run(client, github, evaluation):
    connect(client, evaluation)
    answer = post_kickoff(
        client, evaluation.project_id, {"testsetId": evaluation.testset_id, "metricIds": evaluation.metric_ids}
    )
    assert answer.status_code == 201, answer.text
    run = answer.json()
    assert run["source"] == "kickoff" and run["testsetId"] == evaluation.testset_id
    assert run["metricIds"] == evaluation.metric_ids and run["numExpectedRecords"] == CASES
    assert run["git"]["repo"] == REPO and run["git"]["ref"] == PR_BASE_REF and run["git"]["actionsRunUrl"]
    assert [r["id"] for r in runs_of(client, evaluation)] == [run["id"]]


def test_without_a_connection_it_says_how_to_connect(client, github, evaluation):
    with pytest.raises(ApiError) as missing:
        kick_off(client, evaluation)
    assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")
    assert f"PUT /projects/{evaluation.project_id}/github" in str(missing.value)
    assert "scorecard github connect" in str(missing.value)
    assert runs_of(client, evaluation) == [] and github.requests == []


def test_kickoffs_turned_off_are_a_conflict(client, github, evaluation):
    connect(client, evaluation, onKickoff=False)
    with pytest.raises(ApiError) as refused:
        kick_off(client, evaluation)
    assert (refused.value.status, refused.value.code) == (409, "CONFLICT")
    assert '"onKickoff": true' in str(refused.value) and "--on-kickoff" in str(refused.value)
    assert runs_of(client, evaluation) == [] and github.requests == []


BAD_BODIES = {
    "no testset": ({"metricIds": ["1"]}, "testsetId", "is required"),
    "testset not an ID": ({"testsetId": "first", "metricIds": ["1"]}, "testsetId", "numeric ID"),
    "no metrics": ({"testsetId": "1"}, "metricIds", "is required"),
    "empty metrics": ({"testsetId": "1", "metricIds": []}, "metricIds", "at least 1"),
    "empty ref": ({"testsetId": "1", "metricIds": ["1"], "ref": ""}, "ref", "at least 1"),
}


@pytest.mark.parametrize("body, field, problem", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_a_400_naming_the_field(client, github, evaluation, body, field, problem):
    connect(client, evaluation)
    answer = post_kickoff(client, evaluation.project_id, body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["code"] == "BAD_REQUEST" and error["details"]["field"] == field and problem in error["message"]
    assert runs_of(client, evaluation) == [] and dispatch_requests(github) == []


def test_unknown_project_testset_or_metric_is_a_404_and_starts_nothing(client, github, evaluation):
    connect(client, evaluation)
    for project_id, body in [
        ("999999", {"testsetId": evaluation.testset_id, "metricIds": evaluation.metric_ids}),
        (evaluation.project_id, {"testsetId": "999999", "metricIds": evaluation.metric_ids}),
        (evaluation.project_id, {"testsetId": evaluation.testset_id, "metricIds": ["999999"]}),
    ]:
        answer = post_kickoff(client, project_id, body)
        assert answer.status_code == 404 and "999999" in answer.json()["message"], answer.text
    assert runs_of(client, evaluation) == [] and dispatch_requests(github) == []


# -- end to end: kickoff -> dispatch -> the workflow's runner -> scoring -> the pull request -------


def event_for(github: FakeGitHub, dispatch: str) -> tuple[dict[str, str], dict[str, Any]]:
    """What GitHub gives the workflow the latest dispatch started: its environment and event
    payload (GitHub's example payload carrying what the fake received)."""
    if dispatch == "workflow_dispatch":
        sent = github.workflow_dispatches(REPO)[-1]
        payload = {**example("workflow_dispatch"), "inputs": sent.inputs, "ref": f"refs/heads/{sent.ref}"}
        # The branch of the pull request: its head commit is the pull request's.
        env = {"GITHUB_REF_NAME": sent.ref, "GITHUB_SHA": PR_HEAD_SHA, "GITHUB_RUN_ID": str(sent.run_id)}
    else:
        sent = github.dispatches(REPO)[-1]
        payload = {**example("repository_dispatch"), "action": sent.event_type, "client_payload": sent.client_payload}
        env = {"GITHUB_REF_NAME": PR_BASE_REF, "GITHUB_SHA": BASE_SHA, "GITHUB_RUN_ID": "4242"}  # the default branch
    payload["repository"] = example("pull_request", "opened")["repository"]
    return {"GITHUB_EVENT_NAME": dispatch, **env}, payload


def run_workflow(client, github: FakeGitHub, workspace: Path, dispatch: str) -> subprocess.CompletedProcess:
    """``python -m runner`` as the workflow's Action runs it: nothing but the API, the key and the
    system are configured; the run, testset and metrics come from the dispatch."""
    (workspace / "bot.py").write_text(SYSTEM)
    event_env, payload = event_for(github, dispatch)
    (workspace / "event.json").write_text(json.dumps(payload))
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(workspace),
        "GITHUB_OUTPUT": str(workspace / "output.txt"),
        "GITHUB_STEP_SUMMARY": str(workspace / "summary.md"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(workspace / "event.json"),
        "GITHUB_API_URL": github.url,
        "SCORECARD_API_URL": client.base_url,
        "SCORECARD_API_KEY": client.http.headers["Authorization"][7:],
        "SCORECARD_SYSTEM": "bot:run_system",
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(workspace),
        "SCORECARD_GITHUB_TOKEN": ACTIONS_TOKEN,
        **event_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "runner"], env=env, capture_output=True, text=True, timeout=120, cwd=workspace
    )


@pytest.mark.parametrize("dispatch", ["workflow_dispatch", "repository_dispatch"])
def test_a_kickoff_runs_end_to_end(server, client, github, evaluation, tmp_path, dispatch):
    connect(client, evaluation, dispatch=dispatch, failUnder="0.8")
    ref = PR_HEAD_REF if dispatch == "workflow_dispatch" else None  # a repository_dispatch runs on the default branch
    run = kick_off(client, evaluation, **({"ref": ref} if ref else {}))

    assert len(dispatch_requests(github)) == 1
    workflow = run_workflow(client, github, tmp_path, dispatch)
    assert workflow.returncode == 0, workflow.stdout + workflow.stderr
    done = wait_for_run(client, run["id"])
    assert done["status"] == "completed" and done["source"] == "kickoff", done
    assert done["numRecords"] == CASES and done["numScores"] == CASES * len(evaluation.metric_ids)
    assert [r["id"] for r in runs_of(client, evaluation)] == [run["id"]], "the kickoff's run was not the one filled"
    if dispatch == "workflow_dispatch":
        assert done["git"]["actionsRunUrl"] == run["git"]["actionsRunUrl"]  # the same Actions run, known at once

    # Scoring finished: the webhook service posts the results on the commit, and on its pull request.
    run_url = f"{settings_of(server.app).public_url.rstrip('/')}/projects/{evaluation.project_id}/runs/{run['id']}"
    sha = PR_HEAD_SHA if dispatch == "workflow_dispatch" else BASE_SHA
    (status,) = eventually(lambda: github.statuses(REPO, sha), "commit status")
    assert (status.state, status.target_url, status.context) == (
        "success",
        run_url,
        f"scorecard/testset-{evaluation.testset_id}",
    )
    assert percent(5 / 6) in status.description
    comments = github.comments(REPO, PR_NUMBER)
    if dispatch == "workflow_dispatch":
        (comment,) = eventually(lambda: github.comments(REPO, PR_NUMBER), "pull request comment")
        assert run_url in comment.body and "Exact again" in comment.body and percent(5 / 6) in comment.body
    else:
        assert comments == []  # the default branch has no pull request


# -- scorecard github connect ---------------------------------------------------------------------

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEnotARealKeyButSecretAllTheSame\n-----END RSA PRIVATE KEY-----\n"


def connect_cli(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCORECARD), "github", "connect", *args, "--database-url", database_url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def test_connect_writes_the_connection_and_never_prints_secrets(database_url, client, github, evaluation, tmp_path):
    project = ("--project", evaluation.project_id, "--repo", REPO, "--branch", PR_BASE_REF)
    triggers = (
        "--on-pull-request",
        "--testset",
        evaluation.testset_id,
        "--metrics",
        ",".join(evaluation.metric_ids),
        "--fail-under",
        "0.8",
    )
    done = connect_cli(database_url, *project, *triggers, "--token-env", "BOT_TOKEN", BOT_TOKEN=ACTIONS_TOKEN)
    assert done.returncode == 0, done.stderr
    assert ACTIONS_TOKEN not in done.stdout + done.stderr
    assert f"connected project {evaluation.project_id} to {REPO}" in done.stdout
    assert "dispatch: workflow_dispatch" in done.stdout and "hasToken: True" in done.stdout
    connection = client.get(f"/projects/{evaluation.project_id}/github")
    assert connection["auth"] == "token" and connection["onPullRequest"] and connection["onKickoff"]
    assert connection["metricIds"] == evaluation.metric_ids and connection["failUnder"] == "0.8"
    kick_off(client, evaluation)  # the stored token dispatches
    assert [r.token for r in dispatch_requests(github)] == [ACTIONS_TOKEN]

    key_file = tmp_path / "app.pem"
    key_file.write_text(PRIVATE_KEY)
    done = connect_cli(
        database_url,
        *project,
        "--dispatch",
        "repository_dispatch",
        "--no-on-kickoff",
        "--app-id",
        "12345",
        "--private-key-file",
        str(key_file),
        "--installation-id",
        "7",
    )
    assert done.returncode == 0, done.stderr
    assert "MIIE" not in done.stdout + done.stderr and "hasPrivateKey: True" in done.stdout
    connection = client.get(f"/projects/{evaluation.project_id}/github")
    assert (connection["auth"], connection["appId"], connection["installationId"]) == ("app", "12345", 7)
    assert connection["dispatch"] == "repository_dispatch" and not connection["onKickoff"]
    assert not connection["onPullRequest"] and connection["branch"] == PR_BASE_REF


def test_connect_names_the_option_at_fault(sqlite_url):
    """Engine-independent: a project row is all it needs."""
    with session_scope(make_engine(sqlite_url)) as session:
        project = Project(name="cli")
        session.add(project)
        session.flush()
        project_id = str(project.id)
    cases = [
        (("--repo", "not a repo"), "(set by --repo)"),
        (("--repo", REPO, "--on-pull-request"), "`testsetId` and `metricIds` are required"),
        (("--repo", REPO, "--metrics", "12,x"), "(set by --metrics)"),
        (("--repo", REPO, "--token-env", "NO_SUCH_VARIABLE"), "NO_SUCH_VARIABLE is not set"),
        (("--repo", REPO, "--app-id", "1"), "`appId` and `privateKey` are required"),
    ]
    for args, message in cases:
        done = connect_cli(sqlite_url, "--project", project_id, *args)
        assert done.returncode == 1 and message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    done = connect_cli(sqlite_url, "--project", "999", "--repo", REPO)
    assert done.returncode == 1 and "project 999 not found" in done.stderr
