"""The runner benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^runner: \d+ cases x 50 ms @32: calls and uploads [\d.]+ s vs ideal [\d.]+ s \(ratio [\d.]+, target <= 1\.15\) "
    r"(PASS|MISS), whole process with start-up and testcase fetch [\d.]+ s \(ratio [\d.]+\); "
    r"SDK run_and_evaluate [\d.]+ s \(extrapolated from \d+ cases\) \([\d.]+x slower, target >= 20x\) (PASS|MISS); "
    r"per-record overhead -?[\d.]+ ms \(target < 1 ms\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner", "--quick"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert RESULT.search(done.stdout), done.stdout
