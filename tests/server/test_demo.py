"""The README's main command: the full demo ends with the run URL and every metric's pass rate."""

from __future__ import annotations

import re

from tests.support.processes import run_cli


def test_the_demo_runs_end_to_end(tmp_path):
    done = run_cli("demo", "--data-dir", str(tmp_path / "demo"), "--no-serve")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output and "Exception" not in output, output
    assert re.search(r"Run URL:\s+http://127\.0\.0\.1:\d+/projects/1/runs/1", done.stdout), output
    assert re.search(r"Run status:\s+completed \(24 records, 48 scores\)", done.stdout), output
    assert re.search(r"Exact answer\s+pass rate\s+75\.0%", done.stdout), output
    assert re.search(r"Mentions the capital\s+pass rate\s+75\.0%", done.stdout), output
    assert "Exact answer" in (tmp_path / "demo" / "job-summary.md").read_text()
