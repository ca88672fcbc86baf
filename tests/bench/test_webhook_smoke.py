"""The webhook benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(
    r"^webhook: 10 clients x 2 s \(waitress, closed loop, 1 client process\): [\d,]+ deliveries/s, "
    r"p50 [\d.]+ ms, p99 [\d.]+ ms \(target < 50 ms\) (PASS|MISS); errors (\d+) \(target 0\) (PASS|MISS); "
    r"processed ([\d,]+)/([\d,]+) within [\d.]+ s after the last \(target all\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    done = subprocess.run(
        [sys.executable, "-m", "bench.webhook", "--quick"], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    found = RESULT.search(done.stdout)
    assert found, done.stdout
    # Latency depends on the machine; correctness does not: no errors, every delivery processed.
    errors, processed, sent = int(found[2]), found[4], found[5]
    assert errors == 0 and processed == sent and int(sent.replace(",", "")) > 0, done.stdout
