"""How sure we are of the numbers we show: intervals for a run's figures, paired comparisons of
two runs, multiple-testing correction and power. Pure functions over plain numbers, standard
library only, so the Action's runner gets them without a numerical stack.

The unit of sampling is the testcase. A testcase run k times (trials) enters as one ``Cluster``
(the sum of its k values and k); treating n x k trials as independent would understate the
uncertainty. Methods and sources: Wilson (1927) for proportions, Student's t for means and paired
differences, the exact McNemar test (1947) for paired pass/fail, Holm (1979) across metrics,
Miller, "Adding Error Bars to Evals" (2024) for clustering and power."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

LEVEL = 0.95
POWER = 0.8
# The default significance level of comparisons: a false alarm in at most 1 check in 100.
DEFAULT_ALPHA = 0.01
# Continued fractions converge in a few dozen steps for the arguments we meet; this is a bound.
_MAX_ITERATIONS = 500
_EPSILON = 1e-15
# Exact binomial sums in integers up to this many trials; beyond, the incomplete beta function.
_EXACT_BINOMIAL_LIMIT = 2000


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float = LEVEL

    def as_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "level": self.level}


@dataclass(frozen=True)
class Cluster:
    """One testcase: the sum of its trials' values (1/0 for pass/fail) and how many there were."""

    total: float
    count: int


@dataclass(frozen=True)
class Estimate:
    value: float
    interval: Interval | None  # None when the data cannot bound it (a mean of one testcase)
    n: int  # testcases
    standard_error: float | None


@dataclass(frozen=True)
class PairedComparison:
    delta: float  # run minus baseline, in the metric's units (a fraction for pass rates)
    interval: Interval | None
    p_value: float
    n: int  # testcases in both runs
    standard_error: float


# -- distributions -------------------------------------------------------------------------------


def normal_quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, _MAX_ITERATIONS + 1):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < _EPSILON:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The fraction converges fast on this side of the mean; use the symmetry on the other.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - front * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 0.0
    return min(1.0, incomplete_beta(df / 2.0, 0.5, df / (df + t * t)))


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (0 < p < 1), by bisection on the two-sided tail."""
    if p == 0.5:
        return 0.0
    tail = 2.0 * min(p, 1.0 - p)
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > tail:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_two_sided_p(middle, df) > tail:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    value = (low + high) / 2.0
    return value if p > 0.5 else -value


def binomial_cdf_half(k: int, n: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if n <= _EXACT_BINOMIAL_LIMIT:
        return sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return incomplete_beta(n - k, k + 1, 0.5)


# -- one run -------------------------------------------------------------------------------------


def wilson(successes: float, n: float, level: float = LEVEL) -> Interval | None:
    """The Wilson score interval of a proportion; ``n`` may be an effective (fractional) size."""
    if n <= 0:
        return None
    z = normal_quantile(0.5 + level / 2.0)
    p = min(max(successes / n, 0.0), 1.0)
    denominator = 1.0 + z * z / n
    center = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    # At p = 0 (or 1) the bound is exactly 0 (or 1); rounding would leave the estimate outside.
    low = 0.0 if p == 0.0 else max(0.0, center - half)
    high = 1.0 if p == 1.0 else min(1.0, center + half)
    return Interval(low, high, level)


def _pooled(clusters: Sequence[Cluster]) -> tuple[list[Cluster], float, int] | None:
    """The testcases with at least one trial, their values' sum and their trials; None if none."""
    kept = [c for c in clusters if c.count > 0]
    return (kept, sum(c.total for c in kept), sum(c.count for c in kept)) if kept else None


def proportion(clusters: Sequence[Cluster], level: float = LEVEL) -> Estimate | None:
    """A pass rate (all passes over all graded trials) with its Wilson interval.

    One trial per testcase: the plain Wilson interval. With trials, Wilson at the effective sample
    size p(1-p) / SE^2, where SE is the clustered (ratio-estimator) standard error over testcases;
    it lies between the number of testcases (trials that always agree) and the number of trials
    (trials as independent as separate testcases)."""
    pooled = _pooled(clusters)
    if pooled is None:
        return None
    clusters, passed, trials = pooled
    rate = passed / trials
    n = len(clusters)
    if trials == n:
        effective = float(n)
    else:
        spread = sum((c.total - rate * c.count) ** 2 for c in clusters) / trials**2
        variance = rate * (1.0 - rate)
        effective = float(n) if spread <= 0 or variance <= 0 else min(max(variance / spread, n), trials)
    interval = wilson(rate * effective, effective, level)
    return Estimate(rate, interval, n, math.sqrt(rate * (1.0 - rate) / effective))


def mean(clusters: Sequence[Cluster], level: float = LEVEL) -> Estimate | None:
    """A mean score (all values over all trials) with its t interval over testcases, using the
    clustered standard error (with its C/(C-1) small-sample factor, so one trial per testcase gives
    the textbook t interval). No interval from a single testcase."""
    pooled = _pooled(clusters)
    if pooled is None:
        return None
    clusters, total, count = pooled
    value = total / count
    n = len(clusters)
    if n < 2:
        return Estimate(value, None, n, None)
    spread = sum((c.total - value * c.count) ** 2 for c in clusters)
    standard_error = math.sqrt(n / (n - 1) * spread) / count
    half = t_quantile(0.5 + level / 2.0, n - 1) * standard_error
    return Estimate(value, Interval(value - half, value + half, level), n, standard_error)


