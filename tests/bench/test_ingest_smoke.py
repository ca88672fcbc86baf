"""The ingest benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"
RESULT = re.compile(
    r"^ingest: batch [\d,]+ rec/s, per-record [\d,]+ rec/s, ratio [\d.]+x "
    r"\(targets: batch >= 5,000 rec/s (PASS|MISS), ratio >= 10x (PASS|MISS)\)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert RESULT.search(done.stdout), done.stdout
