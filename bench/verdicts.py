"""How trustworthy the evidence gate's verdicts are: simulated pairs of runs (a run and its baseline
on the same testcases) through exactly the code `fail-on-regression` runs, counting false alarms
when nothing changed and catches when the system truly regressed.

The world: 200 testcases of differing difficulty, each with its own true pass probability q drawn
from Beta(4, 1) (mean 0.80, sd 0.16), fresh for every pair. A trial passes with probability q, and
then the judge flips the verdict with probability 0.10 (each trial on its own), so a testcase is
graded as passing with probability 0.1 + 0.8 q. Two scenarios:

- unchanged: the run and the baseline are the same system (both q);
- 10-point regression: the run's q of every testcase is scaled by 7/8, so the mean true pass rate
  falls from 0.80 to 0.70. Through the judge's noise the graded pass rate falls by 8 points.

The gate, per pair: each run's scores (one row per trial, a boolean metric) summarized by
`report.summarize_rows`, `comparison.compare_summaries(run, baseline, alpha)` (one-sided per
direction at alpha, the change's interval at 1 - 2 alpha; exact McNemar with one trial, paired t
over testcase means with more; Holm across metrics) and `gate.evaluate` with `fail-on-regression`
on; the pair fails when the check does not pass. Beside it, the naive rule: fail whenever the
run's pass rate is below the baseline's. Every rate comes with its 95% Wilson interval over the
simulated pairs (the Monte Carlo error).

    python bench/verdicts.py [--pairs 2000] [--seed 11] [--quick]

``simulate_all(pairs, seed)`` returns the tallies without printing, for the smoke test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from statistics import NormalDist

if not __package__:  # run as `python bench/verdicts.py`: import from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.judge_cache import measure as measure_judge_cache  # noqa: E402
from scorecard_core import gate, stats  # noqa: E402
from scorecard_core.comparison import compare_summaries  # noqa: E402
from scorecard_core.report import RunSummary, metric_summary, summarize_rows  # noqa: E402

TESTCASES = 200
DIFFICULTY = (4.0, 1.0)  # Beta(a, b) of a testcase's true pass probability: mean 0.80
JUDGE_FLIPS = 0.10
REGRESSION = 0.10  # drop of the mean true pass rate
DEFAULT_ALPHA = stats.DEFAULT_ALPHA
ALPHAS = (DEFAULT_ALPHA, 0.05)
POLICIES = {alpha: gate.parse_policy("", "point", True, "", alpha) for alpha in ALPHAS}
TRIALS = (1, 3)
TARGET_POWER = 0.8
METRIC_VERSION = "v1"


@dataclass
class Tally:
    """How often each rule failed a pair, and the sums of the gate's deltas and detectable changes."""

    pairs: int = 0
    gate_failed: dict[float, int] = field(default_factory=lambda: dict.fromkeys(ALPHAS, 0))
    naive_failed: int = 0
    delta_sum: float = 0.0
    detectable_sum: float = 0.0  # the comparison's detectableChange at the default alpha

    def share(self, failed: int) -> float:
        return failed / self.pairs

    def rate(self, failed: int) -> str:
        interval = stats.wilson(failed, self.pairs)
        assert interval is not None  # there is at least one pair
        return f"{failed / self.pairs:.2%} [{interval.low:.2%}, {interval.high:.2%}]"


@dataclass
class Scenarios:
    """One trial count's two scenarios."""

    trials: int
    unchanged: Tally
    regressed: Tally


def graded_passes(rng: Random, probability: float, trials: int) -> int:
    """How many of a testcase's trials the noisy judge grades as passing."""
    passes = 0
    for _ in range(trials):
        passed = rng.random() < probability
        if rng.random() < JUDGE_FLIPS:
            passed = not passed
        passes += passed
    return passes


def graded_run(run_id: str, passes: list[int], trials: int) -> RunSummary:
    """A completed run's summary as the server builds it: one scored row per trial."""
    rows = [
        (str(testcase), METRIC_VERSION, "scored", {"binaryScore": trial < passed})
        for testcase, passed in enumerate(passes, start=1)
        for trial in range(trials)
    ]
    metric = metric_summary("1", METRIC_VERSION, {"name": "Correct", "output_type": "boolean"})
    return summarize_rows(run_id, "completed", len(rows), [metric], rows)


