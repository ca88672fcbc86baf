"""A run's usage read from the database agrees with the same run's records as the API lists them."""

from __future__ import annotations

import pytest

from scorecard_core import runs
from scorecard_core.db import session_scope
from scorecard_core.models import Run
from scorecard_core.prices import DEFAULT_PRICES, ModelPrice
from scorecard_core.runs import RecordInput
from scorecard_core.usage import TokenCount, usage_from_wire
from scorecard_core.usage_queries import ROWS_PER_QUERY, usage_of_run


def usage_of(world, run, prices=DEFAULT_PRICES):
    with session_scope(world.engine) as session:
        return usage_of_run(session, session.get_one(Run, run.id), prices)


def test_records_and_finished_scores_are_summed_as_from_the_wire(world):
    exact, helpful = world.metric("Exact"), world.metric("Helpful", eval_type="human")
    run = world.run([exact, helpful], with_testset=False)
    usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    items = [
        RecordInput(inputs={}, expected={}, outputs={}, duration_ms=d, metadata={"model": "gpt-4o", "usage": usage})
        for d in (30.0, 10.0, 20.0)
    ] + [RecordInput(inputs={}, expected={}, outputs={})]
    with session_scope(world.engine) as session:
        first, second, third, untimed = runs.add_records(session, run.id, items)
    judge = {"model": "gpt-4o-mini", "promptTokens": 400, "completionTokens": 5, "totalTokens": 405}
    exact_version, helpful_version = run.metric_version_ids
    world.set_scores(run, version=exact_version, status="scored", usage=judge | {"cached": False})
    world.set_scores(run, first, version=exact_version, usage=judge | {"cached": True})
    world.set_scores(run, second, version=exact_version, status="error")  # a failed judgement spent tokens too
    world.set_scores(run, third, version=helpful_version, status="pending", usage=judge)  # not finished

    found = usage_of(world, run)
    assert found.calls_timed == 3 and found.latency_p50_ms == 20.0
    assert found.system_tokens == TokenCount(300, 60, 360)
    assert found.judge_tokens == TokenCount(1200, 15, 1215)
    assert found.judge_cache_hits == 1
    assert found.cost_usd == pytest.approx((300 * 2.5 + 60 * 10 + 1200 * 0.15 + 15 * 0.6) / 1e6)
    assert usage_of(world, run, {"gpt-4o": ModelPrice(1, 1)}).unknown_models == ("gpt-4o-mini",)

    finished = [score for score in world.scores(run) if score.status in ("scored", "error")]
    listed = [
        {
            "durationMs": record.duration_ms,
            "metadata": record.call_metadata,
            "scores": [{"usage": score.usage} for score in finished if score.record_id == record.id],
        }
        for record in (first, second, third, untimed)
    ]
    assert usage_from_wire(listed) == found


def test_a_large_run_is_read_in_pages(world):
    run = world.run([], with_testset=False)
    count = ROWS_PER_QUERY + 1
    items = [RecordInput(inputs={}, expected={}, outputs={}, duration_ms=float(n)) for n in range(count)]
    with session_scope(world.engine) as session:
        runs.add_records(session, run.id, items)
    found = usage_of(world, run)
    assert found.calls_timed == count
    assert found.latency_p50_ms == pytest.approx((count - 1) / 2)
    assert found.cost_usd is None  # no usage reported
