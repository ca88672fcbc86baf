"""scorecard_core.stats against values computed another way: scipy (an independent implementation),
published examples (Newcombe 1998, Table I), brute-force enumeration and seeded simulation."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from scipy import special
from scipy import stats as reference

from scorecard_core import stats
from scorecard_core.stats import Cluster, Interval, PairedComparison


@pytest.mark.parametrize("a", [0.5, 1.0, 2.5, 30.0, 1e4])
@pytest.mark.parametrize("b", [0.5, 3.0, 50.0, 1e4])
@pytest.mark.parametrize("x", [0.0, 1e-6, 0.3, 0.5, 0.99, 1.0])
def test_incomplete_beta_matches_scipy(a, b, x):
    assert stats.incomplete_beta(a, b, x) == pytest.approx(special.betainc(a, b, x), abs=1e-10)


@pytest.mark.parametrize("df", [1, 2, 5, 29, 199, 10_000])
@pytest.mark.parametrize("p", [0.0005, 0.025, 0.3, 0.5, 0.9, 0.975, 0.995])
def test_t_quantile_matches_scipy(df, p):
    assert stats.t_quantile(p, df) == pytest.approx(reference.t.ppf(p, df), rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("df", [1, 3, 29, 199, 10_000])
@pytest.mark.parametrize("t", [0.0, 0.1, -1.0, 2.0, 5.0, 40.0, math.inf])
def test_t_two_sided_p_matches_scipy(df, t):
    assert stats.t_two_sided_p(t, df) == pytest.approx(2 * reference.t.sf(abs(t), df), abs=1e-10)


@pytest.mark.parametrize("n", [1, 2, 15, 2000, 2001, 10_000])
def test_binomial_cdf_half_matches_scipy_on_both_sides_of_the_exact_limit(n):
    for k in sorted({-1, 0, 1, n // 3, n // 2, n - 1, n}):
        assert stats.binomial_cdf_half(k, n) == pytest.approx(reference.binom.cdf(k, n, 0.5), abs=1e-10)


# -- one run ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "successes, n, low, high",
    [  # Newcombe (1998), Table I, method 3 (Wilson), and the 5/5.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (5, 5, 0.5655, 1.0),
    ],
)
def test_wilson_reproduces_published_intervals_and_scipy(successes, n, low, high):
    interval = stats.wilson(successes, n)
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=5e-5)
    expected = reference.binomtest(successes, n).proportion_ci(method="wilson")
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high), abs=1e-12)


@pytest.mark.parametrize("successes, n", [(0, 1), (1, 1), (7, 7), (0, 7), (3, 10)])
@pytest.mark.parametrize("level", [0.9, 0.99])
def test_wilson_at_other_levels_and_the_edges(successes, n, level):
    interval = stats.wilson(successes, n, level)
    expected = reference.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    assert (interval.low, interval.high, interval.level) == pytest.approx((expected.low, expected.high, level))
    assert 0.0 <= interval.low <= successes / n <= interval.high <= 1.0
    assert (interval.low == 0.0) == (successes == 0) and (interval.high == 1.0) == (successes == n)


def test_wilson_of_nothing_is_no_interval():
    assert stats.wilson(0, 0) is None
    assert stats.proportion([Cluster(0, 0)]) is None


def test_one_trial_per_testcase_gives_the_plain_wilson_interval():
    clusters = [Cluster(float(i % 4 != 0), 1) for i in range(50)]  # 37 of 50 pass
    estimate = stats.proportion(clusters)
    assert (estimate.value, estimate.n, estimate.interval) == (37 / 50, 50, stats.wilson(37, 50))


def test_trials_that_always_agree_count_once_per_testcase():
    clusters = [Cluster(3.0 * (i % 4 != 0), 3) for i in range(40)]
    estimate = stats.proportion(clusters)
    assert estimate.interval == stats.wilson(30, 40)
    assert estimate.standard_error == pytest.approx(math.sqrt(0.75 * 0.25 / 40))


def test_coin_flip_trials_count_nearly_as_many_as_the_trials():
    rng = random.Random(7)
    clusters = [Cluster(sum(rng.random() < 0.5 for _ in range(3)), 3) for _ in range(2000)]
    estimate = stats.proportion(clusters)
    effective = estimate.value * (1 - estimate.value) / estimate.standard_error**2
    assert 0.9 * 6000 <= effective <= 6000 * (1 + 1e-12)


def test_clustered_standard_error_matches_the_ratio_estimators_simulated_variance():
    """Testcases drawn from a population of differing difficulty, with 2 to 5 trials: the formula's
    SE^2, averaged over replications, against the variance of the pass rate across them."""
    rng = random.Random(11)
    rates, variances = [], []
    for _ in range(2000):
        testcases = [(rng.betavariate(2, 1), rng.choice((2, 3, 5))) for _ in range(60)]
        clusters = [Cluster(sum(rng.random() < p for _ in range(k)), k) for p, k in testcases]
        estimate = stats.proportion(clusters)
        rates.append(estimate.value)
        variances.append(estimate.standard_error**2)
    simulated = sum((r - sum(rates) / len(rates)) ** 2 for r in rates) / (len(rates) - 1)
    assert sum(variances) / len(variances) == pytest.approx(simulated, rel=0.1)


def test_mean_of_one_trial_per_testcase_is_the_t_interval():
    values = [0.2, 0.9, 0.4, 0.4, 1.0, 0.75]
    estimate = stats.mean([Cluster(v, 1) for v in values])
    low, high = reference.t.interval(0.95, len(values) - 1, loc=sum(values) / 6, scale=reference.sem(values))
    assert (estimate.interval.low, estimate.interval.high) == pytest.approx((low, high))
    assert estimate.standard_error == pytest.approx(reference.sem(values))


def test_mean_with_equal_trials_is_the_t_interval_of_testcase_means():
    clusters = [Cluster(t, 3) for t in (0.5, 2.0, 2.9, 1.2, 3.0)]
    means = [c.total / 3 for c in clusters]
    expected = reference.ttest_1samp(means, 0.0).confidence_interval(0.9)
    interval = stats.mean(clusters, level=0.9).interval
    assert (interval.low, interval.high) == pytest.approx((expected.low, expected.high))


def test_a_single_testcase_mean_has_no_interval():
    assert stats.mean([Cluster(2.0, 3), Cluster(5.0, 0)]) == stats.Estimate(2 / 3, None, 1, None)


@pytest.mark.parametrize("passes, trials", [(0, 5), (2, 5), (5, 5), (3, 3), (4, 7)])
def test_pass_hat_k_is_the_chance_that_k_drawn_trials_all_pass(passes, trials):
    outcomes = [True] * passes + [False] * (trials - passes)
    for k in range(1, trials + 1):
        draws = list(itertools.combinations(outcomes, k))
        assert stats.pass_hat_k(passes, trials, k) == pytest.approx(sum(map(all, draws)) / len(draws))
        assert stats.pass_hat_k(passes, trials, k) == math.comb(passes, k) / math.comb(trials, k)
    assert stats.pass_hat_k(trials, trials, trials) == 1.0


@pytest.mark.parametrize("k", [0, 4])
def test_pass_hat_k_refuses_k_outside_the_trials(k):
    with pytest.raises(ValueError, match="k must be between 1 and the number of trials"):
        stats.pass_hat_k(2, 3, k)


# -- two runs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.95, 0.99])
def test_paired_difference_matches_scipy_ttest_rel(level):
    rng = random.Random(3)
    baseline = [rng.random() for _ in range(30)]
    run = [b - 0.1 + rng.gauss(0, 0.2) for b in baseline]
    comparison = stats.paired_difference(run, baseline, level)
    expected = reference.ttest_rel(run, baseline)
    ci = expected.confidence_interval(level)
    assert comparison.p_value == pytest.approx(expected.pvalue, rel=1e-8)
    assert (comparison.interval.low, comparison.interval.high) == pytest.approx((ci.low, ci.high))


def test_identical_runs_are_unchanged():
    values = [0.1, 0.5, 0.9]
    comparison = stats.paired_difference(values, values)
    assert comparison == PairedComparison(0.0, Interval(0.0, 0.0), 1.0, 3, 0.0)
    assert stats.verdict(comparison, 1.0, 0.05) == "unchanged"


def test_the_same_shift_on_every_testcase_is_certain():
    comparison = stats.paired_difference([0.25, 0.5], [0.75, 1.0])
    assert (comparison.p_value, stats.verdict(comparison, 0.0, 0.01)) == (0.0, "regressed")


def test_paired_difference_of_one_testcase_has_no_interval_and_bad_input_is_named():
    assert stats.paired_difference([0.4], [0.9]) == PairedComparison(-0.5, None, 1.0, 1, math.inf)
    with pytest.raises(ValueError, match="must match one to one, got 2 and 1"):
        stats.paired_difference([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="no testcase"):
        stats.paired_difference([], [])


@pytest.mark.parametrize("worse, better", [(0, 0), (1, 0), (0, 5), (3, 3), (7, 2), (12, 30), (1500, 1400)])
def test_exact_mcnemar_is_the_two_sided_binomial_test_of_the_discordant_pairs(worse, better):
    expected = 1.0 if worse + better == 0 else reference.binomtest(worse, worse + better, 0.5).pvalue
    assert stats.mcnemar_exact(worse, better) == pytest.approx(expected, rel=1e-9)


def test_compare_clusters_uses_mcnemar_for_single_trials_and_all_concordant_pairs_change_nothing():
    baseline = [Cluster(float(i < 6), 1) for i in range(10)]
    run = [Cluster(float(i < 6), 1) for i in range(10)]
    same = stats.compare_clusters(run, baseline, pass_fail=True)
    assert (same.delta, same.p_value, stats.verdict(same, stats.holm([same.p_value])[0], 0.05)) == (
        0.0,
        1.0,
        "unchanged",
    )
    worse = stats.compare_clusters([Cluster(float(i < 1), 1) for i in range(10)], baseline, pass_fail=True)
    assert worse.p_value == pytest.approx(reference.binomtest(5, 5, 0.5).pvalue)


def test_compare_clusters_with_trials_is_the_paired_t_test_of_testcase_means():
    rng = random.Random(5)
    baseline = [Cluster(rng.randint(0, 3), 3) for _ in range(25)]
    run = [Cluster(rng.randint(0, 3), 3) for _ in range(25)]
    comparison = stats.compare_clusters(run, baseline, pass_fail=True, level=0.99)
    expected = reference.ttest_rel([c.total / 3 for c in run], [c.total / 3 for c in baseline])
    assert comparison.p_value == pytest.approx(expected.pvalue, rel=1e-8)
    assert comparison.interval.low == pytest.approx(expected.confidence_interval(0.99).low)


def test_holm_on_a_hand_worked_example():
    # Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> held at 0.06.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0]
    assert stats.holm([]) == []


def holm_rejections(p_values: list[float], alpha: float) -> set[int]:
    """Holm's step-down procedure as defined: reject in ascending order while p_(i) <= alpha / (m - i)."""
    rejected: set[int] = set()
    for rank, index in enumerate(sorted(range(len(p_values)), key=lambda i: p_values[i])):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected.add(index)
    return rejected


