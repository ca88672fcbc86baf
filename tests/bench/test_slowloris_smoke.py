"""The slowloris benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^slowloris: normal requests alone p50 [\d.]+ ms, p99 [\d.]+ ms; "
    r"with 120 slow clients p50 [\d.]+ ms, p99 [\d.]+ ms; "
    r"with 190 slow clients \(connection limit 200\) p50 [\d.]+ ms, p99 [\d.]+ ms; "
    r"worst p99 delay -?[\d.]+ ms \(target < 100 ms\) (PASS|MISS); failed or over 5 s (\d+) \(target 0\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("slowloris")
    found = RESULT.search(output)
    assert found, output
    # Latency depends on the machine; starvation does not: below the limit every request is answered.
    assert found[2] == "0", output
