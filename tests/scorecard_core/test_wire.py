"""The v2 wire shapes as Scorecard's API has them: camelCase field names, integer IDs as strings,
metric versions and systems as UUIDs, ISO timestamps with their zone."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import select

from scorecard_core import wire
from scorecard_core.db import session_scope
from scorecard_core.models import Metric, Project, Record, Score, Testcase
from scorecard_core.run_status import RunStatus
from scorecard_core.scores import put_score

RUN_FIELDS = {
    "id",
    "projectId",
    "testsetId",
    "systemId",
    "systemVersionId",
    "metricIds",
    "metricVersionIds",
    "numExpectedRecords",
    "numRecords",
    "numScores",
    "status",
    "source",
    "notes",
    "git",
    "error",
    "statusDetail",
    "createdAt",
    "updatedAt",
}


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def aware(timestamp: str) -> bool:
    return datetime.fromisoformat(timestamp).utcoffset() is not None


def test_a_run_as_scorecard_shows_it(world):
    exact = world.metric("Exact")
    run = world.run([exact], git={"ref": "main"})
    world.upload(run, ["a0", "a1", "a2"])
    body = wire.run(world.reload(run))
    assert set(body) == RUN_FIELDS
    assert body["id"] == str(run.id) and body["projectId"] == str(world.project.id)
    assert body["testsetId"] == str(world.testset.id)
    assert body["metricIds"] == [str(exact.id)]
    assert all(is_uuid(v) for v in body["metricVersionIds"])
    assert (body["numExpectedRecords"], body["numRecords"], body["numScores"]) == (3, 3, 0)
    assert body["status"] == RunStatus.AWAITING_SCORING
    assert (body["source"], body["git"], body["systemId"], body["systemVersionId"]) == (
        "api",
        {"ref": "main"},
        None,
        None,
    )
    assert body["statusDetail"]["records"] == {"created": 3, "expected": 3, "errored": 0}
    assert aware(body["createdAt"]) and aware(body["updatedAt"])


def test_a_run_without_a_testset_has_a_null_testset_id(world):
    assert wire.run(world.run([], with_testset=False))["testsetId"] is None


def test_a_record_with_its_scores(world):
    run = world.run([world.metric("Exact")])
    records = world.upload(run, ["a0", None])
    version = run.metric_version_ids[0]
    with session_scope(world.engine) as session:
        put_score(session, session.get(Record, records[0].id), version, {"binaryScore": True}, "reviewer")
    with session_scope(world.engine) as session:
        record = session.get(Record, records[0].id)
        [score] = session.exec(select(Score).where(Score.record_id == record.id)).all()
        body = wire.record(record, [score])
        failed = wire.record(session.get(Record, records[1].id))
    assert set(body) == {"id", "runId", "testcaseId", "inputs", "expected", "outputs", "error", "createdAt", "scores"}
    assert (body["id"], body["runId"], body["testcaseId"]) == (
        str(records[0].id),
        str(run.id),
        str(world.testcases[0].id),
    )
    assert (body["inputs"], body["expected"], body["outputs"]) == (
        {"question": "q0"},
        {"answer": "a0"},
        {"answer": "a0"},
    )
    assert body["error"] is None and aware(body["createdAt"])
    assert body["scores"] == [
        {
            "recordId": str(records[0].id),
            "metricConfigId": version,
            "score": {"binaryScore": True},
            "userId": "reviewer",
            "status": "scored",
        }
    ]
    assert "scores" not in failed and failed["error"].startswith("RuntimeError")


def test_a_score_shows_its_problems_only_when_it_has_some():
    pending = Score(run_id=1, record_id=2, metric_version_id="v", score=None, status="pending")
    assert wire.score(pending) == {
        "recordId": "2",
        "metricConfigId": "v",
        "score": {},
        "userId": "background-job",
        "status": "pending",
    }
    misfit = Score(
        run_id=1, record_id=2, metric_version_id="v", status="error", error="judge down", validation_errors=[{"p": 1}]
    )
    body = wire.score(misfit)
    assert (body["error"], body["validationErrors"]) == ("judge down", [{"p": 1}])


def test_a_record_outside_a_testset_has_a_null_testcase_id():
    record = Record(id=5, run_id=1, inputs={}, expected={}, outputs={})
    assert wire.record(record)["testcaseId"] is None


def test_a_metric_shows_the_fields_of_its_kind(world):
    exact = world.metric("Exact")
    boolean = wire.metric(exact)
    assert set(boolean) == {"id", "name", "description", "evalType", "outputType", "guidelines", "heuristic"}
    assert boolean["id"] == str(exact.id) and boolean["heuristic"]["type"] == "exact_match"
    rated = wire.metric(world.metric("Helpful", eval_type="human", output_type="int"))
    assert rated["passingThreshold"] == 4 and isinstance(rated["passingThreshold"], int)
    judged = wire.metric(world.metric("Faithful", eval_type="ai", output_type="float", prompt_template="Rate"))
    assert {k: judged[k] for k in ("passingThreshold", "promptTemplate", "evalModelName", "temperature")} == {
        "passingThreshold": 0.9,
        "promptTemplate": "Rate",
        "evalModelName": "gpt-4o",
        "temperature": 0.0,
    }
    assert "heuristic" not in judged
    assert (
        wire.metric(Metric(id=1, project_id=1, name="m", eval_type="ai", output_type="boolean"))["promptTemplate"] == ""
    )


def test_a_project_testset_and_testcases(world):
    assert wire.project(Project(id=7, name="p", description="d")) == {"id": "7", "name": "p", "description": "d"}
    testset = wire.testset(world.testset)
    assert testset == {
        "id": str(world.testset.id),
        "name": "qa",
        "description": "",
        "jsonSchema": world.testset.json_schema,
        "fieldMapping": {"inputs": ["question"], "expected": ["answer"], "metadata": ["topic"]},
    }
    testcase = wire.testcase(world.testcases[1], world.testset.field_mapping)
    assert testcase == {
        "id": str(world.testcases[1].id),
        "testsetId": str(world.testset.id),
        "jsonData": {"question": "q1", "answer": "a1"},
        "inputs": {"question": "q1"},
        "expected": {"answer": "a1"},
    }
    broken = Testcase(id=3, testset_id=1, json_data={}, validation_errors=[{"path": "", "message": "m"}])
    assert wire.testcase(broken, {})["validationErrors"] == [{"path": "", "message": "m"}]
