"""action.yml and the workflows pass zizmor and actionlint with nothing to report."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.support.tools import ROOT, tool

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_zizmor_finds_nothing():
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "action.yml", ".github/workflows"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing():
    assert WORKFLOWS
    result = subprocess.run(
        [tool("actionlint"), *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_passes_inputs_only_through_env():
    """`${{ }}` inside `run:` is script injection; inputs reach scripts as environment variables."""
    action = (ROOT / "action.yml").read_text()
    for block in action.split("run: ")[1:]:
        assert "${{" not in block.splitlines()[0], block.splitlines()[0]


def test_the_sharded_example_is_checked_and_keeps_the_conventions():
    """Each job gets only the permissions it uses, one failed shard cancels no other, the report
    runs after a failed shard, and it is told as many shards as the matrix runs."""
    path = ROOT / ".github" / "workflows" / "scorecard-eval-sharded.yml"
    assert path in WORKFLOWS
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert all(job["permissions"] for job in jobs.values())
    assert "pull-requests" not in jobs["shard"]["permissions"] | jobs["create"]["permissions"]
    steps = [step for job in jobs.values() for step in job["steps"]]
    for step in steps:
        if step.get("uses", "./") != "./":
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False
    modes = {step["with"]["mode"]: step["with"] for step in steps if step.get("uses") == "./"}
    assert set(modes) == {"create", "shard", "report"}
    shards = jobs["shard"]["strategy"]
    assert shards["fail-fast"] is False and jobs["shard"]["needs"] == "create"
    assert int(modes["report"]["shard-count"]) == len(shards["matrix"]["shard"])
    assert jobs["report"]["needs"] == ["create", "shard"]
    assert "!cancelled()" in jobs["report"]["if"] and "needs.create.result == 'success'" in jobs["report"]["if"]
