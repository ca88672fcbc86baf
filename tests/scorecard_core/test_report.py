"""The report's figures read from our database (``report_queries``) on known scores: pass rates
with failed calls in every denominator, averages, misfit scores as errors, pending as neither;
comparisons with a baseline per testcase; the history series."""

from __future__ import annotations

import pytest
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.db import session_scope
from scorecard_core.models import Record, Run, Score
from scorecard_core.report_queries import compare, history, summarize
from scorecard_core.report_wire import summarize_wire
from scorecard_core.run_status import RunStatus
from scorecard_core.scores import put_score
from tests.scorecard_core.conftest import World


@pytest.fixture
def world(engine) -> World:
    return World(engine, cases=4)


def graded(world: World, metrics, answers, scores: dict[str, list]) -> Run:
    """A run whose records get these scores by metric name (None: left pending)."""
    run = world.run(metrics)
    records = world.upload(run, answers)
    with session_scope(world.engine) as session:
        for metric, version in zip(metrics, run.metric_version_ids):
            for record, score in zip(records, scores.get(metric.name, [])):
                if score is not None:
                    put_score(session, session.get(Record, record.id), version, score, "reviewer")
    return world.reload(run)


@pytest.fixture
def metrics(world):
    return (
        world.metric("Correct", eval_type="human"),
        world.metric("Helpful", eval_type="human", output_type="int"),
        world.metric("Tone", eval_type="human"),
    )


@pytest.fixture
def current(world, metrics) -> Run:
    yes, no = {"binaryScore": True}, {"binaryScore": False}
    return graded(
        world,
        metrics,
        ["a0", "a1", "a2", None],  # the fourth call failed
        {"Correct": [yes, no, yes], "Helpful": [{"intScore": 5}, {"intScore": 3}, {"intScore": 9}]},
    )


def test_a_runs_figures_count_failed_calls_as_failing_and_misfits_as_errors(world, current):
    with session_scope(world.engine) as session:
        summary = summarize(session, session.get(Run, current.id))
    assert (summary.run_id, summary.status, summary.records) == (str(current.id), RunStatus.AWAITING_HUMAN_SCORING, 4)
    assert (summary.failed_calls, summary.successful_calls) == (1, 3)
    assert summary.error == "1 record(s) failed during execution"
    correct, helpful, tone = summary.metrics
    assert (correct.scored, correct.passed, correct.pending, correct.errored) == (3, 2, 0, 0)
    assert correct.pass_rate == 2 / 4 and correct.average is None and correct.headline == 2 / 4
    assert (helpful.scored, helpful.passed, helpful.errored, helpful.passing_threshold) == (2, 1, 1, 4)
    assert helpful.pass_rate == 1 / 3 and helpful.average == 4.0 and helpful.headline == 4.0
    assert (tone.scored, tone.pending) == (0, 3)
    assert tone.pass_rate == 0.0  # nothing graded yet, but the failed call already fails it
    assert summary.pass_rate == 3 / 8


def test_a_summary_in_wire_form_is_camel_case(world, current, metrics):
    with session_scope(world.engine) as session:
        body = summarize(session, session.get(Run, current.id)).as_dict()
    assert (body["runId"], body["records"], body["failedCalls"], body["passRate"]) == (str(current.id), 4, 1, 3 / 8)
    assert body["metrics"][1] == {
        "metricId": str(metrics[1].id),
        "metricVersionId": current.metric_version_ids[1],
        "name": "Helpful",
        "evalType": "human",
        "outputType": "int",
        "passingThreshold": 4,
        "scored": 2,
        "pending": 0,
        "errored": 1,
        "passed": 1,
        "failedCalls": 1,
        "passRate": 1 / 3,
        "average": 4.0,
        "n": 2,  # testcases with a value: tc2's is a misfit, tc3's call failed
        "interval": {"low": pytest.approx(-8.706, abs=1e-3), "high": pytest.approx(16.706, abs=1e-3), "level": 0.95},
        "passRateInterval": {
            "low": pytest.approx(0.0615, abs=1e-4),
            "high": pytest.approx(0.7923, abs=1e-4),
            "level": 0.95,
        },
        "trials": 1,
        "passAllTrials": None,
        "flakyTestcaseIds": [],
        "detectableChange": pytest.approx((2.3263 + 0.8416) * 2**0.5, abs=1e-3),  # SE 1, one-sided alpha 0.01
    }


def test_a_run_with_nothing_graded_has_no_pass_rate(world, metrics):
    run = graded(world, metrics, ["a0"], {})
    with session_scope(world.engine) as session:
        summary = summarize(session, session.get(Run, run.id))
    assert summary.pass_rate is None
    assert [m.pending for m in summary.metrics] == [1, 1, 1]


