"""``python -m runner`` end to end, as the Action runs it: against our live server, with the
user's system in its own Python, reporting to Actions files and to a fake GitHub."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.cli import build_report, run_system
from runner.config import load
from runner.scorecard_api import RunnerApi as ScorecardApi
from scorecard_core.gate import parse_policy
from scorecard_core.markdown import render
from tests.conftest import wait_for_run
from tests.fakes.github_server import ACTIONS_BOT, ACTIONS_TOKEN, READ_ONLY_TOKEN, FakeGitHub
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric

REPO = "acme/bot"
SYSTEM = """
import time

def run_system(inputs, system_config=None):
    question = inputs["question"]
    if question == "q3":
        raise RuntimeError("the model is down")
    time.sleep(float((system_config or {}).get("sleep", 0)))
    return {"answer": "a" + question[1:] if question != "q1" else "wrong"}
"""


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "bot.py").write_text(SYSTEM)
    return tmp_path


@pytest.fixture
def evaluation(client):
    project, testset, testcases = make_project(client, cases=6)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    return {"project": project, "testset": testset, "testcases": testcases, "metric": exact}


def run_runner(
    client, evaluation, workspace, event=None, github=None, timeout=120, runner_python=sys.executable, **inputs
) -> tuple[subprocess.CompletedProcess, dict]:
    files = {name: workspace / name for name in ("output.txt", "summary.md", "event.json")}
    for path in files.values():
        path.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTIONS": "true",
        "RUNNER_TEMP": str(workspace),
        "GITHUB_OUTPUT": str(files["output.txt"]),
        "GITHUB_STEP_SUMMARY": str(files["summary.md"]),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_SHA": "c" * 40,
        "SCORECARD_API_URL": client.base_url,
        "SCORECARD_API_KEY": client.http.headers["Authorization"][7:],
        "SCORECARD_PROJECT_ID": evaluation["project"]["id"],
        "SCORECARD_TESTSET_ID": evaluation["testset"]["id"],
        "SCORECARD_METRIC_IDS": evaluation["metric"]["id"],
        "SCORECARD_SYSTEM": "bot:run_system",
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(workspace),
        **{f"SCORECARD_{k.upper()}": str(v) for k, v in inputs.items()},
    }
    if github is not None:
        env["GITHUB_API_URL"] = github.url
    if event is not None:
        name, payload = event
        files["event.json"].write_text(json.dumps(payload))
        env.update(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(files["event.json"]))
    result = subprocess.run(
        [runner_python, "-m", "runner"], env=env, capture_output=True, text=True, timeout=timeout, cwd=workspace
    )
    return result, outputs_of(files["output.txt"]) | {"summary": files["summary.md"].read_text()}


def outputs_of(path: Path) -> dict[str, str]:
    """Parse the GITHUB_OUTPUT file's heredocs."""
    values, lines = {}, path.read_text().splitlines()
    while lines:
        name, _, delimiter = lines.pop(0).partition("<<")
        body = []
        while lines and lines[0] != delimiter:
            body.append(lines.pop(0))
        lines.pop(0)
        values[name] = "\n".join(body)
    return values


