"""The install benchmark runs in its smoke size (cold installs with uv and with pip) and prints its
result lines."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

RESULT = re.compile(
    r"^install: runner-only with (uv|pip): [\d.]+ MB \(target <= 30 MB\) (PASS|MISS), "
    r"cold set-up [\d.]+ s \(target <= 5 s\) (PASS|MISS)$",
    re.MULTILINE,
)


def test_quick_run_prints_a_line_per_installer():
    output = quick_run("scale_install")
    assert [m.group(1) for m in RESULT.finditer(output)] == ["uv", "pip"], output
