"""A run's latency, tokens and cost from its records and scores as the API lists them."""

from __future__ import annotations

import random
import statistics

import pytest

from scorecard_core.prices import ModelPrice
from scorecard_core.usage import UNNAMED_MODEL, RunUsage, TokenCount, compare_usage, quantile, usage_from_wire


def record(duration_ms=None, model=None, usage=None, scores=()):
    body = {"id": "1", "outputs": {}, "scores": list(scores)}
    if duration_ms is not None:
        body["durationMs"] = duration_ms
    if usage is not None:
        body["metadata"] = {"model": model, "usage": usage}
    return body


def system_usage(prompt, completion, total=None):
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total or prompt + completion}


def judged(model, prompt, completion, cached=False):
    usage = {"model": model, "promptTokens": prompt, "completionTokens": completion}
    return {"status": "scored", "usage": usage | {"totalTokens": prompt + completion, "cached": cached}}


@pytest.mark.parametrize("size", [2, 3, 7, 20, 101])
def test_percentiles_interpolate_between_order_statistics_as_statistics_inclusive(size):
    values = sorted(random.Random(size).uniform(1, 5000) for _ in range(size))
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    assert quantile(values, 0.5) == pytest.approx(cuts[9])
    assert quantile(values, 0.95) == pytest.approx(cuts[18])


def test_percentiles_match_numpys_default_method():
    numpy = pytest.importorskip("numpy")
    values = sorted(random.Random(7).expovariate(1 / 300) for _ in range(1000))
    for q in (0.0, 0.25, 0.5, 0.95, 0.99, 1.0):
        assert quantile(values, q) == pytest.approx(float(numpy.quantile(values, q)))


def test_latency_is_over_the_records_with_a_duration():
    usage = usage_from_wire([record(100), record(300), record(), record(200.5), record(0)])
    assert usage.calls_timed == 4
    assert usage.latency_p50_ms == pytest.approx(150.25)  # between 100 and 200.5
    assert usage.latency_p95_ms == pytest.approx(200.5 + 0.85 * (300 - 200.5))
    one = usage_from_wire([record(42)])
    assert (one.latency_p50_ms, one.latency_p95_ms) == (42, 42)


def test_tokens_and_cost_of_the_system_and_the_judge():
    records = [
        record(10, "gpt-4o-mini-2024-07-18", system_usage(1000, 100), [judged("gpt-4o", 2000, 50)]),
        record(20, "gpt-4o-mini", system_usage(3000, 300), [judged("gpt-4o", 500, 10, cached=True)]),
    ]
    usage = usage_from_wire(records)
    assert usage.system_tokens == TokenCount(4000, 400, 4400)
    assert usage.judge_tokens == TokenCount(2000, 50, 2050)  # the cached judgement spent nothing
    assert usage.judge_cache_hits == 1
    system_cost = (4000 * 0.15 + 400 * 0.60) / 1e6
    judge_cost = (2000 * 2.50 + 50 * 10.00) / 1e6
    assert usage.cost_usd == pytest.approx(system_cost + judge_cost)
    assert usage.unknown_models == ()


def test_given_prices_are_used_instead_of_the_defaults():
    records = [record(usage=system_usage(2_000_000, 1_000_000), model="local")]
    assert usage_from_wire(records, {"local": ModelPrice(1, 3)}).cost_usd == pytest.approx(5.0)


def test_a_model_without_a_price_leaves_the_cost_unknown_and_is_named():
    records = [
        record(usage=system_usage(10, 5), model="my-finetune"),
        record(usage=system_usage(10, 5), model="gpt-4o"),
        record(scores=[judged(None, 7, 1)]),
        record(scores=[judged("judge-x", 0, 0)]),  # no tokens spent: nothing to price
    ]
    usage = usage_from_wire(records)
    assert usage.cost_usd is None
    assert usage.unknown_models == (UNNAMED_MODEL, "my-finetune")
    assert usage.system_tokens.total == 30 and usage.judge_tokens.total == 8


def test_without_any_usage_the_cost_is_unknown_but_cached_judgements_cost_nothing():
    nothing = usage_from_wire([record(5, scores=[{"status": "scored"}])])
    assert nothing.cost_usd is None and nothing.system_tokens == TokenCount() and nothing.judge_tokens == TokenCount()
    cached = usage_from_wire([record(5, scores=[judged("gpt-4o", 100, 10, cached=True)])])
    assert cached.cost_usd == 0.0 and cached.judge_cache_hits == 1
    empty = usage_from_wire([])
    assert empty == RunUsage(0, None, None, TokenCount(), TokenCount(), None, (), 0)


def test_what_is_not_a_count_counts_as_none_and_a_missing_total_is_the_sum():
    records = [
        record("slow", "gpt-4o", {"prompt_tokens": "12", "completion_tokens": True, "total_tokens": None}),
        record(-5, "gpt-4o", {"prompt_tokens": 30, "completion_tokens": 6}),
        record(float("inf")),
        record(None, "gpt-4o", {"prompt_tokens": None, "completion_tokens": None, "total_tokens": None}),
        {"metadata": "not an object", "scores": [{"usage": ["not", "an", "object"]}]},
    ]
    usage = usage_from_wire(records)
    assert usage.calls_timed == 0
    assert usage.system_tokens == TokenCount(30, 6, 36)


def test_as_dict_is_the_wire_shape():
    records = [record(100, "gpt-4o", system_usage(10, 2), [judged("gpt-4o", 5, 1, cached=True)]), record(300)]
    assert usage_from_wire(records).as_dict() == {
        "latencyMs": {"p50": 200.0, "p95": 290.0, "n": 2},
        "systemTokens": {"prompt": 10, "completion": 2, "total": 12},
        "judgeTokens": {"prompt": 0, "completion": 0, "total": 0},
        "costUsd": pytest.approx((10 * 2.5 + 2 * 10) / 1e6),
        "unknownPriceModels": [],
        "judgeCacheHits": 1,
    }


def test_comparing_two_runs_gives_the_changes_where_both_have_the_figure():
    base = usage_from_wire([record(100, "gpt-4o", system_usage(100, 10)), record(200)])
    now = usage_from_wire([record(150, "gpt-4o", system_usage(300, 30)), record(250)])
    delta = compare_usage(now, base)
    assert delta["latencyP50MsDelta"] == pytest.approx(50.0)
    assert delta["latencyP95MsDelta"] == pytest.approx(50.0)
    assert delta["costUsdDelta"] == pytest.approx((200 * 2.5 + 20 * 10) / 1e6)
    assert delta["totalTokensDelta"] == 220

    untimed = usage_from_wire([record(scores=[judged("gpt-4o", 1, 1)])])
    unreported = usage_from_wire([record(80)])
    assert compare_usage(untimed, base) == {
        "latencyP50MsDelta": None,
        "latencyP95MsDelta": None,
        "costUsdDelta": pytest.approx((2.5 + 10 - 100 * 2.5 - 10 * 10) / 1e6),
        "totalTokensDelta": 2 - 110,
    }
    assert compare_usage(unreported, base)["costUsdDelta"] is None
    assert compare_usage(base, unreported)["totalTokensDelta"] is None
    unpriced = usage_from_wire([record(80, "mystery", system_usage(1, 1))])
    assert compare_usage(unpriced, base)["costUsdDelta"] is None
    assert compare_usage(unpriced, base)["totalTokensDelta"] == 2 - 110
