"""How trustworthy the evidence gate's verdicts are: simulated pairs of runs (a run and its baseline
on the same testcases) through exactly what `fail-on-regression` does, counting false alarms when
nothing changed and catches when the system truly regressed.

The world: 200 testcases of differing difficulty, each with its own true pass probability q drawn
from Beta(4, 1) (mean 0.80, sd 0.16), fresh for every pair. A trial passes with probability q, and
then the judge flips the verdict with probability 0.10 (each trial on its own), so a testcase is
graded as passing with probability 0.1 + 0.8 q. Two scenarios:

- unchanged: the run and the baseline are the same system (both q);
- 10-point regression: the run's q of every testcase is scaled by 7/8, so the mean true pass rate
  falls from 0.80 to 0.70. Through the judge's noise the graded pass rate falls by 8 points.

The gate, per pair: one `Cluster` (passes, trials) per testcase for each run, `compare_clusters(run,
baseline, pass_fail=True, level=1 - alpha)` (exact McNemar with one trial, paired t over testcase
means with more), Holm over the metrics (one metric here, so the adjusted p is p), then
`verdict(comparison, adjusted, alpha, margin=0)`; the gate fails on "regressed". Beside it, the
naive rule: fail whenever the run's pass rate is below the baseline's. Every rate comes with its
95% Wilson interval over the simulated pairs (the Monte Carlo error).

    python bench/verdicts.py [--pairs 2000] [--seed 11] [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from statistics import NormalDist

if not __package__:  # run as `python bench/verdicts.py`: import from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scorecard_core import stats  # noqa: E402

TESTCASES = 200
DIFFICULTY = (4.0, 1.0)  # Beta(a, b) of a testcase's true pass probability: mean 0.80
JUDGE_FLIPS = 0.10
REGRESSION = 0.10  # drop of the mean true pass rate
DEFAULT_ALPHA = 0.01
ALPHAS = (DEFAULT_ALPHA, 0.05)
TRIALS = (1, 3)
TARGET_POWER = 0.8


@dataclass
class Tally:
    """How often each rule failed a pair, and the sums of the gate's deltas and their SEs."""

    pairs: int = 0
    gate_failed: dict[float, int] = field(default_factory=lambda: dict.fromkeys(ALPHAS, 0))
    naive_failed: int = 0
    delta_sum: float = 0.0
    standard_error_sum: float = 0.0

    def rate(self, failed: int) -> str:
        interval = stats.wilson(failed, self.pairs)
        assert interval is not None  # there is at least one pair
        return f"{failed / self.pairs:.2%} [{interval.low:.2%}, {interval.high:.2%}]"


def graded_passes(rng: Random, probability: float, trials: int) -> int:
    """How many of a testcase's trials the noisy judge grades as passing."""
    passes = 0
    for _ in range(trials):
        passed = rng.random() < probability
        if rng.random() < JUDGE_FLIPS:
            passed = not passed
        passes += passed
    return passes


def gate(run: list[stats.Cluster], baseline: list[stats.Cluster], alpha: float) -> tuple[bool, stats.PairedComparison]:
    """Whether `fail-on-regression` fails the pair on its one metric, and the comparison it judged."""
    comparison = stats.compare_clusters(run, baseline, pass_fail=True, level=1.0 - alpha)
    (adjusted,) = stats.holm([comparison.p_value])
    return stats.verdict(comparison, adjusted, alpha, margin=0.0) == "regressed", comparison


def simulate(run_probability: Callable[[float], float], trials: int, pairs: int, seed: int) -> Tally:
    rng = Random(seed)
    tally = Tally(pairs=pairs)
    for _ in range(pairs):
        difficulty = [rng.betavariate(*DIFFICULTY) for _ in range(TESTCASES)]
        baseline = [stats.Cluster(graded_passes(rng, q, trials), trials) for q in difficulty]
        run = [stats.Cluster(graded_passes(rng, run_probability(q), trials), trials) for q in difficulty]
        for alpha in ALPHAS:
            failed, comparison = gate(run, baseline, alpha)
            tally.gate_failed[alpha] += failed
        tally.naive_failed += sum(c.total for c in run) < sum(c.total for c in baseline)
        tally.delta_sum += comparison.delta  # the delta and its SE are the same at every level
        tally.standard_error_sum += comparison.standard_error
    return tally


