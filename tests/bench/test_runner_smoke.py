"""The runner benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^runner: \d+ cases x 50 ms @32: calls and uploads [\d.]+ s vs ideal [\d.]+ s \(ratio [\d.]+, target <= 1\.15\) "
    r"(PASS|MISS), whole process with start-up and testcase fetch [\d.]+ s \(ratio [\d.]+\); "
    r"SDK run_and_evaluate [\d.]+ s \(extrapolated from \d+ cases\) \([\d.]+x slower, target >= 20x\) (PASS|MISS); "
    r"per-record overhead -?[\d.]+ ms \(target < 1 ms\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("runner")
    assert RESULT.search(output), output
