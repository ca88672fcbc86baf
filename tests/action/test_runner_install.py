"""The Action's runner-only install is complete: scripts/action-install.sh builds a virtualenv with
nothing but runner/requirements.txt (with uv, and with python3's pip), and in it every import
`python -m runner` can reach succeeds and a whole run reaches our live server and a fake GitHub.

The installs use the machine's uv and pip caches, so after the first run nothing is downloaded.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fakes.github_server import ACTIONS_TOKEN
from tests.runner.test_runner_cli import (  # noqa: F401 (fixtures)
    REPO,
    evaluation,
    github,
    pull_request_event,
    run_runner,
    workspace,
)
from tests.support.runner_install import INSTALLERS, ROOT, RunnerInstall, action_env, install_runner, run_step

ENTRY = "runner.__main__"
OURS = ("runner", "scorecard_core")
# The systems the server runs itself from a version's config (`prompt` or `endpoint`): `python -m
# runner` never builds them, and their openai and jinja2 stay out of the Action's install.
SERVER_ONLY = {
    "runner.systems.version_config",
    "runner.systems.prompt",
    "runner.systems.endpoint",
    "runner.systems.templates",
}
MAX_MEGABYTES = 30
REQUIREMENTS = ROOT / "runner" / "requirements.txt"


def pins() -> dict[str, str]:
    return dict(re.findall(r"^([\w.-]+)==([^\s;]+)", REQUIREMENTS.read_text(), re.MULTILINE))


def source_of(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def typing_only(tree: ast.Module) -> set[int]:
    """The nodes under `if TYPE_CHECKING:`, which never run."""
    return {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }


def reachable_imports() -> tuple[list[str], list[str]]:
    """Our modules that `python -m runner` can import, and every import statement of another
    package in them (at module level or inside a function), as written."""
    modules: set[str] = set()
    statements: set[str] = set()
    pending = [ENTRY]
    while pending:
        module = pending.pop()
        source = source_of(module)
        if module in modules or module in SERVER_ONLY or source is None:
            continue
        modules.add(module)
        package = module if source.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(source.read_text())
        never_run = typing_only(tree)
        for node in ast.walk(tree):
            if id(node) in never_run:
                continue
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                target = ".".join(part for part in (base, node.module) if part)
                named = [target, *(f"{target}.{alias.name}" for alias in node.names)]  # a name may be a module
            else:
                continue
            top = named[0].partition(".")[0]
            if top in OURS:
                pending += [name for name in named if source_of(name)]
            elif top not in sys.stdlib_module_names:
                statements.add(ast.unparse(node))
    return sorted(modules), sorted(statements)


@pytest.fixture
def database_url(sqlite_url) -> str:
    """What is installed does not depend on the server's database engine."""
    return sqlite_url


@pytest.fixture(scope="module", params=INSTALLERS)
def installed(request, tmp_path_factory) -> RunnerInstall:
    return install_runner(tmp_path_factory.mktemp(f"runner-{request.param}"), request.param)


def test_the_install_holds_only_the_runners_requirements(installed):
    assert installed.megabytes <= MAX_MEGABYTES
    assert not (installed.site_packages / "pip").exists()
    found = {p.name.partition("-")[0].lower().replace("_", "-") for p in installed.site_packages.glob("*.dist-info")}
    assert found <= set(pins()) and {"pygithub", "httpx", "requests"} <= found
    assert (installed.site_packages / "scorecard-runner.pth").read_text().strip() == str(ROOT)


def test_every_import_the_runner_can_reach_succeeds(installed):
    modules, statements = reachable_imports()
    assert "runner.comment" in modules and "runner.systems.http" in modules
    assert "import httpx" in statements and any(s.startswith("from github import") for s in statements)
    check = (
        "import importlib, json, sys\n"
        "modules, statements = json.loads(sys.argv[1])\n"
        "for module in modules: importlib.import_module(module)\n"
        "for statement in statements: exec(statement, {})\n"
    )
    done = subprocess.run(
        # runner.__main__ would start a run; what it imports is imported here all the same.
        [str(installed.python), "-c", check, json.dumps([[m for m in modules if m != ENTRY], statements])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=installed.python.parent,
    )
    assert done.returncode == 0, done.stderr


def test_a_pull_request_run_from_the_install_reaches_the_server_and_github(
    installed, client, evaluation, workspace, github
):
    result, out = run_runner(
        client,
        evaluation,
        workspace,
        event=pull_request_event(),
        github=github,
        github_token=ACTIONS_TOKEN,
        runner_python=str(installed.python),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert client.get(f"/runs/{out['run-id']}")["numRecords"] == 6
    (comment,) = github.comments(REPO, 7)
    assert out["run-url"] in comment.body


def test_a_second_install_reuses_the_virtualenv(installed):
    output = Path(installed.env["GITHUB_OUTPUT"])
    output.write_text("")
    done, _ = run_step("install", installed.env)
    assert "Installing the Scorecard runner" not in done.stdout
    assert output.read_text() == f"python={installed.python}\n"


def test_the_cache_key_names_the_python_and_follows_the_requirements(tmp_path):
    env = action_env(tmp_path, "pip", {"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64"})
    run_step("locate", env)
    first = Path(env["GITHUB_OUTPUT"]).read_text()
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"key=scorecard-runner-Linux-X64-python{version}-" in first
    assert f"venv={tmp_path / 'temp' / 'scorecard-runner-venv'}\n" in first

    action = tmp_path / "action"
    (action / "runner").mkdir(parents=True)
    (action / "runner" / "requirements.txt").write_text("requests==2.0\n")
    Path(env["GITHUB_OUTPUT"]).write_text("")
    run_step("locate", env | {"ACTION_PATH": str(action)})
    changed = Path(env["GITHUB_OUTPUT"]).read_text()
    assert changed != first and changed.split("-python")[0] == first.split("-python")[0]


def test_a_reused_python_skips_the_cache(tmp_path):
    env = action_env(tmp_path, "pip", {"SCORECARD_RUNNER_PYTHON": sys.executable})
    run_step("locate", env)
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""
    run_step("install", env)
    assert Path(env["GITHUB_OUTPUT"]).read_text() == f"python={sys.executable}\n"


def test_the_pins_fall_within_the_projects_ranges():
    # pyproject.toml's `dependencies = [...]`, read without tomllib (Python 3.11+).
    block = re.search(r"^dependencies = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(), re.MULTILINE | re.DOTALL)
    declared = re.findall(r'^\s*"([^"]+)"', block.group(1), re.MULTILINE)
    ranges = {canonicalize_name((r := Requirement(line)).name): r.specifier for line in declared}
    checked = {name: version for name, version in pins().items() if name in ranges}
    assert {"requests", "urllib3", "pygithub", "httpx", "typing-extensions"} <= set(checked)
    assert {name: v for name, v in checked.items() if v not in ranges[name]} == {}
