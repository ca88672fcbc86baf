"""The ingest benchmark runs end to end in its smoke size and prints its one result line."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^ingest: batch [\d,]+ rec/s, per-record [\d,]+ rec/s, ratio [\d.]+x "
    r"\(targets: batch >= 5,000 rec/s (PASS|MISS), ratio >= 10x (PASS|MISS)\)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    output = quick_run("ingest")
    assert RESULT.search(output), output
