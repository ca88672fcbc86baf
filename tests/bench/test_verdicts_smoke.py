"""The verdicts bench in a smoke size: 300 simulated pairs per scenario through the real
summarize -> compare -> gate path, seeded, so the figures are the same on every run."""

from __future__ import annotations

import pytest

from bench.verdicts import DEFAULT_ALPHA, Scenarios, report, simulate_all

PAIRS = 300
SEED = 11


@pytest.fixture(scope="module")
def scenarios() -> dict[int, Scenarios]:
    return {s.trials: s for s in simulate_all(PAIRS, SEED)}


def test_false_alarms_stay_near_alpha_and_far_below_the_naive_rule(scenarios):
    for s in scenarios.values():
        unchanged = s.unchanged
        # Bounds a few Monte Carlo standard errors above alpha (300 pairs: ~0.6 pp at 1%, ~1.3 pp at 5%).
        assert unchanged.share(unchanged.gate_failed[DEFAULT_ALPHA]) <= 0.03, s
        assert unchanged.share(unchanged.gate_failed[0.05]) <= 0.09, s
        assert 0.35 <= unchanged.share(unchanged.naive_failed) <= 0.65, s


def test_three_trials_catch_the_regression_far_more_often_than_one(scenarios):
    one, three = (scenarios[t].regressed for t in (1, 3))
    assert three.share(three.gate_failed[DEFAULT_ALPHA]) >= 0.65, three
    assert three.share(three.gate_failed[DEFAULT_ALPHA]) >= one.share(one.gate_failed[DEFAULT_ALPHA]) + 0.3
    assert three.share(three.naive_failed) >= 0.95, three  # the naive rule fails nearly every build


def test_report_prints_three_lines_per_trial_count(scenarios, capsys):
    report(scenarios[3])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["trials 3"] * 3
    assert "(target >= 80%)" in lines[1]
    assert "80% power needs" in lines[2]
