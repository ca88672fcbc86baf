"""The server-runs benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^server runs: \d+ cases x 50 ms @32: kickoff to last record [\d.]+ s vs ideal [\d.]+ s "
    r"\(ratio [\d.]+, target <= 1\.15\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("server_runs")
    assert RESULT.search(output), output
