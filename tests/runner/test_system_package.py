"""The `runner.systems` package: `make_system` maps each form of the `system` input to its mode,
every error the package raises is a `ScorecardError`, and the shared helpers shape output text."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import signal
from pathlib import Path

import pytest

import runner.systems
from runner.systems import SystemStartError, make_system
from runner.systems.base import TAIL_CHARS, as_outputs, describe_exit, snippet, tail
from runner.systems.command import CommandSystem
from runner.systems.http import HttpSystem
from runner.systems.python_worker import PythonWorkerSystem
from scorecard_core.errors import ScorecardError


@pytest.mark.parametrize(
    ("spec", "mode"),
    [
        ("agents.well_behaved:run_system", PythonWorkerSystem),
        ("  pkg.mod:Agent.answer  ", PythonWorkerSystem),
        ("cmd:python answer.py", CommandSystem),
        ("http://127.0.0.1:9/answer", HttpSystem),
        ("https://example.com/answer", HttpSystem),
    ],
)
def test_make_system_picks_the_mode_the_spec_names(tmp_path: Path, spec: str, mode: type) -> None:
    assert type(make_system(spec, working_directory=tmp_path)) is mode


def test_a_command_spec_keeps_its_command_line(tmp_path: Path) -> None:
    system = make_system("cmd:  python answer.py --fast ", working_directory=tmp_path)
    assert isinstance(system, CommandSystem)
    assert (system.command, system.spec) == ("python answer.py --fast", "cmd:python answer.py --fast")


@pytest.mark.parametrize(
    ("spec", "concurrency", "message"),
    [
        ("cmd:", 1, "names no command"),
        ("http://", 1, "without a host"),
        ("just words", 1, "is not a system the runner can call"),
        ("pkg.mod:run", 0, "`concurrency` must be at least 1"),
    ],
)
def test_make_system_refuses_unusable_specs(tmp_path: Path, spec: str, concurrency: int, message: str) -> None:
    with pytest.raises(SystemStartError, match=message):
        make_system(spec, working_directory=tmp_path, concurrency=concurrency)


def test_every_error_the_systems_package_defines_is_a_scorecard_error() -> None:
    modules = [runner.systems] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(runner.systems.__path__, prefix=f"{runner.systems.__name__}.")
    ]
    errors = {
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__.startswith(runner.systems.__name__)
    }
    assert {cls.__name__ for cls in errors} >= {"SystemStartError", "SystemCallFailed", "ProcessDied"}
    assert all(issubclass(cls, ScorecardError) for cls in errors), errors


def test_outputs_are_always_a_json_object() -> None:
    assert as_outputs({"answer": 1}) == {"answer": 1}
    assert as_outputs([1, 2]) == {"output": [1, 2]}
    assert as_outputs(None) == {"output": None}


def test_long_text_keeps_the_end_of_logs_and_the_start_of_output() -> None:
    text = "a" * TAIL_CHARS + "z" * 10
    assert tail(text) == "..." + text[-TAIL_CHARS:]
    assert snippet(text) == text[:TAIL_CHARS] + "..."
    assert tail("  short \n") == snippet("  short \n") == "short"


@pytest.mark.parametrize(
    ("code", "described"),
    [
        (0, "exited with code 0"),
        (3, "exited with code 3"),
        (-signal.SIGKILL, "was killed by signal SIGKILL"),
        (-1000, "was killed by signal 1000"),
    ],
)
def test_describe_exit(code: int, described: str) -> None:
    assert describe_exit(code) == described
