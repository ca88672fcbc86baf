"""A run's scoring lifecycle, called directly: the status its scores imply, the counts and error
summary it shows, failing a run, reporting each finish once, and rescoring."""

from __future__ import annotations

import pytest

from scorecard_core.db import session_scope
from scorecard_core.models import Metric, Run
from scorecard_core.run_status import RunStatus
from scorecard_core.scoring.lifecycle import fail_run, finished_runs, refresh_run, rescore, scored_by


@pytest.mark.parametrize(
    ("config", "who"),
    [
        ({"eval_type": "ai"}, "ai"),
        ({"eval_type": "heuristic", "heuristic": {"type": "valid_json", "outputField": "a"}}, "heuristic"),
        ({"eval_type": "heuristic", "heuristic": None}, "human"),
        ({"eval_type": "human"}, "human"),
    ],
)
def test_who_scores_a_metric(config, who):
    assert scored_by(config) == who


def refreshed(world, run: Run) -> tuple[Run, list[int]]:
    """Refresh the run as a request would; the run as stored, and the runs that session finished."""
    with session_scope(world.engine) as session:
        refresh_run(session, session.get(Run, run.id))
    return world.reload(run), finished_runs(session)


def test_scores_in_progress_show_as_running_scoring_with_per_metric_counts(world):
    exact = world.metric("Exact")
    run = world.run([exact])
    records = world.upload(run, ["a0", "a1", "a2"])
    assert world.reload(run).status == RunStatus.AWAITING_SCORING
    world.set_scores(run, records[0], status="scored", score={"binaryScore": True})
    run, finished = refreshed(world, run)
    assert run.status == RunStatus.RUNNING_SCORING and finished == []
    assert run.num_scores == 1
    [counts] = run.status_detail["metrics"]
    assert counts == {
        "metricId": str(exact.id),
        "metricVersionId": run.metric_version_ids[0],
        "name": "Exact",
        "evalType": "heuristic",
        "scoredBy": "heuristic",
        "outputType": "boolean",
        "passingThreshold": None,
        "scored": 1,
        "pending": 2,
        "errored": 0,
        # The figures kept for the runs list and charts (scoring/figures.py).
        "misfits": 0,
        "passed": 1,
        "valueTotal": 1.0,
        "causes": [],
    }


def test_a_run_completes_when_every_score_is_in_and_the_finish_is_reported_once(world):
    run = world.run([world.metric("Exact")])
    world.upload(run, ["a0", "a1", "a2"])
    world.set_scores(run, status="scored", score={"binaryScore": False})
    run, finished = refreshed(world, run)
    assert run.status == RunStatus.COMPLETED and run.error is None
    assert finished == [run.id]
    run, finished = refreshed(world, run)
    assert run.status == RunStatus.COMPLETED and finished == []  # already finished: not reported again


def test_a_run_with_failed_scores_ends_in_error_summarising_them(world):
    run = world.run([world.metric("Exact"), world.metric("Tone", eval_type="human")])
    records = world.upload(run, ["a0", "a1", None])
    world.set_scores(run, status="scored", score={"binaryScore": True})
    world.set_scores(run, records[0], status="error", error="judge down")
    run, finished = refreshed(world, run)
    assert run.status == RunStatus.ERROR and finished == [run.id]
    assert run.error == (
        "metric 'Exact': 1 of 2 scores failed; metric 'Tone': 1 of 2 scores failed; 1 record(s) failed during execution"
    )
    assert run.status_detail["records"] == {"created": 3, "expected": 3, "errored": 1}


def test_human_scores_wait_for_people_only_after_automatic_ones_are_done(world):
    run = world.run([world.metric("Exact"), world.metric("Tone", eval_type="human")])
    world.upload(run, ["a0", "a1", "a2"])
    assert world.reload(run).status == RunStatus.AWAITING_SCORING
    world.set_scores(run, version=run.metric_version_ids[0], status="scored", score={"binaryScore": True})
    run, _ = refreshed(world, run)
    assert run.status == RunStatus.AWAITING_HUMAN_SCORING


def test_refreshing_a_run_still_executing_keeps_it_executing(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, ["a0"])
    world.set_scores(run, records[0], status="scored", score={"binaryScore": True})
    run, finished = refreshed(world, run)
    assert run.status == RunStatus.RUNNING_EXECUTION and finished == []
    assert run.num_scores == 1


def test_failing_a_run_ends_it_in_error_once(world):
    run = world.run([world.metric("Exact")])
    with session_scope(world.engine) as session:
        assert fail_run(session, session.get(Run, run.id), "the workflow died before uploading")
    assert finished_runs(session) == [run.id]
    with session_scope(world.engine) as session:
        assert not fail_run(session, session.get(Run, run.id), "again")
    assert finished_runs(session) == []
    run = world.reload(run)
    assert run.status == RunStatus.ERROR and run.error == "again"


def test_rescoring_replaces_automatic_scores_and_keeps_graded_human_ones(world):
    exact, tone = world.metric("Exact"), world.metric("Tone", eval_type="human")
    run = world.run([exact, tone])
    records = world.upload(run, ["a0", "a1", "a2"])
    world.set_scores(run, status="scored", score={"binaryScore": True}, user_id="someone")
    world.set_scores(run, records[2], version=run.metric_version_ids[1], status="pending", score=None)
    run, _ = refreshed(world, run)
    assert run.status == RunStatus.AWAITING_HUMAN_SCORING
    old_versions = list(run.metric_version_ids)

    judged = world.metric("Judged", eval_type="ai")
    with session_scope(world.engine) as session:
        exact = session.get(Metric, exact.id)
        exact.heuristic = {**exact.heuristic, "caseSensitive": False}  # a new version of the metric
        tone = session.get(Metric, tone.id)
        tone.guidelines = "be kind"
        rescore(session, session.get(Run, run.id), [exact, tone, session.get(Metric, judged.id)])

    run = world.reload(run)
    assert run.status == RunStatus.AWAITING_SCORING
    assert run.metric_ids == [exact.id, tone.id, judged.id]
    assert len(run.metric_version_ids) == 3 and not set(run.metric_version_ids) & set(old_versions)
    exact_version, tone_version, judged_version = run.metric_version_ids
    by_version: dict[str, list[tuple[str, str]]] = {}
    for score in world.scores(run):
        by_version.setdefault(score.metric_version_id, []).append((score.status, score.user_id))
    assert by_version[exact_version] == [("pending", "background-job")] * 3
    assert by_version[judged_version] == [("pending", "background-job")] * 3
    assert sorted(by_version[tone_version]) == [
        ("pending", "background-job"),
        ("scored", "someone"),
        ("scored", "someone"),
    ]
    assert set(by_version) == {exact_version, tone_version, judged_version}
