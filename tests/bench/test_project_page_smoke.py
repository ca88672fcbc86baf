"""The project-page benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^project page: 10 runs x 100 records x 3 metrics \(seeded in [\d.]+ s\): p95 \d+ ms, median \d+ ms "
    r"over 5 requests \(reading every score instead: \d+ ms\) target < 150 ms (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("project_page")
    assert RESULT.search(output), output
