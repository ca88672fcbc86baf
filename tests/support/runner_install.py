"""The Action's runner installed as the Action installs it: scripts/action-install.sh in a directory
of its own, with the installer chosen by what is on PATH (uv, or python3's pip).

Used by tests/action/test_runner_install.py (is the runner-only install complete?) and by
bench/scale_install.py (how big and how fast is it?).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = ROOT / "scripts" / "action-install.sh"
INSTALLERS = ("uv", "pip")
INSTALL_TIMEOUT = 300


@dataclass
class RunnerInstall:
    python: Path
    site_packages: Path
    seconds: float
    log: str
    env: dict[str, str]  # the step's environment, to run the script again as a later step would

    @property
    def megabytes(self) -> float:
        """The site-packages as installed (before any run writes bytecode into it)."""
        return tree_megabytes(self.site_packages)


def tree_megabytes(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def uv_binary() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise RuntimeError("`uv` is not installed; run `pip install -e '.[test]'` (it comes from PyPI's uv)")
    return found


def path_without_uv() -> str:
    """PATH without the directories holding a uv, so that the install finds only the one it is given."""
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not Path(p, "uv").exists())


def action_env(workdir: Path, installer: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The step's environment: ACTION_PATH is this checkout, RUNNER_TEMP and GITHUB_OUTPUT are in
    ``workdir``, and PATH leads to this interpreter as python3 (and to uv when ``installer`` is uv)."""
    if installer not in INSTALLERS:
        raise ValueError(f"installer must be one of {INSTALLERS}, got {installer!r}")
    tools = workdir / "bin"
    tools.mkdir(parents=True, exist_ok=True)
    (tools / "python3").unlink(missing_ok=True)
    (tools / "python3").symlink_to(sys.executable)
    if installer == "uv":
        (tools / "uv").unlink(missing_ok=True)
        (tools / "uv").symlink_to(uv_binary())
    (workdir / "temp").mkdir(exist_ok=True)
    output = workdir / "github-output.txt"
    output.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCORECARD_", "VIRTUAL_ENV", "PYTHON"))}
    return env | {
        "PATH": os.pathsep.join([str(tools), path_without_uv()]),
        "ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(workdir / "temp"),
        "GITHUB_OUTPUT": str(output),
        **(extra or {}),
    }


def step_outputs(env: dict[str, str]) -> dict[str, str]:
    lines = Path(env["GITHUB_OUTPUT"]).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_step(command: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """``action-install.sh <command>`` as the Action's step runs it; returns it and its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(INSTALL_SCRIPT), command], env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"action-install.sh {command} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done, seconds


def install_runner(workdir: Path, installer: str, extra_env: dict[str, str] | None = None) -> RunnerInstall:
    """Installs the runner into ``workdir`` with ``installer`` (uv or pip); ``extra_env`` adds to the
    step's environment (a fresh UV_CACHE_DIR or PIP_CACHE_DIR for a cold install)."""
    env = action_env(workdir, installer, extra_env)
    done, seconds = run_step("install", env)
    python = Path(step_outputs(env)["python"])
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return RunnerInstall(python, Path(site), seconds, done.stdout + done.stderr, env)
