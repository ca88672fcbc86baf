"""Results back to the pull request, over real HTTP: our live server scores a run with git
context, its scoring engine hands the run to the webhook service, and the fake GitHub shows the
sticky PR comment and the commit status."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer, start_server, wait_for_run
from tests.fakes.github_server import READ_ONLY_TOKEN, FakeGitHub
from tests.support.waiting import eventually

REPO = "acme/assistant"
BOT = "scorecard-bot"
BOT_TOKEN = "ghp_scorecardBotPersonalAccessToken00001"
PR_SHA = "a" * 40
FORK_SHA = "f" * 40
MAIN_SHA = "b" * 40
SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}
EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer", "caseSensitive": True}
CASES = 4


def add_repository(fake: FakeGitHub) -> None:
    """REPO, its pull request 7, and a bot that may write to it."""
    fake.add_repo(REPO)
    fake.add_user(BOT, token=BOT_TOKEN)
    fake.set_permission(REPO, BOT, "write")
    fake.add_pull(REPO, 7, head_sha=PR_SHA, head_ref="feature", base_ref="main")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        add_repository(fake)
        yield fake
        assert fake.spec_violations == []


@pytest.fixture
def server(database_url, github) -> Iterator[LiveServer]:
    """Overrides conftest's: the webhook service talks to the fake GitHub without write pauses."""
    live = start_server(
        database_url, GITHUB_API_URL=github.url, GITHUB_SECONDS_BETWEEN_WRITES=0, SCORING_LEASE_SECONDS=5.0
    )
    yield live
    live.stop()


