"""The scoring engine on a real database, without the server: it scores pending heuristic scores
(no network), hands AI scores to the judge it was given, finishes runs and reports each finish,
and honours other processes' leases and the attempts limit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import update

from scorecard_core.db import session_scope
from scorecard_core.models import MetricVersion, Run, utcnow
from scorecard_core.run_status import SETTLED, RunStatus
from scorecard_core.scoring.engine import ScoringEngine
from scorecard_core.scoring.judge import JudgeResult
from scorecard_core.scoring.shapes import SCORE_KEYS

MAX_ATTEMPTS = 3


def no_judge(config, **record) -> JudgeResult:
    raise AssertionError(f"metric {config['name']} went to the judge; only AI metrics should")


@contextmanager
def scoring(world, judge=no_judge, **options) -> Iterator[list[int]]:
    """A running engine; yields the IDs of the runs it reported finished, in order."""
    finished: list[int] = []
    engine = ScoringEngine(
        world.engine,
        judge,
        concurrency=2,
        poll_seconds=0.05,
        max_attempts=MAX_ATTEMPTS,
        on_run_finished=finished.append,
        **options,
    ).start()
    try:
        yield finished
    finally:
        engine.stop()


def wait_until(condition: Callable[[], object], timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, "the engine did not get there in time"
        time.sleep(0.02)
    return value


def settled(world, run: Run) -> Run:
    return wait_until(lambda: (fresh := world.reload(run)).status in SETTLED and fresh)


def test_heuristic_scores_are_scored_and_the_run_completes_once(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, ["a0", "wrong", "a2"])
    with scoring(world) as finished:
        run = settled(world, run)
        wait_until(lambda: finished)
    assert run.status == RunStatus.COMPLETED and run.num_scores == 3
    scores = world.scores(run)
    assert [s.record_id for s in scores] == [r.id for r in records]
    assert [s.score["binaryScore"] for s in scores] == [True, False, True]
    assert all(s.score["reasoning"] for s in scores)
    assert [(s.status, s.attempts, s.lease_until) for s in scores] == [("scored", 1, None)] * 3
    assert finished == [run.id]


def test_a_run_with_a_failed_call_ends_in_error_after_scoring(world):
    run = world.run([world.metric("Exact")])
    world.upload(run, ["a0", None, "a2"])
    with scoring(world) as finished:
        run = settled(world, run)
        wait_until(lambda: finished)
    assert run.status == RunStatus.ERROR and run.num_scores == 2
    assert run.error == "1 record(s) failed during execution"
    assert finished == [run.id]


def test_human_scores_are_left_for_people(world):
    run = world.run([world.metric("Exact"), world.metric("Tone", eval_type="human")])
    world.upload(run, ["a0", "a1", "a2"])
    with scoring(world):
        run = settled(world, run)
    assert run.status == RunStatus.AWAITING_HUMAN_SCORING
    tone_version = run.metric_version_ids[1]
    assert {s.status for s in world.scores(run) if s.metric_version_id == tone_version} == {"pending"}


def test_ai_scores_go_to_the_judge_and_its_failures_are_stored_with_its_answer(world):
    seen = []

    def judge(config, *, inputs, outputs, expected) -> JudgeResult:
        seen.append((config["name"], inputs, outputs, expected))
        if outputs["answer"] == expected["answer"]:
            return JudgeResult({SCORE_KEYS["int"]: 5, "reasoning": "matches"})
        return JudgeResult(None, error="no score in the answer", raw="I cannot say")

    run = world.run([world.metric("Helpful", eval_type="ai", output_type="int")])
    world.upload(run, ["a0", "wrong", "a2"])
    with scoring(world, judge=judge):
        run = settled(world, run)
    assert sorted(seen, key=lambda call: call[1]["question"]) == [
        ("Helpful", {"question": "q0"}, {"answer": "a0"}, {"answer": "a0"}),
        ("Helpful", {"question": "q1"}, {"answer": "wrong"}, {"answer": "a1"}),
        ("Helpful", {"question": "q2"}, {"answer": "a2"}, {"answer": "a2"}),
    ]
    assert [(s.status, s.score, s.error) for s in world.scores(run)] == [
        ("scored", {"intScore": 5, "reasoning": "matches"}, None),
        ("error", None, "no score in the answer; the judge's answer: I cannot say"),
        ("scored", {"intScore": 5, "reasoning": "matches"}, None),
    ]
    assert run.status == RunStatus.ERROR
    assert run.error == "metric 'Helpful': 1 of 3 scores failed"


def test_a_score_another_process_holds_is_left_alone_until_its_lease_expires(world):
    run = world.run([world.metric("Exact")])
    held, *others = world.upload(run, ["a0", "a1", "a2"])
    world.set_scores(run, held, status="running", attempts=1, lease_until=utcnow() + timedelta(minutes=5))
    with scoring(world):
        wait_until(lambda: all(s.status == "scored" for s in world.scores(run) if s.record_id != held.id))
        time.sleep(0.2)  # another round of claims, had the engine wanted the held score
        [mine] = [s for s in world.scores(run) if s.record_id == held.id]
        assert (mine.status, mine.attempts) == ("running", 1)
        assert world.reload(run).status == RunStatus.RUNNING_SCORING

        world.set_scores(run, held, lease_until=utcnow() - timedelta(seconds=1))  # its holder died
        run = settled(world, run)
    assert run.status == RunStatus.COMPLETED
    [mine] = [s for s in world.scores(run) if s.record_id == held.id]
    assert (mine.status, mine.attempts, mine.score["binaryScore"]) == ("scored", 2, True)


def test_a_score_whose_every_attempt_was_lost_becomes_an_error(world):
    run = world.run([world.metric("Exact")])
    lost, retried, fresh = world.upload(run, ["a0", "a1", "a2"])
    expired = utcnow() - timedelta(seconds=1)
    world.set_scores(run, lost, status="running", attempts=MAX_ATTEMPTS, lease_until=expired)
    world.set_scores(run, retried, status="running", attempts=MAX_ATTEMPTS - 1, lease_until=expired)
    with scoring(world) as finished:
        run = settled(world, run)
        wait_until(lambda: finished)
    by_record = {s.record_id: s for s in world.scores(run)}
    assert by_record[lost.id].status == "error"
    assert by_record[lost.id].attempts == MAX_ATTEMPTS  # given up on, not claimed (and judged) again
    assert by_record[lost.id].error.startswith(f"gave up after {MAX_ATTEMPTS} attempts to score it")
    assert (by_record[retried.id].status, by_record[retried.id].attempts) == ("scored", MAX_ATTEMPTS)
    assert (by_record[fresh.id].status, by_record[fresh.id].attempts) == ("scored", 1)
    assert run.status == RunStatus.ERROR and run.error == "metric 'Exact': 1 of 3 scores failed"
    assert finished == [run.id]


def test_a_stored_config_the_heuristics_refuse_fails_its_scores_not_the_engine(world):
    broken = world.metric("Broken")
    run = world.run([broken, world.metric("Exact")])
    with session_scope(world.engine) as session:
        version = session.get(MetricVersion, run.metric_version_ids[0])
        session.execute(
            update(MetricVersion)
            .where(MetricVersion.id == version.id)
            .values(config={**version.config, "heuristic": {"type": "nope", "outputField": "answer"}})
        )
    world.upload(run, ["a0", "a1", "a2"])
    with scoring(world):
        run = settled(world, run)
    scores = world.scores(run)
    assert {s.status for s in scores if s.metric_version_id == version.id} == {"error"}
    assert all(s.error.startswith("heuristic failed: ") for s in scores if s.metric_version_id == version.id)
    assert {s.status for s in scores if s.metric_version_id != version.id} == {"scored"}
    assert run.status == RunStatus.ERROR


def test_a_lease_is_renewed_while_the_judge_works_so_no_one_claims_the_score_again(world):
    calls = []

    def slow_judge(config, *, inputs, outputs, expected) -> JudgeResult:
        calls.append(inputs["question"])
        time.sleep(2.5)  # past the lease: only renewals keep the score this engine's
        return JudgeResult({"binaryScore": True, "reasoning": "fine"})

    run = world.run([world.metric("Correct", eval_type="ai")], with_testset=False)  # execution goes on
    world.upload(run, ["a0"])
    # Renewed every 0.67 s, so a renewal may run late by over a second on a loaded machine.
    with scoring(world, judge=slow_judge, lease_seconds=2.0):
        [score] = wait_until(lambda: [s for s in world.scores(run) if s.status not in ("pending", "running")])
    assert (score.status, score.attempts) == ("scored", 1)
    assert calls == ["q0"]
