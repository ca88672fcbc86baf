"""The traces benchmark runs end to end in its smoke size and prints its three result lines."""

from __future__ import annotations

import re

from tests.bench.quick_run import quick_run

INGEST = re.compile(
    r"^traces: OTLP ingest 2,000 spans \(512 a request, 4 clients, protobuf serialized beforehand\) in [\d.]+ s: "
    r"[\d,]+ spans/s, server CPU \d+ us a span \(target >= 5,000 on SQLite\) (PASS|MISS); 2,000 stored$",
    re.MULTILINE,
)


def cycle(sample_rate: int, sampled: str) -> re.Pattern[str]:
    return re.compile(
        rf"^traces: monitor cycle at {sample_rate}%: 500 candidate spans, {sampled} sampled into a run "
        r"in [\d.]+ s \([\d.]+ s server CPU; best of 1\) \(target < 2 s\) (PASS|MISS)$",
        re.MULTILINE,
    )


def test_quick_run_prints_ingest_and_both_cycles():
    output = quick_run("traces")
    assert INGEST.search(output), output
    assert cycle(100, "500").search(output), output
    assert cycle(10, r"\d{1,3}").search(output), output
