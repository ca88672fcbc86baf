"""The report's formulas against a straightforward recount of the same random records: a failed
system call fails every metric, a score with validation errors is an error, pending is neither."""

from __future__ import annotations

import random

import pytest

from scorecard_core.gate import evaluate, parse_fail_under
from scorecard_core.report_wire import failing_cases, summarize_wire

METRICS = {
    "1": {"id": "1", "name": "Correct", "evalType": "ai", "outputType": "boolean", "passingThreshold": None},
    "2": {"id": "2", "name": "Helpful", "evalType": "ai", "outputType": "int", "passingThreshold": 4},
}
VERSIONS = {"1": "v1", "2": "v2"}


def random_score(rng: random.Random, metric: dict) -> dict:
    kind = rng.choice(["pass", "fail", "error", "misfit", "pending"])
    body = {"metricConfigId": VERSIONS[metric["id"]], "kind": kind}
    boolean = metric["outputType"] == "boolean"
    if kind in ("pass", "fail"):
        value = (kind == "pass") if boolean else (rng.randint(4, 5) if kind == "pass" else rng.randint(1, 3))
        body.update(status="scored", score={"binaryScore" if boolean else "intScore": value})
    elif kind == "error":
        body.update(status="error", score={}, error="the judge answered nonsense")
    elif kind == "misfit":
        body.update(status="scored", score={"floatScore": 2}, validationErrors=[{"path": "/x", "message": "bad"}])
    return body


def random_records(seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for index in range(rng.randint(0, 40)):
        record = {"id": str(index), "testcaseId": str(index % 7), "inputs": {}, "outputs": {}, "scores": []}
        if rng.random() < 0.3:
            record["error"] = "RuntimeError: down"
        else:
            record["scores"] = [s for m in METRICS.values() if (s := random_score(rng, m))["kind"] != "pending"]
        records.append(record)
    return records


def recount(records: list[dict]) -> dict[str, dict[str, int]]:
    """Per metric ID: passed, failing (a scored fail or a failed call), errored, pending."""
    counts = {metric_id: dict(passed=0, failing=0, errored=0, pending=0) for metric_id in METRICS}
    for record in records:
        kinds = {s["metricConfigId"]: s["kind"] for s in record["scores"]}
        for metric_id, version in VERSIONS.items():
            if record.get("error"):
                counts[metric_id]["failing"] += 1
                continue
            kind = kinds.get(version, "pending")
            key = {"pass": "passed", "fail": "failing", "error": "errored", "misfit": "errored"}.get(kind, kind)
            counts[metric_id][key] += 1
    return counts


def ratio(passed: int, failing: int) -> float | None:
    return passed / (passed + failing) if passed + failing else None


@pytest.mark.parametrize("seed", range(40))
def test_pass_rates_match_a_recount(seed):
    records = random_records(seed)
    run = {"id": "r", "status": "completed", "metricIds": list(VERSIONS), "metricVersionIds": list(VERSIONS.values())}
    summary = summarize_wire(run, METRICS, records)
    expected = recount(records)
    crashed = sum(1 for r in records if r.get("error"))
    assert summary.failed_calls == crashed and summary.records == len(records)
    for metric in summary.metrics:
        counts = expected[metric.metric_id]
        assert metric.passed == counts["passed"]
        assert metric.errored == counts["errored"] and metric.pending == counts["pending"]
        assert metric.pass_rate == pytest.approx(ratio(counts["passed"], counts["failing"]))
    passed = sum(c["passed"] for c in expected.values())
    failing = sum(c["failing"] for c in expected.values())
    assert summary.pass_rate == pytest.approx(ratio(passed, failing))
    gate = evaluate(summary, parse_fail_under(""))
    assert gate.passed == (len(records) > crashed)  # no successful call, no pass


@pytest.mark.parametrize("seed", range(10))
def test_a_testcase_with_a_failed_call_fails_every_metric(seed):
    records = random_records(seed)
    run = {"id": "r", "status": "completed", "metricIds": list(VERSIONS), "metricVersionIds": list(VERSIONS.values())}
    summary = summarize_wire(run, METRICS, records)
    for record in records:
        units = [m.units.get(record["testcaseId"]) for m in summary.metrics]
        if record.get("error"):
            assert all(u is not None and u.passed < u.graded for u in units)
        for score in record["scores"]:
            if score["kind"] in ("error", "misfit"):
                continue  # no verdict of its own
            metric = next(m for m in summary.metrics if m.metric_version_id == score["metricConfigId"])
            if score["kind"] == "fail":
                assert metric.units[record["testcaseId"]].passed < metric.units[record["testcaseId"]].graded


def test_a_misfit_score_is_listed_as_an_error_with_its_validation_errors():
    records = [
        {
            "id": "1",
            "testcaseId": "7",
            "scores": [
                {
                    "metricConfigId": "v1",
                    "status": "scored",
                    "score": {"intScore": 3},
                    "validationErrors": [
                        {"path": "/binaryScore", "message": "a boolean metric's score needs `binaryScore`"}
                    ],
                }
            ],
        }
    ]
    run = {"id": "r", "status": "completed", "metricIds": ["1"], "metricVersionIds": ["v1"]}
    summary = summarize_wire(run, METRICS, records)
    assert (summary.metrics[0].scored, summary.metrics[0].errored, summary.pass_rate) == (0, 1, None)
    (case,) = failing_cases(summary, records)
    assert case.value is None and case.metric_name == "Correct"
    assert case.reason == "the score does not fit the metric: /binaryScore a boolean metric's score needs `binaryScore`"
    assert summary.metrics[0].units == {}  # a misfit is no verdict
