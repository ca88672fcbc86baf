from __future__ import annotations

import pytest

from scorecard_core.errors import InvalidField
from scorecard_core.gate import Thresholds, evaluate, parse_fail_under
from scorecard_core.report import MetricSummary, RunSummary


def metric(metric_id: str, name: str, scored: int, passed: int, output_type: str = "boolean") -> MetricSummary:
    return MetricSummary(metric_id, f"v{metric_id}", name, "ai", output_type, None, scored=scored, passed=passed)


def run(*metrics: MetricSummary) -> RunSummary:
    return RunSummary("r1", "completed", 10, list(metrics))


EXACT = metric("12", "Exact answer", scored=25, passed=18)  # 72%
TONE = metric("13", "Tone", scored=10, passed=10, output_type="int")  # 100%


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", Thresholds()),
        (None, Thresholds()),
        ("  ", Thresholds()),
        ("0.8", Thresholds(0.8)),
        ("80%", Thresholds(0.8)),
        ("80 %", Thresholds(0.8)),
        ("0", Thresholds(0.0)),
        ("100%", Thresholds(1.0)),
        ("0.8, Exact answer=0.9, 12=0.75", Thresholds(0.8, {"Exact answer": 0.9, "12": 0.75})),
        ("Exact   answer = 90% ,", Thresholds(None, {"Exact answer": 0.9})),
        ("0.8\nTone=0.5\n", Thresholds(0.8, {"Tone": 0.5})),
        ("a=b=0.5", Thresholds(None, {"a=b": 0.5})),
    ],
)
def test_parse_fail_under_formats(text, expected):
    assert parse_fail_under(text) == expected


def test_empty_thresholds_are_falsy():
    assert not parse_fail_under("")
    assert parse_fail_under("Tone=0")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("abc", "not a number"),
        ("Exact answer=high", "not a number"),
        ("nan", "not a number"),
        ("80", "between 0 and 1 (did you mean 80%?)"),
        ("1.5", "between 0 and 1"),
        ("-0.1", "between 0 and 1"),
        ("inf", "between 0 and 1"),
        ("120%", "between 0% and 100%"),
        ("=0.5", "no metric before `=`"),
        ("0.8, 0.9", "two overall thresholds"),
        ("Tone=0.5, tone =0.6", "names metric `tone` twice"),
    ],
)
def test_bad_fail_under_names_the_field_and_shows_an_example(text, problem):
    with pytest.raises(InvalidField) as caught:
        parse_fail_under(text)
    assert caught.value.field == "fail-under"
    assert problem in caught.value.message
    assert "e.g. `0.8, Exact answer=0.9, 12=75%`" in caught.value.message


def test_no_thresholds_always_pass():
    result = evaluate(run(EXACT), Thresholds())
    assert result.passed and result.failures == [] and result.thresholds_by_metric == {}


def test_overall_threshold_uses_the_pass_rate_across_metrics():
    summary = run(EXACT, TONE)  # 28 of 35 = 80%
    assert evaluate(summary, parse_fail_under("80%")).passed
    result = evaluate(summary, parse_fail_under("0.81"))
    assert not result.passed
    assert result.failures == ["Overall: pass rate 80.0% is below the 81.0% threshold."]
    assert result.overall_threshold == 0.81


def test_per_metric_thresholds_by_name_or_id():
    result = evaluate(run(EXACT, TONE), parse_fail_under("exact ANSWER=0.9, 13=100%"))
    assert not result.passed
    assert result.failures == ["Exact answer: pass rate 72.0% is below the 90.0% threshold."]
    assert result.thresholds_by_metric == {"12": 0.9, "13": 1.0}


def test_a_pass_rate_equal_to_the_threshold_passes():
    seven_of_ten = metric("1", "m", scored=10, passed=7)
    assert evaluate(run(seven_of_ten), parse_fail_under("m=70%")).passed
    assert evaluate(run(metric("2", "third", scored=3, passed=1)), parse_fail_under("0.3333333333")).passed


def test_unknown_metric_fails_with_the_metrics_it_could_mean():
    result = evaluate(run(EXACT, TONE), parse_fail_under("Exact=0.5"))
    assert not result.passed
    assert result.failures == [
        'Threshold for "Exact": this run has no metric with that name or ID; '
        "its metrics are: Exact answer (ID 12), Tone (ID 13)."
    ]
    assert result.thresholds_by_metric == {}


def test_ambiguous_metric_name_asks_for_the_id():
    twins = run(metric("1", "Tone", 1, 1), metric("2", "Tone", 1, 1))
    result = evaluate(twins, parse_fail_under("Tone=0.5"))
    assert result.failures == [
        'Threshold for "Tone": 2 metrics have that name (IDs 1, 2); name the metric by ID instead.'
    ]
    assert evaluate(twins, parse_fail_under("2=0.5")).passed


def test_metric_without_scores_fails_its_threshold():
    unscored = MetricSummary("5", "v5", "Judge", "ai", "boolean", None, pending=3, errored=2)
    result = evaluate(run(unscored), parse_fail_under("0.5, Judge=0"))
    assert result.failures == [
        "Overall: no scores to compare with the 50.0% threshold.",
        "Judge: no scores to compare with the 0.0% threshold.",
    ]
