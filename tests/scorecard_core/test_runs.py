"""Runs and their records, called directly: what creating a run checks, how records move its
status, idempotent uploads, ending execution and deleting records."""

from __future__ import annotations

import pytest

from scorecard_core import runs
from scorecard_core.db import session_scope
from scorecard_core.errors import InvalidField, NotFound
from scorecard_core.models import System, SystemVersion
from scorecard_core.run_status import EXECUTING, RunStatus
from scorecard_core.runs import RecordInput
from tests.scorecard_core.conftest import CALL_FAILED, World


def test_a_run_on_a_testset_expects_one_record_per_testcase_and_snapshots_its_metrics(world):
    exact = world.metric("Exact")
    judged = world.metric("Judged", eval_type="ai", output_type="int")
    run = world.run([exact, judged, exact], notes="first", source="kickoff", git={"ref": "main"})
    assert run.status == RunStatus.AWAITING_EXECUTION
    assert run.num_expected_records == 3
    assert run.metric_ids == [exact.id, judged.id]  # a repeated metric counts once
    assert len(run.metric_version_ids) == 2 and len(set(run.metric_version_ids)) == 2
    assert (run.notes, run.source, run.git) == ("first", "kickoff", {"ref": "main"})
    again = world.run([exact])
    assert again.metric_version_ids == run.metric_version_ids[:1]  # an unchanged metric: the same snapshot


def test_a_run_without_a_testset_expects_no_number_of_records(world):
    run = world.run([world.metric("Exact")], with_testset=False)
    assert run.testset_id is None and run.num_expected_records is None


@pytest.mark.parametrize("whose", ["unknown", "another project's"])
def test_an_unknown_metric_is_refused_naming_the_field(world, whose):
    metric_id = 987654 if whose == "unknown" else world.metric("Theirs", project_id=world.other_project().id).id
    with pytest.raises(NotFound) as refused, session_scope(world.engine) as session:
        runs.create_run(session, world.project.id, [metric_id], testset_id=world.testset.id)
    assert refused.value.details == {"field": "metricIds"}
    assert f"metric {metric_id} not found in project {world.project.id}" in refused.value.message


def test_an_unknown_testset_is_refused_naming_it(world):
    exact = world.metric("Exact")
    with session_scope(world.engine) as session:
        theirs = world.add_testset(session, world.other_project().id, cases=1).id
    for testset_id in (987654, theirs):
        with pytest.raises(NotFound) as refused, session_scope(world.engine) as session:
            runs.create_run(session, world.project.id, [exact.id], testset_id=testset_id)
        assert refused.value.message == f"testset {testset_id} not found"
        assert refused.value.details["id"] == str(testset_id)


def test_an_unknown_system_version_is_refused(world):
    with pytest.raises(NotFound, match="system version nope not found"), session_scope(world.engine) as session:
        runs.create_run(session, world.project.id, [], system_version_id="nope")


def test_a_system_version_of_the_project_is_recorded_with_its_system_and_another_projects_is_refused(world):
    """As the web UI's kickoff form refuses it: a run names only its own project's systems."""
    versions = {}
    with session_scope(world.engine) as session:
        for project in (world.project, world.other_project()):
            system = World.add(session, System(project_id=project.id, name="bot"))
            versions[project.id] = World.add(
                session, SystemVersion(system_id=system.id, name="v1", config_hash="h", config={})
            )
    ours = versions[world.project.id]
    run = world.run([], system_version_id=ours.id)
    assert (run.system_id, run.system_version_id) == (ours.system_id, ours.id)
    [theirs] = [v for project_id, v in versions.items() if project_id != world.project.id]
    with pytest.raises(NotFound) as refused, session_scope(world.engine) as session:
        runs.create_run(session, world.project.id, [], system_version_id=theirs.id)
    assert refused.value.message == f"system version {theirs.id} not found"


def test_records_move_the_run_from_execution_to_scoring_when_the_last_expected_one_arrives(world):
    run = world.run([world.metric("Exact")])
    world.upload(run, ["a0"])
    run = world.reload(run)
    assert run.status == RunStatus.RUNNING_EXECUTION and run.status in EXECUTING
    assert run.num_records == 1
    world.upload(run, ["a0", "wrong"])  # the run now holds three records, as the testset has three cases
    run = world.reload(run)
    assert run.status == RunStatus.AWAITING_SCORING
    assert run.num_records == 3
    assert run.status_detail["records"] == {"created": 3, "expected": 3, "errored": 0}
    assert [(s.status, s.scored_by) for s in world.scores(run)] == [("pending", "heuristic")] * 3


