"""The commit status's regression check, over real HTTP: a connection with ``failOnRegression``
fails the status of a pull request's run that got worse than its base branch's latest run on
evidence, and a gate stored invalid is an ``error`` status naming the problem."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from scorecard_core.db import make_engine, session_scope
from scorecard_core.models import GitHubConnection
from tests.conftest import wait_for_run
from tests.webhook.test_results import (  # noqa: F401  (github, server and evaluation are fixtures)
    BOT_TOKEN,
    CASES,
    MAIN_SHA,
    PR_SHA,
    REPO,
    evaluation,
    github,
    server,
    start_run,
    statuses_after,
    upload,
)

PR_GIT = {"repo": REPO, "ref": "feature", "sha": PR_SHA, "prNumber": 7}


def connect(client, evaluation, **gate: Any) -> None:
    client.put(
        f"/projects/{evaluation['project']['id']}/github",
        {"repo": REPO, "auth": "token", "token": BOT_TOKEN, **gate},
    )


def run_on_main_then_on_the_pull_request(client, github, evaluation, shouting: int):
    """main's run gets every testcase right; the pull request's run gets the first ``shouting`` wrong.
    Returns the pull request's commit status."""
    base = start_run(client, evaluation, {"repo": REPO, "ref": "main", "sha": MAIN_SHA})
    upload(client, base, evaluation)
    assert wait_for_run(client, base["id"])["status"] == "completed"
    statuses_after(github, MAIN_SHA, 1)
    run = start_run(client, evaluation, PR_GIT)
    upload(client, run, evaluation, shouting=shouting)
    assert wait_for_run(client, run["id"])["status"] == "completed"
    [status] = statuses_after(github, PR_SHA, 1)
    return status


def test_a_regression_against_the_base_branch_fails_the_status(client, github, evaluation):
    """Every one of the 4 testcases got worse: one-sided exact p = 0.5^4 = 0.0625, evidence at alpha 0.1."""
    connect(client, evaluation, failOnRegression=True, alpha=0.1)
    status = run_on_main_then_on_the_pull_request(client, github, evaluation, shouting=CASES)
    assert (status.state, status.description) == ("failure", "Pass rate 0.0%; regression in 1 metric")
    [comment] = github.comments(REPO, 7)
    assert "Exact answer: regressed by 100.0 pp" in comment.body


def test_the_same_drop_is_no_evidence_at_the_default_alpha(client, github, evaluation):
    connect(client, evaluation, failOnRegression=True)
    status = run_on_main_then_on_the_pull_request(client, github, evaluation, shouting=CASES)
    assert (status.state, status.description) == ("success", "Pass rate 0.0%")


def test_a_margin_beyond_the_drop_lets_the_status_pass(client, github, evaluation):
    connect(client, evaluation, failOnRegression=True, alpha=0.1, regressionMargin="100pp")
    status = run_on_main_then_on_the_pull_request(client, github, evaluation, shouting=CASES)
    assert status.state == "success"


def test_a_gate_stored_invalid_is_an_error_status_naming_the_problem(client, github, evaluation, database_url):
    """The API refuses such a margin; a row written before that rule (or by hand) can still hold one."""
    connect(client, evaluation, failOnRegression=True)
    with session_scope(make_engine(database_url)) as session:
        stored = session.exec(select(GitHubConnection)).one()
        stored.regression_margin = "lots"
        session.add(stored)
    run = start_run(client, evaluation, PR_GIT)
    upload(client, run, evaluation)
    assert wait_for_run(client, run["id"])["status"] == "completed"
    [status] = statuses_after(github, PR_SHA, 1)
    assert status.state == "error"
    assert status.description.startswith(
        "Pass rate 100.0%; the connection's gate is invalid: `regressionMargin` has `lots`, which is not"
    )
