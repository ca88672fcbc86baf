"""The webhook benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^webhook: 10 clients x 2 s \(waitress, closed loop, 1 client process\): [\d,]+ deliveries/s, "
    r"p50 [\d.]+ ms, p99 [\d.]+ ms \(target < 50 ms\) (PASS|MISS); errors (\d+) \(target 0\) (PASS|MISS); "
    r"processed ([\d,]+)/([\d,]+) within [\d.]+ s after the last \(target all\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("webhook")
    found = RESULT.search(output)
    assert found, output
    # Latency depends on the machine; correctness does not: no errors, every delivery processed.
    errors, processed, sent = int(found[2]), found[4], found[5]
    assert errors == 0 and processed == sent and int(sent.replace(",", "")) > 0, output
