"""Runs a bench in its smoke size, as a user would from the repository root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def quick_run(bench: str, timeout: float = 120) -> str:
    """``python -m bench.<bench> --quick``; returns what it printed, failing on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", "--quick"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