def test_holm_agrees_with_the_step_down_definition_and_is_monotone():
    rng = random.Random(9)
    for _ in range(300):
        p_values = [rng.random() ** 3 for _ in range(rng.randint(1, 8))]
        adjusted = stats.holm(p_values)
        for alpha in (0.01, 0.05, 0.2):
            assert {i for i, p in enumerate(adjusted) if p <= alpha} == holm_rejections(p_values, alpha)
        ordered = [adjusted[i] for i in sorted(range(len(p_values)), key=lambda i: p_values[i])]
        assert ordered == sorted(ordered)
        assert all(p <= a <= 1.0 for p, a in zip(p_values, adjusted))


@pytest.mark.parametrize(
    "interval, adjusted_p, margin, expected",
    [
        (Interval(-0.2, -0.05), 0.001, 0.0, "regressed"),
        (Interval(-0.2, -0.05), 0.001, 0.05, "unchanged"),  # not clearly beyond the margin
        (Interval(-0.2, -0.05), 0.02, 0.0, "unchanged"),  # not significant after correction
        (Interval(0.03, 0.1), 0.001, 0.0, "improved"),
        (Interval(-0.1, 0.1), 0.001, 0.0, "unchanged"),
        (None, 0.0, 0.0, "unchanged"),
    ],
)
def test_verdict(interval, adjusted_p, margin, expected):
    comparison = PairedComparison(-0.1, interval, adjusted_p, 50, 0.03)
    assert stats.verdict(comparison, adjusted_p, 0.01, margin) == expected


@pytest.mark.parametrize("alpha, power", [(0.01, 0.8), (0.05, 0.8), (0.05, 0.9)])
def test_minimum_detectable_change_has_the_promised_power_in_closed_form(alpha, power):
    change = stats.minimum_detectable_change(0.03, alpha, power)
    critical = reference.norm.ppf(1 - alpha / 2)
    reached = reference.norm.sf(critical - change / 0.03) + reference.norm.cdf(-critical - change / 0.03)
    assert reached == pytest.approx(power, abs=1e-3)


def test_minimum_detectable_change_has_the_promised_power_in_simulated_paired_tests():
    rng = random.Random(13)
    n, spread, alpha = 100, 1.0, 0.05
    change = stats.minimum_detectable_change(spread / math.sqrt(n), alpha)
    detected = 0
    for _ in range(600):
        differences = [rng.gauss(change, spread) for _ in range(n)]
        detected += stats.paired_difference(differences, [0.0] * n).p_value < alpha
    # A t test on 99 degrees of freedom reaches ~0.79 where the normal approximation promises 0.8.
    assert detected / 600 == pytest.approx(0.8, abs=0.05)