def test_a_run_whose_every_call_failed_ends_in_error_saying_so(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, [None, None, None])
    assert [r.error for r in records] == [CALL_FAILED] * 3
    run = world.reload(run)
    assert run.status == RunStatus.ERROR
    assert run.error == "3 record(s) failed during execution"
    assert world.scores(run) == []  # a failed call is not scored: it fails every metric


def test_a_run_of_a_human_metric_waits_for_people_once_records_end(world):
    run = world.run([world.metric("Tone", eval_type="human")])
    world.upload(run, ["a0", "a1", "a2"])
    run = world.reload(run)
    assert run.status == RunStatus.AWAITING_HUMAN_SCORING
    assert {s.scored_by for s in world.scores(run)} == {"human"}


def test_a_heuristic_metric_without_a_config_is_scored_by_people(world):
    run = world.run([world.metric("Own code", heuristic=None)])
    world.upload(run, ["a0", "a1", "a2"])
    assert world.reload(run).status == RunStatus.AWAITING_HUMAN_SCORING


def test_an_idempotency_key_returns_the_stored_record_within_and_across_batches(world):
    run = world.run([world.metric("Exact")], with_testset=False)
    first = world.upload(run, ["a0", "a1", "a2"], keys=["k0", "k1", "k0"])
    assert first[0].id == first[2].id and first[0].id != first[1].id
    again = world.upload(run, ["x", "y"], keys=["k1", "k9"])
    assert again[0].id == first[1].id
    assert again[0].outputs == {"answer": "a1"}  # the stored record, not the repeated upload
    run = world.reload(run)
    assert run.num_records == 3
    assert len(world.scores(run)) == 3


def test_records_without_keys_come_back_in_the_order_sent(world):
    run = world.run([world.metric("Exact")], with_testset=False)
    records = world.upload(run, ["a0", "a1", "a2"])
    assert [r.outputs["answer"] for r in records] == ["a0", "a1", "a2"]
    assert [r.testcase_id for r in records] == [t.id for t in world.testcases]
    assert records == sorted(records, key=lambda r: r.id)


def test_a_record_naming_an_unknown_testcase_is_refused_naming_the_field(world):
    run = world.run([world.metric("Exact")])
    item = RecordInput(inputs={}, expected={}, outputs={}, testcase_id=987654)
    with pytest.raises(NotFound) as refused, session_scope(world.engine) as session:
        runs.add_records(session, run.id, [item])
    assert refused.value.details == {"field": "testcaseId", "id": "987654"}
    assert world.reload(run).num_records == 0


def test_records_for_an_unknown_run_are_refused(world):
    with pytest.raises(NotFound, match="run 987654 not found"), session_scope(world.engine) as session:
        runs.add_records(session, 987654, [RecordInput(inputs={}, expected={}, outputs={})])


def test_ending_execution_early_lets_scoring_finish_the_run(world):
    run = world.run([world.metric("Exact")], with_testset=False)
    world.upload(run, ["a0"])
    with session_scope(world.engine) as session:
        run = runs.update_run(session, runs.get_run(session, run.id), status=RunStatus.AWAITING_SCORING)
    assert world.reload(run).status == RunStatus.AWAITING_SCORING


def test_a_run_status_can_only_be_set_to_awaiting_scoring(world):
    run = world.run([world.metric("Exact")])
    with pytest.raises(InvalidField) as refused, session_scope(world.engine) as session:
        runs.update_run(session, runs.get_run(session, run.id), status=RunStatus.COMPLETED)
    assert refused.value.field == "status"
    assert world.reload(run).status == RunStatus.AWAITING_EXECUTION


def test_updating_notes_and_git_merges_the_git_context(world):
    run = world.run([world.metric("Exact")], git={"repo": "o/r", "ref": "main"})
    with session_scope(world.engine) as session:
        runs.update_run(session, runs.get_run(session, run.id), notes="later", git={"sha": "abc"})
    run = world.reload(run)
    assert run.notes == "later"
    assert run.git == {"repo": "o/r", "ref": "main", "sha": "abc"}


def test_deleting_a_record_takes_it_and_its_scores_out_of_the_counts(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, ["a0", "a1", "a2"])
    with session_scope(world.engine) as session:
        runs.delete_record(session, runs.get_record(session, records[1].id))
    run = world.reload(run)
    assert run.num_records == 2
    assert run.status_detail["metrics"][0]["pending"] == 2
    assert {s.record_id for s in world.scores(run)} == {records[0].id, records[2].id}
    with pytest.raises(NotFound, match=f"record {records[1].id} not found"), session_scope(world.engine) as session:
        runs.get_record(session, records[1].id)


def test_get_run_of_an_unknown_id_is_not_found(world):
    with pytest.raises(NotFound) as refused, session_scope(world.engine) as session:
        runs.get_run(session, 987654)
    assert refused.value.details == {"resource": "run", "id": "987654"}