def pass_hat_k(passes: int, trials: int, k: int) -> float:
    """pass^k: the chance that k trials drawn from ``trials`` (``passes`` of them passing) all pass."""
    if not 0 < k <= trials:
        raise ValueError(f"k must be between 1 and the number of trials ({trials}), got {k}")
    return math.comb(passes, k) / math.comb(trials, k)


# -- two runs on the same testcases ----------------------------------------------------------------


def paired_difference(run: Sequence[float], baseline: Sequence[float], level: float = LEVEL) -> PairedComparison:
    """The paired t comparison of per-testcase values (trials averaged first): the mean
    difference, its t interval and the two-sided p-value of "no difference"."""
    if len(run) != len(baseline):
        raise ValueError(f"paired values must match one to one, got {len(run)} and {len(baseline)}")
    n = len(run)
    if n == 0:
        raise ValueError("no testcase is in both runs")
    differences = [now - then for now, then in zip(run, baseline)]
    delta = sum(differences) / n
    if n < 2:
        return PairedComparison(delta, None, 1.0, n, math.inf)
    variance = sum((d - delta) ** 2 for d in differences) / (n - 1)
    standard_error = math.sqrt(variance / n)
    if standard_error == 0:
        # Every testcase moved by exactly the same amount: no noise to weigh the change against.
        p_value = 1.0 if delta == 0 else 0.0
        return PairedComparison(delta, Interval(delta, delta, level), p_value, n, 0.0)
    half = t_quantile(0.5 + level / 2.0, n - 1) * standard_error
    p_value = t_two_sided_p(delta / standard_error, n - 1)
    return PairedComparison(delta, Interval(delta - half, delta + half, level), p_value, n, standard_error)


def mcnemar_exact(worse: int, better: int) -> float:
    """The two-sided exact McNemar p-value from the discordant pairs: testcases that passed in
    the baseline and fail now (``worse``) and the reverse (``better``)."""
    discordant = worse + better
    if discordant == 0:
        return 1.0
    return min(1.0, 2.0 * binomial_cdf_half(min(worse, better), discordant))


def paired_pass_fail(run: Sequence[bool], baseline: Sequence[bool], level: float = LEVEL) -> PairedComparison:
    """Pass/fail with one trial per testcase: the p-value of the exact McNemar test, the delta's
    interval from the paired differences (-1, 0, +1)."""
    by_difference = paired_difference([float(v) for v in run], [float(v) for v in baseline], level)
    worse = sum(1 for now, then in zip(run, baseline) if then and not now)
    better = sum(1 for now, then in zip(run, baseline) if now and not then)
    p_value = mcnemar_exact(worse, better)
    return PairedComparison(
        by_difference.delta, by_difference.interval, p_value, by_difference.n, by_difference.standard_error
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the given order: compare each with alpha."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def directional_p(comparison: PairedComparison) -> float:
    """The one-sided p-value in the direction the change went: how often a change at least this
    large, this way, would appear if nothing had changed. Half the two-sided value of both tests
    (t is symmetric; exact McNemar doubles its smaller tail); 1 when nothing moved."""
    return 1.0 if comparison.delta == 0 else min(1.0, comparison.p_value / 2.0)


def verdict(comparison: PairedComparison, adjusted_p: float, alpha: float, margin: float = 0.0) -> str:
    """``regressed`` when the change is significant (``adjusted_p``, a one-sided p-value after
    correction, below alpha) and the whole interval lies below -margin; ``improved``
    symmetrically above +margin; else ``unchanged``. With one-sided tests at alpha, the interval
    to pass is at level 1 - 2 alpha."""
    interval = comparison.interval
    if interval is None or adjusted_p >= alpha:
        return "unchanged"
    if interval.high < -margin:
        return "regressed"
    if interval.low > margin:
        return "improved"
    return "unchanged"


def minimum_detectable_change(
    standard_error: float, alpha: float, power: float = POWER, two_sided: bool = True
) -> float:
    """The smallest true change a test at ``alpha`` (two-sided, or one-sided as the regression
    gate's) detects with ``power``, given the standard error of the change."""
    critical = normal_quantile(1.0 - alpha / 2.0 if two_sided else 1.0 - alpha)
    return (critical + normal_quantile(power)) * standard_error


def compare_clusters(
    run: Sequence[Cluster], baseline: Sequence[Cluster], pass_fail: bool, level: float = LEVEL
) -> PairedComparison:
    """Two runs' values of the same testcases, in the same order, each testcase's trials
    averaged: exact McNemar for pass/fail with one trial on both sides, paired t otherwise."""
    run_means = [c.total / c.count for c in run]
    baseline_means = [c.total / c.count for c in baseline]
    if pass_fail and all(c.count == 1 for c in [*run, *baseline]):
        return paired_pass_fail([v >= 0.5 for v in run_means], [v >= 0.5 for v in baseline_means], level)
    return paired_difference(run_means, baseline_means, level)
