"""action.yml and the workflows pass zizmor and actionlint with nothing to report."""

from __future__ import annotations

import subprocess

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