def test_a_run_end_to_end(client, evaluation, workspace):
    result, out = run_runner(client, evaluation, workspace, fail_under="0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    run = client.get(f"/runs/{out['run-id']}")
    assert run["status"] == "error"  # one system call raised: recorded as an error, the rest went on
    assert run["numRecords"] == 6 and run["statusDetail"]["records"]["errored"] == 1
    assert run["source"] == "github" and run["git"]["repo"] == REPO
    assert run["git"]["actionsRunUrl"] == "https://github.com/acme/bot/actions/runs/4242"
    errored = [r for r in client.paginate(f"/runs/{out['run-id']}/records") if r["error"]]
    assert "RuntimeError: the model is down" in errored[0]["error"]

    assert out["run-url"].endswith(f"/projects/{evaluation['project']['id']}/runs/{out['run-id']}")
    assert out["passed"] == "true" and out["pass-rate"] == "0.6667"  # the failed call fails
    results = json.loads(Path(out["results"]).read_text())
    assert results["summary"]["metrics"][0]["passed"] == 4 and results["summary"]["failedCalls"] == 1
    assert "Exact" in out["summary"] and out["run-url"] in out["summary"]
    assert "::group::" in result.stdout and "::error" not in result.stdout


@pytest.mark.parametrize(("name", "unknown"), [("testset-id", "999"), ("metric-ids", "999"), ("project-id", "999")])
def test_an_unknown_id_names_the_input_that_gave_it(client, evaluation, workspace, name, unknown):
    result, _ = run_runner(client, evaluation, workspace, **{name.replace("-", "_"): unknown})
    assert result.returncode != 0
    assert f"`{name}` was not found by the API" in result.stdout + result.stderr, result.stdout + result.stderr


def test_a_missed_threshold_fails_the_check(client, evaluation, workspace):
    result, out = run_runner(client, evaluation, workspace, fail_under="0.5, Exact=0.95")
    assert result.returncode == 1
    assert out["passed"] == "false"
    assert any(
        line.startswith("::error") and "Exact" in line and "95.0%" in line for line in result.stdout.splitlines()
    )


CRASHY_SYSTEM = """
import os
import time

def dies_on_q2(inputs):
    time.sleep(0.2 if inputs["question"] == "q2" else 0.5)
    if inputs["question"] == "q2":
        os._exit(3)  # as the OOM killer or a native crash would end the process
    return {"answer": "a" + inputs["question"][1:]}

def half(inputs):
    if int(inputs["question"][1:]) % 2:
        raise RuntimeError("the model crashed on " + inputs["question"])
    return {"answer": "a" + inputs["question"][1:]}

def never(inputs):
    raise RuntimeError("the model is down")
"""


def test_failed_system_calls_count_against_the_gate(client, workspace):
    """4 of 8 calls crash, the other 4 are right: 50% overall, not 100%."""
    (workspace / "crashy.py").write_text(CRASHY_SYSTEM)
    project, testset, testcases = make_project(client, cases=8)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    evaluation = {"project": project, "testset": testset, "testcases": testcases, "metric": exact}
    result, out = run_runner(client, evaluation, workspace, system="crashy:half", fail_under="0.8")
    assert result.returncode == 1, result.stdout + result.stderr
    assert out["passed"] == "false" and float(out["pass-rate"]) == pytest.approx(0.5)
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert any("Overall: pass rate 50.0%25 is below the 80.0%25 threshold." in line for line in errors)
    assert "4 of 8 system calls failed" in out["summary"]
    assert "| **Overall** | 50.0% (21.5-78.5%) | ≥ 80.0% ❌ | 4 | 0 |" in out["summary"]
    results = json.loads(Path(out["results"]).read_text())
    assert results["passed"] is False and results["summary"]["failedCalls"] == 4
    assert client.get(f"/runs/{out['run-id']}/summary")["passRate"] == pytest.approx(0.5)  # the server agrees


@pytest.mark.parametrize("inputs", [{}, {"fail_under": "0"}, {"wait_for_scores": "false"}])
def test_a_run_where_every_call_failed_never_passes(client, evaluation, workspace, inputs):
    (workspace / "crashy.py").write_text(CRASHY_SYSTEM)
    result, out = run_runner(client, evaluation, workspace, system="crashy:never", **inputs)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert any("No system call succeeded" in line for line in errors)
    if inputs.get("wait_for_scores") != "false":
        assert out["passed"] == "false"
        assert out["summary"].startswith("### ❌ Scorecard eval: testset")
        assert "no system call succeeded" in out["summary"].splitlines()[0]
        assert "6 of 6 system calls failed" in out["summary"]
        assert "the run ended with an error" not in out["summary"].splitlines()[0]


def test_a_crashing_call_fails_only_its_record_and_is_named(client, evaluation, workspace):
    (workspace / "crashy.py").write_text(CRASHY_SYSTEM)
    result, out = run_runner(client, evaluation, workspace, system="crashy:dies_on_q2", concurrency=4, fail_under="0.8")
    assert result.returncode == 0, result.stdout + result.stderr
    crashed = next(tc for tc in evaluation["testcases"] if tc["inputs"]["question"] == "q2")
    records = list(client.paginate(f"/runs/{out['run-id']}/records"))
    errored = [r for r in records if r["error"]]
    assert [r["testcaseId"] for r in errored] == [crashed["id"]]  # the 3 calls beside it were retried
    assert "exited with code 3 while running this call alone: this call crashed it" in errored[0]["error"]
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert any(
        f"::testcase {crashed['id']} (trial 0): the system's worker process exited with code 3" in line
        for line in warnings
    ), warnings
    assert out["pass-rate"] == "0.8333"


def test_against_hosted_scorecard_failed_calls_count_too(client, workspace):
    """Hosted Scorecard stores no record error: the failed call's record carries its error in the
    outputs and gets graded like any other. A lenient grader passes every record; the report must
    still count the 2 failed calls of 4 as failing."""
    (workspace / "crashy.py").write_text(CRASHY_SYSTEM)
    project, testset, _testcases = make_project(client, cases=4)
    graded = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    config = load(
        {
            "SCORECARD_API_URL": client.base_url,
            "SCORECARD_API_KEY": client.http.headers["Authorization"][7:],
            "SCORECARD_PROJECT_ID": project["id"],
            "SCORECARD_TESTSET_ID": testset["id"],
            "SCORECARD_METRIC_IDS": graded["id"],
            "SCORECARD_SYSTEM": "crashy:half",
            "SCORECARD_PYTHON": sys.executable,
            "SCORECARD_WORKING_DIRECTORY": str(workspace),
        }
    )
    api = ScorecardApi(client)
    api.extended = False  # speak to our server as to hosted Scorecard: one POST per record, no record errors
    run = api.start_run(config)
    progress, uploader = run_system(config, api, run)
    assert (progress.failed, len(uploader.failed_record_ids)) == (2, 2)
    for record in client.paginate(f"/runs/{run['id']}/records"):
        assert record["error"] is None
        client.put(f"/records/{record['id']}/scores/{run['metricVersionIds'][0]}", {"score": {"binaryScore": True}})
    run = wait_for_run(client, run["id"])
    context, results = build_report(
        config,
        api,
        run,
        "http://scorecard.example/run",
        parse_policy("0.8"),
        uploader.failed_record_ids,
        uploader.call_facts,
    )
    assert results["passed"] is False and context.summary.pass_rate == 0.5
    # The server was spoken to as hosted Scorecard, which keeps no durations: the runner's own count.
    assert context.usage is not None and context.usage.calls_timed == 4
    assert results["usage"]["latencyMs"]["n"] == 4
    assert results["summary"]["failedCalls"] == 2 and "2 of 4 system calls failed" in render(context)
    assert sum(case.metric_name == "(system)" for case in context.failing) == 2


def pull_request_event(fork: bool = False) -> tuple[str, dict]:
    head_repo = "someone/fork" if fork else REPO
    return "pull_request", {
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "feature", "sha": "d" * 40, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": REPO}},
        },
    }


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pull(REPO, 7, head_sha="d" * 40, head_ref="feature", base_ref="main")
        yield fake
        assert fake.spec_violations == []


