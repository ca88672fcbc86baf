"""The README tells the truth: every install it shows can work, every command and flag it names
exists, every setting it documents is read by the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scorecard_core.settings import variable_of
from tests.support.processes import run_cli
from webhook.app import StandaloneSettings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
CODE = "\n".join(
    p.read_text()
    for package in ("scorecard_core", "server", "runner", "webhook")
    for p in (ROOT / package).rglob("*.py")
)


def test_every_pip_install_is_from_a_clone_or_a_git_url():
    """The package is not on PyPI: `pip install scorecard-github` can only fail."""
    installs = re.findall(r"pip install ([^\n`]+)", README)
    assert installs
    for arguments in installs:
        assert "scorecard-github" not in arguments.split("@")[0], f"installs from PyPI: pip install {arguments}"


def test_the_readme_says_where_the_command_lives_and_how_to_see_runs():
    assert ".venv/bin/scorecard" in README
    assert "--serve" in README and "sign in with the printed API key" in README
    assert "run_and_evaluate" in README and "hosted app" in README  # the SDK's run link


@pytest.mark.parametrize(
    "command", sorted({m.group(1) for m in re.finditer(r"`scorecard ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", README)})
)
def test_every_command_the_readme_names_exists(command):
    words = command.split()
    helped = run_cli(*words, "--help")
    if helped.returncode != 0 and len(words) > 1:  # "scorecard serve on ..." is a command and prose
        helped = run_cli(words[0], "--help")
    assert helped.returncode == 0, f"`scorecard {command}` from README: {helped.stderr}"


def test_every_flag_shown_with_the_demo_exists():
    shown = set(re.findall(r"scripts/demo\.sh((?: --[a-z-]+(?: \d+)?)+)", README))
    flags = {word for line in shown for word in line.split() if word.startswith("--")}
    assert "--serve" in flags
    helped = run_cli("demo", "--help").stdout
    assert sorted(f for f in flags if f not in helped) == []


def settings_variables() -> set[str]:
    """Every variable the typed settings read (the standalone webhook service's are a superset)."""
    return {variable_of(StandaloneSettings, name) for name in StandaloneSettings.model_fields}


def test_every_documented_setting_is_read_by_the_code():
    documented = set(re.findall(r"`(SCORECARD_[A-Z_]+)`", README))
    assert documented
    read = settings_variables()
    unread = sorted(v for v in documented if v not in CODE and v not in read)
    assert unread == [], f"README documents settings nothing reads: {unread}"


def test_every_setting_is_documented():
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", README))
    assert sorted(settings_variables() - documented) == []