def simulate(run_probability: Callable[[float], float], trials: int, pairs: int, seed: int) -> Tally:
    rng = Random(seed)
    tally = Tally(pairs=pairs)
    for _ in range(pairs):
        difficulty = [rng.betavariate(*DIFFICULTY) for _ in range(TESTCASES)]
        baseline = graded_run("baseline", [graded_passes(rng, q, trials) for q in difficulty], trials)
        run = graded_run("run", [graded_passes(rng, run_probability(q), trials) for q in difficulty], trials)
        for alpha, policy in POLICIES.items():
            comparison = compare_summaries(run, baseline, policy.alpha, policy.margins)
            tally.gate_failed[alpha] += not gate.evaluate(run, policy, comparison).passed
            if alpha == DEFAULT_ALPHA:
                (metric,) = comparison["metrics"]
                tally.delta_sum += metric["delta"]
                tally.detectable_sum += metric["detectableChange"]
        tally.naive_failed += run.pass_rate < baseline.pass_rate  # type: ignore[operator]  # both scored
    return tally


def simulate_all(pairs: int, seed: int) -> list[Scenarios]:
    """Both scenarios at each trial count, each from its own seed."""
    a, b = DIFFICULTY
    scale = 1.0 - REGRESSION / (a / (a + b))
    return [
        Scenarios(
            trials,
            simulate(lambda q: q, trials, pairs, seed + 2 * index),
            simulate(lambda q: q * scale, trials, pairs, seed + 2 * index + 1),
        )
        for index, trials in enumerate(TRIALS)
    ]


def verdict_mark(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def reaching_power(tally: Tally) -> str:
    """The testcases (at the default alpha) or the alpha (at 200 testcases) that 80% power needs,
    by the normal approximation from the simulated drop and the gate's own detectable change."""
    drop = -tally.delta_sum / tally.pairs
    detectable = tally.detectable_sum / tally.pairs
    standard_error = detectable / stats.minimum_detectable_change(1.0, DEFAULT_ALPHA, two_sided=False)
    needed_n = TESTCASES * (detectable / drop) ** 2
    needed_alpha = 1.0 - NormalDist().cdf(drop / standard_error - stats.normal_quantile(TARGET_POWER))
    return (
        f"80% power needs ~{needed_n:.0f} testcases at alpha {DEFAULT_ALPHA}, or alpha ~{needed_alpha:.3f} at "
        f"{TESTCASES} (graded drop {drop:.3f}, its SE {standard_error:.4f})"
    )


def report(scenarios: Scenarios) -> None:
    trials, unchanged, regressed = scenarios.trials, scenarios.unchanged, scenarios.regressed
    alarms = unchanged.gate_failed
    power = regressed.gate_failed[DEFAULT_ALPHA]
    print(
        f"trials {trials}: false alarms at alpha {DEFAULT_ALPHA} {unchanged.rate(alarms[DEFAULT_ALPHA])} "
        f"(target <= 1%) {verdict_mark(unchanged.share(alarms[DEFAULT_ALPHA]) <= DEFAULT_ALPHA)}, "
        f"at alpha 0.05 {unchanged.rate(alarms[0.05])} (target <= 5%) "
        f"{verdict_mark(unchanged.share(alarms[0.05]) <= 0.05)}; naive rule {unchanged.rate(unchanged.naive_failed)}"
    )
    target = f" (target >= 80%) {verdict_mark(regressed.share(power) >= TARGET_POWER)}" if trials > 1 else ""
    print(
        f"trials {trials}: power against the 10-point regression at alpha {DEFAULT_ALPHA} "
        f"{regressed.rate(power)}{target}, at alpha 0.05 {regressed.rate(regressed.gate_failed[0.05])}; "
        f"naive rule {regressed.rate(regressed.naive_failed)}"
    )
    print(f"trials {trials}: {reaching_power(regressed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2000, help="run pairs per scenario and trial count")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="200 pairs and 50 judge-cache records, a smoke run")
    args = parser.parse_args()
    pairs = 200 if args.quick else args.pairs
    started = time.perf_counter()
    a, b = DIFFICULTY
    print(
        f"verdicts: {TESTCASES} testcases, true pass probability ~ Beta({a:g}, {b:g}) (mean {a / (a + b):.2f}), "
        f"judge flips {JUDGE_FLIPS:.0%}, {pairs:,} run pairs per scenario, seed {args.seed}"
    )
    for scenarios in simulate_all(pairs, args.seed):
        report(scenarios)
    print(f"verdicts: simulated in {time.perf_counter() - started:.1f} s")
    figures = measure_judge_cache(50 if args.quick else 500)
    print("judge cache: " + ", ".join(f"{name} {value}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
