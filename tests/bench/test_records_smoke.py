"""The records-search benchmark runs end to end in its smoke size and prints its result lines."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

KINDS = ("no filter", "full-text search", "metric fail filter", "search + filter")


def test_quick_run_prints_a_line_per_database_and_query_kind():
    output = quick_run("records", timeout=300)
    for database in ("sqlite", "postgresql"):
        for kind in KINDS:
            line = rf"^records {database}: {re.escape(kind)}: p95 \d+ ms \(target < 300 ms (PASS|MISS)\)$"
            assert re.search(line, output, re.MULTILINE), output
