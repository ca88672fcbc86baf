"""The runner's scale benchmark runs end to end in its smoke size and prints a line per size and
the ratios with their verdicts."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

SIZE_LINE = re.compile(
    r"^runner at scale: (\d+) testcases: [\d.]+ ms per record \([\d.]+ s start to exit, "
    r"calls and uploads [\d.]+ s\), peak RSS [\d.]+ MiB$",
    re.MULTILINE,
)
RATIOS = re.compile(
    r"^runner at scale: 2000 vs 200 testcases: time per record ratio [\d.]+ \(target <= 1\.2\) (PASS|MISS) "
    r"\(calls and uploads alone [\d.]+, start-up excluded\), peak RSS ratio [\d.]+ \(target <= 1\.5\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_a_line_per_size_and_the_ratios():
    output = quick_run("scale_runner")
    assert [int(size) for size in SIZE_LINE.findall(output)] == [200, 2000], output
    assert RATIOS.search(output), output
