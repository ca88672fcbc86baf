"""The server scale benchmark runs end to end in its smoke size and prints a line per measurement."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

MEASURED = (
    "records API, first page",
    "records API, every page",
    "run page (UI)",
    "CSV export",
    "summary API",
    "compare API",
    "runner report",
)


def test_quick_run_prints_each_measurement():
    output = quick_run("scale_server")
    assert re.search(r"^server at scale: 2,000 records x 2 metrics per run, 2 runs", output, re.MULTILINE), output
    for name in MEASURED:
        line = rf"^server at scale: {re.escape(name)}: \d+ ms, server peak RSS [+-][\d.]+ MiB"
        assert re.search(line, output, re.MULTILINE), output
    assert re.search(r"runner report \(job summary \d+ KiB, comment \d+ KiB\): \d+ ms, peak RSS [\d.]+ MiB", output)
