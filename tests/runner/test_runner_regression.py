"""``python -m runner`` with ``fail-on-regression``, end to end against our live server: a baseline
run, then a worse one compared with it on evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.test_runner_cli import run_runner
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric

CASES = 10
SYSTEMS = """
def right(inputs):
    return {"answer": "a" + inputs["question"][1:]}

def wrong(inputs):
    return {"answer": "no idea"}
"""


@pytest.fixture
def evaluation(client, tmp_path):
    """Ten testcases, one exact-match metric, and a baseline run that gets every one right."""
    (tmp_path / "systems.py").write_text(SYSTEMS)
    project, testset, testcases = make_project(client, cases=CASES)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    evaluation = {"project": project, "testset": testset, "testcases": testcases, "metric": exact}
    result, out = run_runner(client, evaluation, tmp_path, system="systems:right")
    assert result.returncode == 0 and out["pass-rate"] == "1.0000", result.stdout + result.stderr
    return evaluation | {"baseline": out["run-id"]}


def test_a_regression_fails_the_check(client, evaluation, tmp_path):
    """All ten testcases got worse: one-sided exact p = 0.5^10, a regression at any alpha allowed."""
    result, out = run_runner(
        client,
        evaluation,
        tmp_path,
        system="systems:wrong",
        fail_on_regression="true",
        baseline_run_id=evaluation["baseline"],
    )
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    [regression] = [line for line in errors if "::error title=Scorecard%3A regression::" in line]
    assert "Exact: regressed by 100.0 pp" in regression, errors
    assert out["passed"] == "false"
    results = json.loads(Path(out["results"]).read_text())
    assert results["passed"] is False and len(results["regressions"]) == 1
    assert results["regressions"] == results["failures"]
    assert results["comparison"]["baselineRunId"] == evaluation["baseline"]
    [compared] = results["comparison"]["metrics"]
    assert (compared["verdict"], compared["pairs"], compared["delta"]) == ("regressed", CASES, -1.0)
    assert "regressed" in out["summary"].splitlines()[0] and "1 metric regressed" in out["summary"]


def test_the_same_drop_passes_without_the_regression_check(client, evaluation, tmp_path):
    result, out = run_runner(
        client,
        evaluation,
        tmp_path,
        system="systems:wrong",
        fail_on_regression="false",
        baseline_run_id=evaluation["baseline"],
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout and out["passed"] == "true"
    results = json.loads(Path(out["results"]).read_text())
    assert results["regressions"] == [] and results["comparison"]["metrics"][0]["verdict"] == "regressed"


def test_without_a_baseline_the_regression_check_notes_it(client, evaluation, tmp_path):
    result, out = run_runner(client, evaluation, tmp_path, system="systems:wrong", fail_on_regression="true")
    assert result.returncode == 0, result.stdout + result.stderr
    notices = [line for line in result.stdout.splitlines() if line.startswith("::notice")]
    assert any("No baseline run to compare with" in line for line in notices), result.stdout