def test_each_testcase_is_one_unit_per_metric(world, current, metrics):
    tc = [str(t.id) for t in world.testcases]
    with session_scope(world.engine) as session:
        correct, helpful, tone = summarize(session, session.get(Run, current.id)).metrics
    passes = {k: (u.passed, u.graded) for k, u in correct.units.items()}
    assert passes == {tc[0]: (1, 1), tc[1]: (0, 1), tc[2]: (1, 1), tc[3]: (0, 1)}  # tc3: the failed call
    # Helpful: tc2's misfit 9 is an error, no verdict and no value; the failed call has no value either.
    assert {k: (u.passed, u.graded, u.valued) for k, u in helpful.units.items()} == {
        tc[0]: (1, 1, 1),
        tc[1]: (0, 1, 1),
        tc[3]: (0, 1, 0),
    }
    assert helpful.headline_clusters().keys() == {tc[0], tc[1]}
    assert {k: (u.passed, u.graded) for k, u in tone.units.items()} == {tc[3]: (0, 1)}


def test_a_comparison_with_the_baseline_lists_improvements_and_regressions(world, metrics):
    yes, no = {"binaryScore": True}, {"binaryScore": False}
    baseline = graded(world, metrics[:1], ["a0", "a1", "a2", "a3"], {"Correct": [no, yes, yes, yes]})
    current = graded(world, metrics[:2], ["a0", "a1", "a2", None], {"Correct": [yes, no, yes]})
    correct, helpful = str(metrics[0].id), str(metrics[1].id)
    tc = [str(t.id) for t in world.testcases]
    with session_scope(world.engine) as session:
        body = compare(session, session.get(Run, current.id), session.get(Run, baseline.id))
    assert (body["runId"], body["baselineRunId"]) == (str(current.id), str(baseline.id))
    # Overall: Correct's 2 of 4 and Helpful's failed call, 2 of 5, against the baseline's 3 of 4.
    assert body["passRateDelta"] == pytest.approx(2 / 5 - 3 / 4)
    assert body["improvements"] == [{"testcaseId": tc[0], "metricId": correct}]
    assert body["regressions"] == [{"testcaseId": t, "metricId": correct} for t in sorted([tc[1], tc[3]])]
    by_metric = {m["metricId"]: m for m in body["metrics"]}
    assert by_metric[correct]["passRate"] == 2 / 4 and by_metric[correct]["baselinePassRate"] == 3 / 4
    assert by_metric[correct]["passRateDelta"] == pytest.approx(-1 / 4)
    assert by_metric[helpful]["baselinePassRate"] is None and by_metric[helpful]["passRateDelta"] is None
    # Paired on the 4 testcases; 1 better, 2 worse is no evidence of anything.
    assert by_metric[correct]["pairs"] == 4 and by_metric[correct]["delta"] == pytest.approx(-1 / 4)
    assert by_metric[correct]["pValue"] == pytest.approx(0.5) and by_metric[correct]["verdict"] == "unchanged"
    assert by_metric[correct]["deltaInterval"]["level"] == pytest.approx(0.98)
    # Helpful is not in the baseline (and has no scores yet): nothing to pair.
    assert (by_metric[helpful]["pairs"], by_metric[helpful]["onlyInRun"]) == (0, 0)
    assert by_metric[helpful]["verdict"] == "unchanged" and by_metric[helpful]["delta"] is None
    assert body["onlyInRunTestcaseIds"] == [] and body["onlyInBaselineTestcaseIds"] == []
    assert body["sentence"] == f"No evidence of a change against run {baseline.id}."


def test_history_has_one_point_per_run_oldest_first(world, metrics):
    yes, no = {"binaryScore": True}, {"binaryScore": False}
    rated = {"intScore": 5}
    older = graded(world, metrics[:2], ["a0", "a1"], {"Correct": [yes, no], "Helpful": [rated, rated]})
    newer = graded(world, metrics[:2], ["a0", "a1"], {"Correct": [yes, yes], "Helpful": [rated, {"intScore": 2}]})
    with session_scope(world.engine) as session:
        runs = [session.get(Run, newer.id), session.get(Run, older.id)]
        series = history(session, runs, None)
        only_correct = history(session, runs, {metrics[0].id})
    assert [s["name"] for s in series] == ["Correct", "Helpful"]
    correct, helpful = series
    assert correct["outputType"] == "boolean" and helpful["outputType"] == "int"
    assert [p["runId"] for p in correct["points"]] == [str(older.id), str(newer.id)]
    assert [p["value"] for p in correct["points"]] == [0.5, 1.0]  # pass rate for a boolean metric
    assert [p["value"] for p in helpful["points"]] == [5.0, 3.5]  # the average otherwise
    assert [p["scored"] for p in helpful["points"]] == [2, 2]
    assert only_correct == [correct]


def test_the_figures_from_the_database_match_those_from_the_apis_json(world, current, metrics):
    """The runner and the webhook service compute the same figures from the API's JSON."""
    with session_scope(world.engine) as session:
        run = session.get(Run, current.id)
        records = session.exec(select(Record).where(Record.run_id == run.id).order_by(Record.id)).all()
        scores = session.exec(select(Score).where(Score.run_id == run.id)).all()
        from_database = summarize(session, run)
    wire_records = [wire.record(r, [s for s in scores if s.record_id == r.id]) for r in records]
    wire_metrics = {str(m.id): wire.metric(m) for m in metrics}
    from_json = summarize_wire(wire.run(run), wire_metrics, wire_records)
    assert from_json.as_dict() == from_database.as_dict()
    for json_metric, database_metric in zip(from_json.metrics, from_database.metrics):
        assert json_metric.units == database_metric.units
