from __future__ import annotations

import pytest

from scorecard_core.comparison import Margins, compare_summaries
from scorecard_core.errors import InvalidField
from scorecard_core.gate import (
    GatePolicy,
    Thresholds,
    evaluate,
    parse_alpha,
    parse_fail_under,
    parse_margin,
    parse_policy,
)
from scorecard_core.report import MetricSummary, RunSummary, metric_summary, summarize_rows


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


# -- the policy's other inputs: mode, regression margin, alpha ---------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, Margins()),
        ("", Margins()),
        ("2pp", Margins(0.02, 0.0)),
        ("2%", Margins(0.02, 0.0)),
        ("2 PP", Margins(0.02, 0.0)),
        ("0.25", Margins(0.0, 0.25)),
        ("2pp, 0.25", Margins(0.02, 0.25)),
        ("0.25\n2%", Margins(0.02, 0.25)),
        ("100pp", Margins(1.0, 0.0)),
    ],
)
def test_parse_margin_formats(text, expected):
    assert parse_margin(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("abc", "`abc`, which is not a non-negative number"),
        ("-1pp", "`-1pp`, which is not a non-negative number"),
        ("inf", "`inf`, which is not a non-negative number"),
        ("2p", "`2p`, which is not a non-negative number"),  # not silently an average margin of 2
        ("2pp, 3pp", "give one pass-rate margin from 0 to 100pp"),
        ("150pp", "`150pp`; give one pass-rate margin from 0 to 100pp"),
        ("0.25, 0.5", "two average margins"),
    ],
)
def test_bad_margins_name_the_field(text, problem):
    with pytest.raises(InvalidField) as caught:
        parse_margin(text)
    assert caught.value.field == "regression-margin"
    assert problem in caught.value.message


@pytest.mark.parametrize(
    "value, expected", [(None, 0.01), ("", 0.01), ("0.05", 0.05), (" 0.2 ", 0.2), (0.0001, 0.0001), (0.01, 0.01)]
)
def test_parse_alpha(value, expected):
    assert parse_alpha(value) == expected


@pytest.mark.parametrize("value", ["0", "0.5", "abc", "1e-9", "nan", "-0.01", 0.21])
def test_bad_alpha_names_the_field_and_the_range(value):
    with pytest.raises(InvalidField) as caught:
        parse_alpha(value)
    assert caught.value.field == "alpha"
    assert f"is `{value}`; use a significance level from 0.0001 to 0.2" in caught.value.message


def test_parse_policy_defaults_and_values():
    assert parse_policy() == GatePolicy()
    assert parse_policy(None, None, False, None, None) == GatePolicy()
    policy = parse_policy("0.8", " Lower-Bound ", True, "2pp, 0.25", "0.05")
    assert policy == GatePolicy(Thresholds(0.8), "lower-bound", True, Margins(0.02, 0.25), 0.05)


@pytest.mark.parametrize(
    "inputs, field",
    [
        ({"mode": "median"}, "fail-under-mode"),
        ({"regression_margin": "abc"}, "regression-margin"),
        ({"alpha": "0"}, "alpha"),
        ({"fail_under": "lots"}, "fail-under"),
    ],
)
def test_parse_policy_names_the_bad_input(inputs, field):
    with pytest.raises(InvalidField) as caught:
        parse_policy(**inputs)
    assert caught.value.field == field and caught.value.message.startswith(f"`{field}` ")


# -- the regression check, on real summaries and comparisons -------------------------------------

CASES = 100


def pass_fail_run(run_id: str, failing: int) -> RunSummary:
    """One pass/fail metric over t1..t100, the first ``failing`` testcases failing."""
    metrics = [metric_summary("12", "v12", {"name": "Exact answer", "output_type": "boolean"})]
    rows = [(f"t{n}", "v12", "scored", {"binaryScore": n > failing}) for n in range(1, CASES + 1)]
    return summarize_rows(run_id, "completed", CASES, metrics, rows)


BASELINE = pass_fail_run("r1", failing=0)


def regression_gate(failing: int, policy: GatePolicy):
    now = pass_fail_run("r2", failing)
    return evaluate(now, policy, compare_summaries(now, BASELINE, policy.alpha, policy.margins))


def test_a_regression_fails_the_check_and_is_listed():
    result = regression_gate(30, GatePolicy(fail_on_regression=True))
    assert not result.passed and result.notes == []
    assert result.failures == result.regressions
    [regression] = result.regressions
    assert regression.startswith("Exact answer: regressed by 30.0 pp (")
    assert "p < 0.001" in regression or "p = " in regression


def test_the_regression_check_is_off_unless_asked_for():
    assert regression_gate(30, GatePolicy()).passed


def test_an_unchanged_metric_passes_the_regression_check():
    result = regression_gate(0, GatePolicy(fail_on_regression=True))
    assert result.passed and result.regressions == [] and result.notes == []
    # 2 of 100 worse is no evidence at alpha 0.01 (one-sided exact p = 0.25).
    assert regression_gate(2, GatePolicy(fail_on_regression=True)).passed


def test_without_a_baseline_the_regression_check_passes_with_a_note():
    result = evaluate(pass_fail_run("r2", 30), GatePolicy(fail_on_regression=True), None)
    assert result.passed and result.regressions == []
    assert result.notes == ["No baseline run to compare with: the regression check had nothing to check."]


def test_a_margin_tolerates_a_small_significant_drop_but_not_a_big_one():
    """8 of 100 worse (one-sided exact p = 0.5^8 = 0.004): significant, but its 98% interval
    (about -14.5 to -1.5 pp) reaches above -2 pp, so a 2 pp margin lets it pass."""
    strict = GatePolicy(fail_on_regression=True)
    tolerant = parse_policy(fail_on_regression=True, regression_margin="2pp")
    assert not regression_gate(8, strict).passed
    assert regression_gate(8, tolerant).passed
    big = regression_gate(30, tolerant)
    assert not big.passed
    [regression] = big.regressions
    assert regression.endswith(", beyond the 2.0 pp margin).")


def test_thresholds_and_regressions_fail_together():
    result = regression_gate(30, parse_policy("0.9", fail_on_regression=True))
    assert result.failures[0] == "Overall: pass rate 70.0% is below the 90.0% threshold."
    assert result.failures[1:] == result.regressions and len(result.regressions) == 1


def test_lower_bound_mode_needs_the_interval_above_the_threshold():
    """95 of 100 pass: the point passes 90%, the 95% Wilson lower bound (88.8%) does not."""
    now = pass_fail_run("r2", 5)
    assert evaluate(now, parse_policy("0.9")).passed
    result = evaluate(now, parse_policy("0.9", "lower-bound"))
    assert result.failures == ["Overall: pass rate 95.0% has a 95% lower bound of 88.8%, below the 90.0% threshold."]