@pytest.fixture
def evaluation(client) -> dict[str, Any]:
    """A project connected to the repository: a testset, a heuristic metric, 75% to pass."""
    project = client.post("/projects", {"name": "PR results"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "questions",
            "jsonSchema": SCHEMA,
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
        },
    )
    items = [{"jsonData": {"question": f"q{i}", "answer": f"a{i}"}} for i in range(CASES)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
    metric = client.post(
        f"/projects/{project['id']}/metrics",
        {
            "name": "Exact answer",
            "evalType": "heuristic",
            "outputType": "boolean",
            "heuristic": EXACT,
        },
    )
    connect(client, project["id"], BOT_TOKEN)
    return {"project": project, "testset": testset, "testcases": testcases, "metric": metric}


def connect(client, project_id: str, token: str) -> None:
    client.put(f"/projects/{project_id}/github", {"repo": REPO, "auth": "token", "token": token, "failUnder": "0.75"})


def start_run(client, evaluation, git: dict[str, Any] | None, project_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"testsetId": evaluation["testset"]["id"], "metricIds": [evaluation["metric"]["id"]]}
    if git is not None:
        body["git"] = git
    return client.post(f"/projects/{project_id or evaluation['project']['id']}/runs", body)


def upload(client, run, evaluation, shouting: int = 0, failed: int = 0) -> None:
    """One record per testcase: the first ``shouting`` answer in capitals (an exact match that
    cares about case fails them), the last ``failed`` are system errors."""
    items = []
    for index, testcase in enumerate(evaluation["testcases"]):
        answer = testcase["expected"]["answer"]
        item = {
            "testcaseId": testcase["id"],
            "inputs": testcase["inputs"],
            "expected": testcase["expected"],
            "outputs": {"answer": answer.upper() if index < shouting else answer},
        }
        if index >= CASES - failed:
            item.update(outputs={}, error="the system timed out")
        items.append(item)
    client.post(f"/runs/{run['id']}/records/batch", {"items": items})


def statuses_after(github: FakeGitHub, sha: str, count: int) -> list:
    def enough() -> list | None:
        found = github.statuses(REPO, sha)
        return found if len(found) >= count else None

    return eventually(enough, f"{count} commit status(es) on {sha[:7]}")


def run_url(server: LiveServer, run: dict[str, Any]) -> str:
    return server.app.extensions["scorecard.webhook"].run_url(run["projectId"], run["id"])


def test_one_sticky_comment_and_a_status_that_follow_rescoring(client, server, github, evaluation):
    base = start_run(client, evaluation, {"repo": REPO, "ref": "main", "sha": MAIN_SHA})
    upload(client, base, evaluation)
    assert wait_for_run(client, base["id"])["status"] == "completed"
    [base_status] = statuses_after(github, MAIN_SHA, 1)  # no pull request there: a status only
    assert (base_status.state, base_status.description) == ("success", "Pass rate 100.0%; all thresholds met")

    run = start_run(
        client,
        evaluation,
        {
            "repo": REPO,
            "ref": "feature",
            "sha": PR_SHA,
            "prNumber": 7,
            "actionsRunUrl": f"https://github.com/{REPO}/actions/runs/99",
        },
    )
    upload(client, run, evaluation, shouting=2)
    assert wait_for_run(client, run["id"])["status"] == "completed"
    [failed] = statuses_after(github, PR_SHA, 1)
    testset_id = evaluation["testset"]["id"]
    assert (failed.state, failed.context, failed.target_url) == (
        "failure",
        f"scorecard/testset-{testset_id}",
        run_url(server, run),
    )
    assert failed.description == "Pass rate 50.0%; 1 threshold not met" and failed.creator == BOT
    [comment] = github.comments(REPO, 7)
    assert comment.user == BOT and comment.body.endswith(f"<!-- scorecard-eval testset={testset_id} -->\n")
    for expected in (
        f"[Scorecard run]({run_url(server, run)})",
        f"[Actions run](https://github.com/{REPO}/actions/runs/99)",
        "Overall: pass rate 50.0% is below the 75.0% threshold",
        "| Exact answer | 50.0% (15.0-85.0%) | — |",
        "pull request #\u200b7",
        f"compared with run `{base['id']}`",
        "-50.0 pp (",
        "no significant change",  # 2 of 4 testcases got worse: no evidence on 4
    ):
        assert expected in comment.body

    # Case no longer matters: rescoring edits the same comment and sets a new status.
    client.patch(
        f"/metrics/{evaluation['metric']['id']}",
        {"evalType": "heuristic", "outputType": "boolean", "heuristic": {**EXACT, "caseSensitive": False}},
    )
    client.post(f"/runs/{run['id']}/rescore", {"metricIds": [evaluation["metric"]["id"]]})
    assert wait_for_run(client, run["id"])["status"] == "completed"
    passed = statuses_after(github, PR_SHA, 2)[-1]
    assert (passed.state, passed.description) == ("success", "Pass rate 100.0%; all thresholds met")
    [edited] = github.comments(REPO, 7)
    assert edited.id == comment.id and "all thresholds met, overall pass rate 100.0%" in edited.body
    assert all(r.status < 400 for r in github.requests)


def test_a_run_that_ends_in_error_gets_an_error_status(client, github, evaluation):
    run = start_run(client, evaluation, {"repo": REPO, "ref": "feature", "sha": PR_SHA, "prNumber": 7})
    upload(client, run, evaluation, failed=1)
    assert wait_for_run(client, run["id"])["status"] == "error"
    [status] = statuses_after(github, PR_SHA, 1)
    assert status.state == "error"
    assert status.description == (
        "Pass rate 75.0%; the run ended with an error: "  # the failed call fails
        "1 record(s) failed during execution"
    )
    [comment] = github.comments(REPO, 7)
    assert "The run ended with an error: 1 record(s) failed during execution" in comment.body
    assert "1 of 4 system calls failed" in comment.body and "the system timed out" in comment.body


def test_a_fork_run_without_a_pr_number_finds_its_pull_request_by_sha(client, github, evaluation):
    github.add_pull(REPO, 12, head_sha=FORK_SHA, head_ref="patch-1", base_ref="main", head_repo="someone/assistant")
    run = start_run(client, evaluation, {"repo": REPO, "ref": "patch-1", "sha": FORK_SHA})
    upload(client, run, evaluation)
    wait_for_run(client, run["id"])
    [status] = statuses_after(github, FORK_SHA, 1)
    assert status.state == "success"
    [comment] = github.comments(REPO, 12)
    assert "pull request #\u200b12" in comment.body and github.comments(REPO, 7) == []
    # PyGithub's lazy objects: the PR lookup and the status are one request each, no commit fetch.
    paths = [r.path for r in github.requests]
    assert f"/repos/{REPO}/commits/{FORK_SHA}" not in paths
    assert paths.count(f"/repos/{REPO}/commits/{FORK_SHA}/pulls") == 1


def test_a_github_refusal_is_logged_and_the_run_still_completes(client, github, evaluation, caplog):
    caplog.set_level(logging.INFO, logger="webhook.results")
    connect(client, evaluation["project"]["id"], READ_ONLY_TOKEN)
    run = start_run(client, evaluation, {"repo": REPO, "ref": "feature", "sha": PR_SHA, "prNumber": 7})
    upload(client, run, evaluation)
    assert wait_for_run(client, run["id"])["status"] == "completed"
    warnings = eventually(
        lambda: messages(caplog, logging.WARNING) if len(messages(caplog)) >= 2 else None, "two warnings"
    )
    assert warnings == [
        (
            f"GitHub refused to comment on {REPO}#7 (403: Resource not accessible by integration): "
            "give the token or GitHub App the `pull-requests: write` permission"
        ),
        (
            f"GitHub refused to set the commit status of {REPO}@{PR_SHA[:7]} (403: Resource not accessible by "
            "integration): give the token or GitHub App the `statuses: write` permission"
        ),
    ]
    assert READ_ONLY_TOKEN not in caplog.text
    assert github.comments(REPO, 7) == [] and github.statuses(REPO) == []


def test_runs_without_git_context_or_connection_publish_nothing(client, github, evaluation, caplog):
    caplog.set_level(logging.DEBUG, logger="webhook.results")
    plain = start_run(client, evaluation, git=None)
    upload(client, plain, evaluation)
    wait_for_run(client, plain["id"])
    skipped_plain = f"run {plain['id']} has no git context (repo and sha): no results to publish on GitHub"
    eventually(lambda: messages(caplog) == [skipped_plain], "the run without git context to be skipped")

    project_id = evaluation["project"]["id"]
    client.request("DELETE", f"/projects/{project_id}/github")
    unconnected = start_run(client, evaluation, {"repo": REPO, "ref": "feature", "sha": PR_SHA, "prNumber": 7})
    upload(client, unconnected, evaluation)
    wait_for_run(client, unconnected["id"])
    skipped_unconnected = f"project {project_id} has no GitHub connection: not publishing run {unconnected['id']}"
    eventually(lambda: messages(caplog) == [skipped_plain, skipped_unconnected], "the unconnected run to be skipped")
    assert github.requests == []


def messages(caplog, level: int = logging.DEBUG) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "webhook.results" and r.levelno >= level]