def test_one_sticky_pr_comment_updated_on_every_push(client, evaluation, workspace, github):
    github.add_comment(REPO, 7, "LGTM", user=ACTIONS_BOT)  # someone else's note with no marker stays alone
    first, out = run_runner(
        client, evaluation, workspace, event=pull_request_event(), github=github, github_token=ACTIONS_TOKEN
    )
    assert first.returncode == 0, first.stdout + first.stderr
    comments = github.comments(REPO, 7)
    assert len(comments) == 2
    ours = comments[1]
    assert out["run-url"] in ours.body and "Exact" in ours.body and "<!-- scorecard-eval testset=" in ours.body

    second, out2 = run_runner(
        client, evaluation, workspace, event=pull_request_event(), github=github, github_token=ACTIONS_TOKEN
    )
    assert second.returncode == 0, second.stdout + second.stderr
    comments = github.comments(REPO, 7)
    assert len(comments) == 2 and comments[1].id == ours.id
    assert out2["run-url"] in comments[1].body and out["run-url"] not in comments[1].body
    assert comments[1].user == ACTIONS_BOT


def test_fork_pull_requests_skip_the_comment_but_still_gate(client, evaluation, workspace, github):
    result, out = run_runner(
        client,
        evaluation,
        workspace,
        event=pull_request_event(fork=True),
        github=github,
        github_token=READ_ONLY_TOKEN,
        fail_under="0.99",
    )
    assert result.returncode == 1 and out["passed"] == "false"
    assert github.comments(REPO, 7) == []
    assert any(line.startswith("::notice") and "fork" in line for line in result.stdout.splitlines())


def test_missing_pull_request_permission_is_named(client, evaluation, workspace, github):
    result, _out = run_runner(
        client, evaluation, workspace, event=pull_request_event(), github=github, github_token=READ_ONLY_TOKEN
    )
    assert any(line.startswith("::error") and "pull-requests: write" in line for line in result.stdout.splitlines())


def test_resume_after_a_crash_leaves_one_record_per_testcase_and_trial(client, evaluation, workspace):
    version = client.post(
        f"/projects/{evaluation['project']['id']}/systems", {"name": "slow", "config": {"sleep": 0.3}}
    )["productionVersion"]
    run = client.post(
        f"/projects/{evaluation['project']['id']}/runs",
        {
            "testsetId": evaluation["testset"]["id"],
            "metricIds": [evaluation["metric"]["id"]],
            "systemVersionId": version["id"],
        },
    )
    env_inputs = dict(run_id=run["id"], trials=2, concurrency=2, system_version_id=version["id"])

    # First attempt: killed with SIGKILL once some records are stored.
    process = subprocess.Popen(
        [sys.executable, "-m", "runner"],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "SCORECARD_API_URL": client.base_url,
            "SCORECARD_API_KEY": client.http.headers["Authorization"][7:],
            "SCORECARD_PROJECT_ID": evaluation["project"]["id"],
            "SCORECARD_TESTSET_ID": evaluation["testset"]["id"],
            "SCORECARD_METRIC_IDS": evaluation["metric"]["id"],
            "SCORECARD_SYSTEM": "bot:run_system",
            "SCORECARD_PYTHON": sys.executable,
            "SCORECARD_WORKING_DIRECTORY": str(workspace),
            **{f"SCORECARD_{k.upper()}": str(v) for k, v in env_inputs.items()},
        },
    )
    deadline = time.monotonic() + 60
    while client.get(f"/runs/{run['id']}")["numRecords"] < 3:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert client.get(f"/runs/{run['id']}")["numRecords"] < 12

    result, _out = run_runner(client, evaluation, workspace, **env_inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already recorded" in result.stdout
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    per_testcase: dict[str, int] = {}
    for record in records:
        per_testcase[record["testcaseId"]] = per_testcase.get(record["testcaseId"], 0) + 1
    assert len(records) == 12 and set(per_testcase.values()) == {2}
    assert wait_for_run(client, run["id"])["numRecords"] == 12
