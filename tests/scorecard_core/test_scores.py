"""Scores entered through ``put_score``: Scorecard's shapes checked but stored, pending scores for
people only, and the run moving on as the last score lands."""

from __future__ import annotations

import pytest

from scorecard_core.db import session_scope
from scorecard_core.errors import Conflict, InvalidField, NotFound
from scorecard_core.models import Record
from scorecard_core.run_status import RunStatus
from scorecard_core.scores import PENDING_USER, put_score, validation_errors


@pytest.mark.parametrize(
    ("output_type", "score", "problems"),
    [
        ("boolean", {"binaryScore": True, "reasoning": "fine"}, None),
        ("int", {"intScore": 5}, None),
        ("float", {"floatScore": 0}, None),
        ("boolean", {"binaryScore": 1}, [("/binaryScore", "must be true or false")]),
        ("int", {"intScore": 6}, [("/intScore", "must be an integer from 1 to 5")]),
        ("int", {"intScore": True}, [("/intScore", "must be an integer from 1 to 5")]),
        ("float", {"floatScore": 1.5}, [("/floatScore", "must be a number from 0 to 1")]),
        ("float", {"intScore": 1}, [("/floatScore", "a float metric's score needs `floatScore`")]),
        ("boolean", {"binaryScore": False, "reasoning": 3}, [("/reasoning", "must be a string")]),
    ],
)
def test_a_score_that_does_not_fit_its_metric_is_described_by_path(output_type, score, problems):
    found = validation_errors(output_type, score)
    assert (found and [(e["path"], e["message"]) for e in found]) == problems


def put(world, record: Record, version: str, score: dict | None, user_id: str | None = None):
    with session_scope(world.engine) as session:
        return put_score(session, session.get(Record, record.id), version, score, user_id)


def test_scores_entered_for_every_record_complete_the_run(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, ["a0", "a1", "a2"])
    version = run.metric_version_ids[0]
    for index, record in enumerate(records):
        stored = put(world, record, version, {"binaryScore": index != 1, "reasoning": "checked"}, "reviewer")
        assert (stored.status, stored.user_id, stored.validation_errors) == ("scored", "reviewer", None)
    run = world.reload(run)
    assert run.status == RunStatus.COMPLETED
    assert run.num_scores == 3
    assert len(world.scores(run)) == 3  # each upsert replaced the pending score


def test_a_score_without_a_user_is_the_apis(world):
    run = world.run([world.metric("Exact")])
    [record] = world.upload(run, ["a0"])
    assert put(world, record, run.metric_version_ids[0], {"binaryScore": True}).user_id == "api"


def test_a_misfit_score_is_stored_with_its_validation_errors(world):
    run = world.run([world.metric("Helpful", eval_type="human", output_type="int")])
    [record] = world.upload(run, ["a0"])
    stored = put(world, record, run.metric_version_ids[0], {"intScore": 9})
    assert stored.status == "scored"
    assert stored.score == {"intScore": 9}
    assert stored.validation_errors == [{"path": "/intScore", "message": "must be an integer from 1 to 5"}]


def test_a_human_score_can_be_left_pending_and_graded_later(world):
    run = world.run([world.metric("Tone", eval_type="human")], with_testset=False)
    [record] = world.upload(run, ["a0"])
    version = run.metric_version_ids[0]
    put(world, record, version, {"binaryScore": True})
    pending = put(world, record, version, None)
    assert (pending.status, pending.score, pending.user_id) == ("pending", None, PENDING_USER)
    graded = put(world, record, version, {"binaryScore": False}, "reviewer")
    assert graded.id == pending.id  # one score per record and metric version, updated in place
    assert world.reload(run).status == RunStatus.RUNNING_EXECUTION  # execution has not ended


def test_only_human_scores_can_be_left_pending(world):
    run = world.run([world.metric("Exact")])
    [record] = world.upload(run, ["a0"])
    with pytest.raises(InvalidField) as refused:
        put(world, record, run.metric_version_ids[0], None)
    assert refused.value.field == "score"
    assert "scored by heuristic" in refused.value.message


def test_a_user_goes_only_with_a_score(world):
    run = world.run([world.metric("Tone", eval_type="human")])
    [record] = world.upload(run, ["a0"])
    with pytest.raises(InvalidField) as refused:
        put(world, record, run.metric_version_ids[0], None, "reviewer")
    assert refused.value.field == "userId"


def test_a_metric_config_the_run_does_not_use_is_not_found(world):
    run = world.run([world.metric("Exact")])
    other = world.run([world.metric("Other")])
    [record] = world.upload(run, ["a0"])
    for version in ("no-such-version", other.metric_version_ids[0]):
        with pytest.raises(NotFound) as refused:
            put(world, record, version, {"binaryScore": True})
        assert refused.value.details == {"field": "metricConfigId"}
        assert f"is not used by run {run.id}" in refused.value.message


def test_a_failed_call_takes_no_score(world):
    run = world.run([world.metric("Exact")])
    [record] = world.upload(run, [None])
    with pytest.raises(Conflict) as refused:
        put(world, record, run.metric_version_ids[0], {"binaryScore": True})
    assert refused.value.details == {"field": "recordId"}
    assert world.scores(run) == []
