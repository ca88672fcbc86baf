"""House rules that CI enforces: the import contracts between our packages (pyproject's
[tool.importlinter]), ruff's lint and format, and mypy on the domain and the runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.tools import ROOT, tool

PACKAGES = ("scorecard_core", "scorecard_web", "runner", "webhook", "server")


def run(*command: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold():
    result = run(tool("lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_forbidden_import_breaks_a_contract(tmp_path):
    """The contracts catch what they promise to: the domain importing Flask."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    ids = tmp_path / "scorecard_core" / "ids.py"
    ids.write_text(ids.read_text() + "\nimport flask  # a careless import\n")
    result = run(tool("lint-imports"), "--no-cache", cwd=tmp_path)
    assert result.returncode != 0
    assert "The domain knows nothing of the web" in result.stdout and "BROKEN" in result.stdout
    assert "scorecard_core.ids -> flask" in result.stdout


def test_ruff_finds_nothing():
    result = run(tool("ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted():
    result = run(tool("ruff"), "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    """On the domain and the runner, as pyproject.toml's [tool.mypy] says."""
    result = run(tool("mypy"))
    assert result.returncode == 0, result.stdout + result.stderr
