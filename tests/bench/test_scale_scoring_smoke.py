"""The scoring-scale benchmark (embedded, one worker, two workers) runs end to end in its smoke
size and prints its result line; ``bench.scale`` names the parts it knows when asked for another."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.bench.quick_run import REPO_ROOT, quick_run

RESULT = re.compile(
    r"^scale \(a\) scoring: 200 AI scores, 200 ms judge, concurrency 16 per process: embedded [\d,]+/s, "
    r"one worker [\d,]+/s, two workers [\d,]+/s; one worker / embedded [\d.]+x, two workers / one [\d.]+x "
    r"\(target >= 1\.7x\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("scale_scoring", timeout=240)
    assert RESULT.search(output), output


def test_scale_refuses_an_unknown_part():
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--only", "a,e"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--only: unknown part(s) e; choose from a, b, c, d" in done.stderr
