"""The sharded example workflow under `act`: a create job, a matrix of three shard jobs and a
report job fill and report ONE run on our live server, with one comment on the fake GitHub.

How `act` runs it (see test_act.py for the rest): the matrix jobs run side by side on this
machine, each in its own copy of the repository, and `needs.create.outputs.run-id` reaches them
as on GitHub.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from runner.shards import shard_of
from server.demo import CAPITALS
from tests.action.test_act import (  # noqa: F401 -- the fixtures, shared with the one-job workflow
    PR_NUMBER,
    REPO,
    ROOT,
    annotations,
    assert_fully_scored,
    database_url,
    evaluation,
    github,
    pull_request_event,
    run_act,
    run_link,
    runs_of,
    user_repo,
)

SHARDED = ROOT / ".github" / "workflows" / "scorecard-eval-sharded.yml"
SHARDS = ("1/3", "2/3", "3/3")


@pytest.fixture
def sharded_repo(user_repo) -> Path:
    """The user's repository with the sharded example beside the one-job one."""
    shutil.copy(SHARDED, user_repo / ".github" / "workflows" / SHARDED.name)
    git = ["git", "-C", str(user_repo), "-c", "user.name=Octo Cat", "-c", "user.email=octocat@example.com"]
    for command in (["add", "-A"], ["commit", "-q", "-m", "Evaluate in shards"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    return user_repo


def step_outcomes(log: str) -> dict[str, str]:
    """The outcome of each of the workflow's Action steps in act's log, by step name:
    ``{"Create the run": "Success", "Run shard 1/3": "Success", ..., "Report": "Failure"}``. (act
    ends every matrix job of a job with the same "Job failed" when one fails, so steps it is.)"""
    steps = r"Create the run|Run shard \d+/\d+|Report"
    return {name: outcome for outcome, name in re.findall(rf"(Success|Failure) - Main ({steps}) \[", log)}


def test_three_shards_fill_one_run_and_the_report_gates_it(sharded_repo, server, api_key, client, evaluation, github):
    """The demo's full testset: the bot reaches 75%, below the report's fail-under 0.8."""
    demo = evaluation.demo
    variables = evaluation.variables(demo.testset_id)
    result = run_act(
        sharded_repo, "pull_request", pull_request_event("opened"), server, api_key, github, variables, SHARDED
    )

    assert result.returncode != 0, result.why()
    assert api_key not in result.log, "the API key leaked into the log"
    shards_ran = {f"Run shard {shard}": "Success" for shard in SHARDS}
    assert step_outcomes(result.log) == {"Create the run": "Success", **shards_ran, "Report": "Failure"}, result.why()
    assert annotations(result.log, "error") == ["Overall: pass rate 75.0% is below the 80.0% threshold."], result.why()
    for shard in SHARDS:
        assert f"testcases (shard {shard}) x 1 trial(s)" in result.log, result.why()

    (run,) = runs_of(client, demo.project_id)
    testcases = [tc["id"] for tc in client.paginate(f"/testsets/{demo.testset_id}/testcases")]
    recorded = Counter(r["testcaseId"] for r in client.paginate(f"/runs/{run['id']}/records"))
    assert recorded == Counter(testcases) and len(testcases) == len(CAPITALS)  # every testcase once
    assert_fully_scored(client, run["id"], cases=len(CAPITALS), metrics=len(demo.metric_ids))
    assert run["git"]["prNumber"] == PR_NUMBER

    (comment,) = github.comments(REPO, PR_NUMBER)
    assert run_link(server, run) in comment.body and "75.0%" in comment.body


# The user's system, but the call on one testcase kills the runner that drives it, as a runner
# killed mid-job (out of memory, a cancelled step) would die: that shard fails short of records.
KILLS_ITS_RUNNER = """

import os
import signal

_answer = run_system


def run_system(inputs, system_config=None):
    if inputs["question"] == {question!r}:
        os.kill(os.getppid(), signal.SIGKILL)
    return _answer(inputs, system_config)
"""


def test_a_failed_shard_is_named_by_the_report(sharded_repo, server, api_key, client, evaluation, github):
    first = next(client.paginate(f"/testsets/{evaluation.known_testset_id}/testcases"))
    failing = shard_of(first["id"], len(SHARDS))
    with (sharded_repo / "my_app" / "evaluation.py").open("a") as system:
        system.write(KILLS_ITS_RUNNER.format(question=first["inputs"]["question"]))
    result = run_act(
        sharded_repo,
        "pull_request",
        pull_request_event("opened"),
        server,
        api_key,
        github,
        evaluation.variables(evaluation.known_testset_id),
        SHARDED,
    )

    assert result.returncode != 0, result.why()
    shards_ran = {f"Run shard {shard}": "Failure" if shard == f"{failing}/3" else "Success" for shard in SHARDS}
    assert step_outcomes(result.log) == {"Create the run": "Success", **shards_ran, "Report": "Failure"}, result.why()
    [error] = annotations(result.log, "error")  # the known capitals all pass: the gap is the only failure
    assert re.fullmatch(
        rf"shard {failing}/3 failed: \d+ of its \d+ testcases have no record; re-run it to fill them", error
    )
    (comment,) = github.comments(REPO, PR_NUMBER)
    assert error in comment.body
