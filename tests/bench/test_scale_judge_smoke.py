"""The judge-scale benchmark runs end to end in its smoke size and prints its result lines."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

WAY = r"512 calls, 256 in flight, judge answering in 200 ms: [\d.]+ ms CPU per call, [\d,]+ calls/s$"
RESULT = re.compile(
    rf"^scale judge: old \(blocking openai client, 256 threads\): {WAY}\n"
    rf"scale judge: new \(judge_record, one event loop per process\): {WAY}\n"
    r"scale judge: CPU per call old / new [\d.]+x; new [\d.]+ ms \(target <= 1 ms\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_lines():
    output = quick_run("scale_judge")
    assert RESULT.search(output), output
