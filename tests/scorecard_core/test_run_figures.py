"""The figures kept with each run as scores are written (``scoring.figures``, read by
``report_queries.figures``) equal ``summarize``'s, computed from every score, on varied data:
failed calls, judge errors, scores that do not fit their metric, pending human scores, trials;
re-scoring rebuilds them; the status explanation names the first distinct causes of errors."""

from __future__ import annotations

import random

import pytest

from scorecard_core import report_queries
from scorecard_core.db import session_scope
from scorecard_core.models import Metric, Record, Run
from scorecard_core.scoring.figures import CAUSES_PER_METRIC
from scorecard_core.scoring.lifecycle import refresh_run, rescore

from .conftest import World
from .test_scores import put

COMPARED = ("scored", "pending", "errored", "passed", "failed_calls", "pass_rate", "average", "headline")


def engine_stores(world: World, run: Run, record_id: int | None, version: str, status: str, **values) -> None:
    """A result as the scoring engine stores it (for one record, or all): the score rows
    updated, then the run refreshed."""
    record = Record(id=record_id) if record_id is not None else None
    world.set_scores(run, record, version, status=status, **values)
    with session_scope(world.engine) as session:
        refresh_run(session, session.get(Run, run.id))


def assert_figures_match(world: World, run: Run) -> None:
    with session_scope(world.engine) as session:
        stored = session.get(Run, run.id)
        kept, counted = report_queries.figures(session, stored), report_queries.summarize(session, stored)
    assert [m.metric_version_id for m in kept.metrics] == [m.metric_version_id for m in counted.metrics]
    for mine, theirs in zip(kept.metrics, counted.metrics):
        for name in COMPARED:
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name)), (mine.name, name)
        assert mine.total == pytest.approx(theirs.total)
    assert kept.pass_rate == pytest.approx(counted.pass_rate)
    assert (kept.failed_calls, kept.records) == (counted.failed_calls, counted.records)


def varied_run(world: World, seed: int) -> tuple[Run, list[Metric]]:
    """Two trials of every testcase, some failed calls; an automatic metric with passes, fails
    and errors; human metrics of every output type with passes, fails, misfits and pending."""
    chance = random.Random(seed)
    metrics = [
        world.metric("Exact"),
        world.metric("Helpful", eval_type="human", output_type="int", passing_threshold=3),
        world.metric("Faithful", eval_type="human", output_type="float", passing_threshold=0.5),
        world.metric("Polite", eval_type="human", output_type="boolean"),
    ]
    run = world.run(metrics)
    answers = [[None if chance.random() < 0.2 else f"a{i}" for i in range(len(world.testcases))] for _ in range(2)]
    records = [r for trial in answers for r in world.upload(run, trial)]
    exact, helpful, faithful, polite = run.metric_version_ids
    human = {
        helpful: lambda: chance.choice([{"intScore": chance.randint(1, 5)}, {"intScore": 9}, None]),
        faithful: lambda: chance.choice([{"floatScore": chance.random()}, {"floatScore": 1.5}, None]),
        polite: lambda: chance.choice([{"binaryScore": chance.random() < 0.5}, {"binaryScore": 1}, None]),
    }
    for record in records:
        if record.error is not None:
            continue
        outcome = chance.choice(["pass", "fail", "error", "pending"])
        if outcome == "error":
            engine_stores(world, run, record.id, exact, "error", error=f"judge timed out ({chance.randint(1, 2)})")
        elif outcome != "pending":
            engine_stores(world, run, record.id, exact, "scored", score={"binaryScore": outcome == "pass"})
        for version, make in human.items():
            score = make()
            if score is not None:
                put(world, record, version, {**score, "reasoning": "seen"}, "reviewer")
    return run, metrics


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_figures_equal_the_summary_of_every_score(engine, seed):
    world = World(engine, cases=8)
    run, _metrics = varied_run(world, seed)
    assert_figures_match(world, run)


def test_rescoring_rebuilds_the_figures(engine):
    world = World(engine, cases=6)
    run, metrics = varied_run(world, 4)
    exact, helpful = metrics[0], metrics[1]
    with session_scope(world.engine) as session:
        changed = session.get(Metric, exact.id)
        changed.heuristic = {**changed.heuristic, "caseSensitive": False}
        session.add(changed)
    with session_scope(world.engine) as session:
        stored = session.get(Run, run.id)
        rescore(session, stored, [session.get(Metric, exact.id), session.get(Metric, helpful.id)])
    run = world.reload(run)
    assert_figures_match(world, run)
    kept = run.status_detail["metrics"][0]
    assert (kept["scored"], kept["passed"], kept["causes"]) == (0, 0, [])  # all pending again
    engine_stores(world, run, None, run.metric_version_ids[0], "scored", score={"binaryScore": True})
    assert_figures_match(world, world.reload(run))


def test_the_status_explanation_names_the_first_distinct_causes(engine):
    world = World(engine, cases=6)
    human = world.metric("Helpful", eval_type="human", output_type="int")
    run = world.run([world.metric("Exact"), human])
    records = world.upload(run, ["a0", "a1", "a2", "a3", "a4", "a5"])
    exact, helpful = run.metric_version_ids
    messages = ["rate limited", "rate limited", "bad JSON", "timed out", "refused", "bad JSON"]
    for record, message in zip(records, messages):
        engine_stores(world, run, record.id, exact, "error", error=message)
    put(world, records[0], helpful, {"intScore": 7}, "reviewer")
    detail = world.reload(run).status_detail["metrics"]
    assert detail[0]["causes"] == ["rate limited", "bad JSON", "timed out"][:CAUSES_PER_METRIC]
    assert detail[1]["causes"] == ["1 score(s) do not fit the metric: /intScore must be an integer from 1 to 5"]


def test_runs_counted_before_figures_were_kept_are_summarized_from_their_scores(engine):
    world = World(engine, cases=4)
    run, _metrics = varied_run(world, 5)
    with session_scope(world.engine) as session:
        stored = session.get(Run, run.id)
        legacy = [
            {k: v for k, v in m.items() if k not in ("passed", "valueTotal", "misfits")}
            for m in stored.status_detail["metrics"]
        ]
        stored.status_detail = {**stored.status_detail, "metrics": legacy}
        session.add(stored)
    assert_figures_match(world, run)
    fresh = world.run([world.metric("Exact")])
    with session_scope(world.engine) as session:
        never_counted = report_queries.figures(session, session.get(Run, fresh.id))
    assert [(m.name, m.scored, m.pass_rate) for m in never_counted.metrics] == [("Exact", 0, None)]
