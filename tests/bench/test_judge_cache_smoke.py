"""The judge-cache benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^judge cache: 50 records, cold run 50 judge calls in [\d.]+ s; re-run with 45 outputs unchanged "
    r"5 calls in [\d.]+ s, 45 cache hits; ratio 0\.100 \(target <= 0\.10\) PASS$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("judge_cache")
    assert RESULT.search(output), output
