"""The runner's configuration: inputs first, then the triggering event; every bad value is one
clear error naming the input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runner.cli import gate_policy
from runner.config import ConfigError, load
from scorecard_core.comparison import Margins
from scorecard_core.gate import GatePolicy, Thresholds

BASE = {
    "SCORECARD_API_KEY": "ak_test",
    "SCORECARD_PROJECT_ID": "1",
    "SCORECARD_TESTSET_ID": "2",
    "SCORECARD_METRIC_IDS": "3, 4",
    "SCORECARD_SYSTEM": "app:run",
}


def event(tmp_path, name: str, payload: dict) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path)}


def test_inputs_and_defaults(tmp_path):
    config = load({**BASE, "SCORECARD_WORKING_DIRECTORY": str(tmp_path)})
    assert (config.project_id, config.testset_id, config.metric_ids) == ("1", "2", ["3", "4"])
    assert config.api_url == "https://api2.scorecard.io/api/v2"
    assert (config.concurrency, config.timeout, config.trials, config.wait_for_scores) == (8, 300.0, 1, True)
    assert config.working_directory == tmp_path.resolve()


@pytest.mark.parametrize("metric_ids", ["5,6", ["5", "6"], "5 , 6"])
def test_repository_dispatch_client_payload_fills_missing_inputs(tmp_path, metric_ids):
    payload = {
        "action": "start-evaluation",
        "client_payload": {
            "project_id": "10",
            "testset_id": "20",
            "metric_ids": metric_ids,
            "system_version_id": "v-uuid",
            "run_id": "99",
        },
    }
    env = {"SCORECARD_API_KEY": "k", "SCORECARD_SYSTEM": "app:run", **event(tmp_path, "repository_dispatch", payload)}
    config = load(env)
    assert (config.project_id, config.testset_id, config.metric_ids) == ("10", "20", ["5", "6"])
    assert (config.system_version_id, config.run_id) == ("v-uuid", "99")


def test_workflow_dispatch_inputs_and_explicit_inputs_win(tmp_path):
    payload = {"inputs": {"project_id": "10", "testset_id": "20", "metric_ids": "7"}}
    env = {**BASE, "SCORECARD_PROJECT_ID": "", **event(tmp_path, "workflow_dispatch", payload)}
    config = load(env)
    assert (config.project_id, config.testset_id, config.metric_ids) == ("10", "2", ["3", "4"])


def test_pull_request_git_context_and_forks(tmp_path):
    pull = {
        "number": 12,
        "head": {"ref": "feature", "sha": "b" * 40, "repo": {"full_name": "someone/fork"}},
        "base": {"ref": "main", "repo": {"full_name": "acme/bot"}},
    }
    env = {
        **BASE,
        "GITHUB_REPOSITORY": "acme/bot",
        "GITHUB_RUN_ID": "555",
        **event(tmp_path, "pull_request", {"pull_request": pull}),
    }
    git = load(env).git
    assert (git.pr_number, git.ref, git.sha, git.base_ref, git.fork) == (12, "feature", "b" * 40, "main", True)
    assert git.actions_run_url == "https://github.com/acme/bot/actions/runs/555"
    assert git.wire()["prNumber"] == 12


@pytest.mark.parametrize(
    "name, value, needle",
    [
        ("SCORECARD_API_KEY", "", "api-key"),
        ("SCORECARD_PROJECT_ID", "", "project-id"),
        ("SCORECARD_PROJECT_ID", "proj-1", "project-id"),
        ("SCORECARD_TESTSET_ID", "", "testset-id"),
        ("SCORECARD_METRIC_IDS", "", "metric-ids"),
        ("SCORECARD_METRIC_IDS", "3,x", "metric-ids"),
        ("SCORECARD_SYSTEM", "", "system"),
        ("SCORECARD_CONCURRENCY", "lots", "concurrency"),
        ("SCORECARD_CONCURRENCY", "0", "concurrency"),
        ("SCORECARD_TIMEOUT", "-1", "timeout"),
        ("SCORECARD_TRIALS", "1.5", "trials"),
        ("SCORECARD_WAIT_FOR_SCORES", "maybe", "wait-for-scores"),
        ("SCORECARD_RUN_ID", "latest", "run-id"),
        ("SCORECARD_API_URL", "api2.scorecard.io", "api-url"),
        ("SCORECARD_WORKING_DIRECTORY", "/no/such/dir", "working-directory"),
        ("SCORECARD_FAIL_ON_REGRESSION", "maybe", "fail-on-regression"),
    ],
)
def test_bad_values_name_the_input(name, value, needle):
    with pytest.raises(ConfigError) as caught:
        load({**BASE, name: value})
    assert caught.value.input == needle
    assert f"`{needle}`" in caught.value.message


def test_the_command_fails_fast_with_one_error_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": "true", **BASE, "SCORECARD_METRIC_IDS": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "runner"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "metric-ids" in errors[0], result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_gate_inputs_and_their_defaults():
    config = load(BASE)
    assert (config.fail_under_mode, config.fail_on_regression, config.regression_margin, config.alpha) == (
        "point",
        False,
        "",
        "",
    )
    assert gate_policy(config) == GatePolicy()
    config = load(
        {
            **BASE,
            "SCORECARD_FAIL_UNDER_MODE": "lower-bound",
            "SCORECARD_FAIL_ON_REGRESSION": "true",
            "SCORECARD_REGRESSION_MARGIN": "2pp, 0.25",
            "SCORECARD_ALPHA": "0.05",
        }
    )
    assert gate_policy(config) == GatePolicy(Thresholds(), "lower-bound", True, Margins(0.02, 0.25), 0.05)


# What main() checks before it starts a run: the gate's inputs and the price table.
BAD_GATE_INPUTS = [
    ("SCORECARD_FAIL_UNDER", "eighty", "fail-under"),
    ("SCORECARD_FAIL_UNDER_MODE", "median", "fail-under-mode"),
    ("SCORECARD_FAIL_ON_REGRESSION", "maybe", "fail-on-regression"),
    ("SCORECARD_REGRESSION_MARGIN", "abc", "regression-margin"),
    ("SCORECARD_REGRESSION_MARGIN", "2pp, 3pp", "regression-margin"),
    ("SCORECARD_ALPHA", "0.5", "alpha"),
    ("SCORECARD_ALPHA", "abc", "alpha"),
    ("SCORECARD_MODEL_PRICES", "{not json", "model-prices"),
    ("SCORECARD_MODEL_PRICES", '{"gpt-x": {"input": -1, "output": 2}}', "model-prices"),
]


@pytest.mark.parametrize("name, value, needle", BAD_GATE_INPUTS)
def test_a_bad_gate_input_fails_before_running_anything(tmp_path, name, value, needle):
    """The API URL is a closed port and the system a module that does not exist: any step past
    the inputs' check would fail differently."""
    env = {
        "PATH": "/usr/bin:/bin",
        "GITHUB_ACTIONS": "true",
        **BASE,
        "SCORECARD_API_URL": "http://127.0.0.1:9/api/v2",
        name: value,
    }
    result = subprocess.run(
        [sys.executable, "-m", "runner"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("::error::"), result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"::error::`{needle}` ") or line.startswith(f"::error::input `{needle}` "), line
    assert "Traceback" not in result.stderr and "::group::" not in result.stdout