def verdict_mark(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def reaching_power(tally: Tally) -> str:
    """The testcases (at the default alpha) or the alpha (at 200 testcases) that 80% power needs,
    by the normal approximation from the simulated drop and its standard error."""
    drop = -tally.delta_sum / tally.pairs
    standard_error = tally.standard_error_sum / tally.pairs
    needed_n = TESTCASES * (stats.minimum_detectable_change(standard_error, DEFAULT_ALPHA) / drop) ** 2
    critical = drop / standard_error - stats.normal_quantile(TARGET_POWER)
    needed_alpha = 2.0 * (1.0 - NormalDist().cdf(critical))
    return (
        f"80% power needs ~{needed_n:.0f} testcases at alpha {DEFAULT_ALPHA}, or alpha ~{needed_alpha:.3f} at "
        f"{TESTCASES} (graded drop {drop:.3f}, its SE {standard_error:.4f})"
    )


def report(trials: int, unchanged: Tally, regressed: Tally) -> None:
    alarms = unchanged.gate_failed
    power = regressed.gate_failed[DEFAULT_ALPHA]
    print(
        f"trials {trials}: false alarms at alpha {DEFAULT_ALPHA} {unchanged.rate(alarms[DEFAULT_ALPHA])} "
        f"(target <= 1%) {verdict_mark(alarms[DEFAULT_ALPHA] / unchanged.pairs <= DEFAULT_ALPHA)}, "
        f"at alpha 0.05 {unchanged.rate(alarms[0.05])} (target <= 5%) "
        f"{verdict_mark(alarms[0.05] / unchanged.pairs <= 0.05)}; naive rule {unchanged.rate(unchanged.naive_failed)}"
    )
    target = f" (target >= 80%) {verdict_mark(power / regressed.pairs >= TARGET_POWER)}" if trials > 1 else ""
    print(
        f"trials {trials}: power against the 10-point regression at alpha {DEFAULT_ALPHA} "
        f"{regressed.rate(power)}{target}, at alpha 0.05 {regressed.rate(regressed.gate_failed[0.05])}; "
        f"naive rule {regressed.rate(regressed.naive_failed)}"
    )
    print(f"trials {trials}: {reaching_power(regressed)}")


def judge_cache_figures() -> None:
    """The judge cache's own bench, when it is there (another bench, reported alongside)."""
    if importlib.util.find_spec("bench.judge_cache") is None:
        print("judge cache: bench/judge_cache.py is not there yet; skipped")
        return
    measure = getattr(importlib.import_module("bench.judge_cache"), "measure", None)
    if measure is None:
        print("judge cache: bench/judge_cache.py has no measure(); skipped")
        return
    figures = measure()
    if isinstance(figures, dict):
        figures = ", ".join(f"{name} {value}" for name, value in figures.items())
    print(f"judge cache: {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2000, help="run pairs per scenario and trial count")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--quick", action="store_true", help="200 pairs, a smoke run")
    args = parser.parse_args()
    pairs = 200 if args.quick else args.pairs
    started = time.perf_counter()
    a, b = DIFFICULTY
    print(
        f"verdicts: {TESTCASES} testcases, true pass probability ~ Beta({a:g}, {b:g}) (mean {a / (a + b):.2f}), "
        f"judge flips {JUDGE_FLIPS:.0%}, {pairs:,} run pairs per scenario, seed {args.seed}"
    )
    scale = 1.0 - REGRESSION / (a / (a + b))
    for index, trials in enumerate(TRIALS):
        unchanged = simulate(lambda q: q, trials, pairs, args.seed + 2 * index)
        regressed = simulate(lambda q: q * scale, trials, pairs, args.seed + 2 * index + 1)
        report(trials, unchanged, regressed)
    print(f"verdicts: simulated in {time.perf_counter() - started:.1f} s")
    judge_cache_figures()


if __name__ == "__main__":
    main()
