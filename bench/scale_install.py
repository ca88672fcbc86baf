"""The Action's runner install: its size and its cold set-up time, against the whole project's.

Runs scripts/action-install.sh (its `locate` and `install` steps, as action.yml does on a cache
miss) in a fresh directory with an empty package cache, once with uv on PATH and once with only
python3's pip, and measures the virtualenv's site-packages as installed (no pip is in it) and the
two steps' wall time. Targets: <= 30 MB, <= 5 s. Then, for the ratio, what the Action did before:
`python3 -m venv` and `pip install` of the whole project (server included) from a clean copy of
the committed tree, also with an empty cache; pip's own size is given apart. Downloads come from
the package index (pip's configuration files are ignored, as on a fresh runner). Each install is
cold; the best of the rounds counts, since a shared machine or network only ever slows one down.

    python -m bench.scale_install [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.runner_install import INSTALLERS, ROOT, action_env, install_runner, run_step, tree_megabytes

TARGET_MEGABYTES = 30
TARGET_SECONDS = 5.0
FULL_INSTALL_TIMEOUT = 600


@dataclass
class Install:
    megabytes: float
    seconds: float
    pip_megabytes: float = 0.0


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def cold_env(workdir: Path) -> dict[str, str]:
    """Empty uv and pip caches of their own, and none of pip's configuration files."""
    return {
        "UV_CACHE_DIR": str(workdir / "uv-cache"),
        "PIP_CACHE_DIR": str(workdir / "pip-cache"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
    }


def runner_only(installer: str) -> Install:
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-install-") as tmp:
        workdir = Path(tmp)
        _, locate_seconds = run_step("locate", action_env(workdir, installer, cold_env(workdir)))
        installed = install_runner(workdir, installer, cold_env(workdir))
        return Install(installed.megabytes, locate_seconds + installed.seconds)


def whole_project() -> Install:
    """The Action's install before: a virtualenv with pip, then `pip install` of the project."""
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-install-") as tmp:
        workdir = Path(tmp)
        source = workdir / "action"
        source.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
        venv = workdir / "venv"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))} | cold_env(workdir)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=FULL_INSTALL_TIMEOUT)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                str(source),
            ],
            env=env,
            check=True,
            timeout=FULL_INSTALL_TIMEOUT,
        )
        seconds = time.perf_counter() - started
        (site,) = venv.glob("lib/python*/site-packages")
        pip = tree_megabytes(site / "pip") + sum(tree_megabytes(d) for d in site.glob("pip-*.dist-info"))
        return Install(tree_megabytes(site) - pip, seconds, pip)


def best(measure, rounds: int) -> Install:
    results = [measure() for _ in range(rounds)]
    return Install(results[0].megabytes, min(r.seconds for r in results), results[0].pip_megabytes)


def lines(quick: bool, rounds: int | None = None) -> list[str]:
    """One line per installer of the runner-only install, then (unless ``quick``) the whole
    project's install and the ratios."""
    rounds = rounds or (1 if quick else 3)
    runner = {installer: best(lambda i=installer: runner_only(i), rounds) for installer in INSTALLERS}
    found = [
        f"install: runner-only with {installer}: {r.megabytes:.1f} MB (target <= {TARGET_MEGABYTES} MB) "
        f"{verdict(r.megabytes, TARGET_MEGABYTES)}, cold set-up {r.seconds:.2f} s (target <= {TARGET_SECONDS:.0f} s) "
        f"{verdict(r.seconds, TARGET_SECONDS)}"
        for installer, r in runner.items()
    ]
    if quick:
        return found
    whole = whole_project()
    ratios = ", ".join(
        f"with {i}: {whole.megabytes / r.megabytes:.1f}x smaller, {whole.seconds / r.seconds:.1f}x faster"
        for i, r in runner.items()
    )
    return [
        *found,
        f"install: whole project (before): {whole.megabytes:.1f} MB (+ pip {whole.pip_megabytes:.1f} MB), "
        f"cold set-up {whole.seconds:.2f} s; runner-only {ratios}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="cold installs per installer; the best counts (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: one round, no whole-project install")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for line in lines(args.quick, args.rounds):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
