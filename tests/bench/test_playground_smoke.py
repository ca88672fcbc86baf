"""The playground benchmark runs end to end in its smoke size (a real browser on the real server)
and prints its one result line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.bench.quick_run import quick_run
from tests.conftest import IN_CI

RESULT = re.compile(
    r"^playground: 10 cards x 500 ms: first card [\d.]+ s \(target < 0\.7 s\) (PASS|MISS), "
    r"all cards [\d.]+ s \(target < 1\.2 s\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_the_result_line():
    if not Path("/usr/bin/chromium").exists() and not IN_CI:
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    output = quick_run("playground")
    assert RESULT.search(output), output
