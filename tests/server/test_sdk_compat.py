"""The official scorecard-ai SDK, pointed at our server, does a whole evaluation."""

from __future__ import annotations

from scorecard_ai.lib import run_and_evaluate

from tests.conftest import wait_for_run

SCHEMA = {
    "type": "object",
    "properties": {
        "question": {"type": "string"},
        "answer": {"type": "string"},
        "topic": {"type": "string", "enum": ["math", "geo"]},
    },
    "required": ["question", "answer"],
}
MAPPING = {"inputs": ["question"], "expected": ["answer"], "metadata": []}


def test_sdk_full_evaluation(sdk, client):
    project = sdk.projects.create(name="SDK project", description="made by the SDK")
    testset = sdk.testsets.create(
        project.id, name="Capitals", description="250 questions", json_schema=SCHEMA, field_mapping=MAPPING
    )
    assert testset.field_mapping.metadata == ["topic"]

    cases = [{"question": f"q{i}", "answer": f"a{i}", "topic": "geo"} for i in range(249)]
    cases.insert(137, {"question": "broken", "topic": "history"})  # no answer, topic outside the enum
    created = []
    for start in range(0, len(cases), 100):
        batch = [{"json_data": c} for c in cases[start : start + 100]]
        created += sdk.testcases.create(testset.id, items=batch).items
    assert len(created) == 250
    invalid = [t for t in created if t.validation_errors]
    assert len(invalid) == 1
    paths = {e.path for e in invalid[0].validation_errors}
    assert paths == {"", "/topic"}
    assert any("answer" in e.message for e in invalid[0].validation_errors)

    exact = sdk.metrics.create(
        project.id,
        name="Exact",
        eval_type="heuristic",
        output_type="boolean",
        guidelines="answer matches",
        extra_body={"heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}},
    )
    judge = sdk.metrics.create(
        project.id,
        name="Helpful",
        eval_type="ai",
        output_type="int",
        prompt_template="Rate {{outputs.answer}} against {{expected.answer}}. SCORE: 5",
    )
    assert judge.passing_threshold == 4 and judge.eval_model_name == "gpt-4o"
    system = sdk.systems.upsert(project.id, name="Echo", description="echoes", config={"model": "echo-1"})
    version = sdk.systems.versions.upsert(system.id, config={"model": "echo-2"}, name="v2")

    def echo(inputs, system_version):
        return {"answer": inputs["question"].replace("q", "a"), "model": system_version.config["model"]}

    result = run_and_evaluate(
        sdk,
        project_id=project.id,
        testset_id=testset.id,
        metric_ids=[exact.id, judge.id],
        system_version_id=version.id,
        system=echo,
    )
    assert result["url"].endswith(f"/projects/{project.id}/runs/{result['id']}")

    records = list(sdk.records.list(result["id"], limit=37))
    assert len(records) == 250
    by_testcase = {r.testcase_id: r for r in records}
    for testcase in created:
        record = by_testcase[testcase.id]
        assert record.inputs == testcase.inputs
        assert record.expected == testcase.expected
        assert record.outputs["model"] == "echo-2"

    run = sdk.runs.get(result["id"])
    assert run.num_records == 250
    assert run.num_expected_records == 250
    assert run.status not in ("pending", "awaiting_execution")
    assert run.metric_ids == [exact.id, judge.id]
    assert len(run.metric_version_ids) == 2

    # Scoring finishes by itself: the heuristic on the engine, the AI metric through the judge.
    finished = wait_for_run(client, result["id"])
    assert finished["status"] == "completed", finished["statusDetail"]
    assert finished["numScores"] == 500
    scored = list(sdk.records.list(result["id"], limit=100))
    exact_version, judge_version = run.metric_version_ids
    for record in scored:
        scores = {s.metric_config_id: s.score for s in record.scores}
        assert scores[judge_version]["intScore"] == 5
        assert scores[exact_version]["binaryScore"] is (record.outputs["answer"] == record.expected.get("answer"))


def test_metric_edits_do_not_change_past_runs(sdk):
    project = sdk.projects.create(name="p", description="")
    metric = sdk.metrics.create(project.id, name="m", eval_type="human", output_type="float", passing_threshold=0.5)
    first = sdk.runs.create(project.id, metric_ids=[metric.id])
    sdk.metrics.update(metric.id, eval_type="human", output_type="float", passing_threshold=0.8)
    second = sdk.runs.create(project.id, metric_ids=[metric.id])
    unchanged = sdk.runs.create(project.id, metric_ids=[metric.id])
    assert first.metric_version_ids != second.metric_version_ids
    assert second.metric_version_ids == unchanged.metric_version_ids
    assert sdk.runs.get(first.id).metric_version_ids == first.metric_version_ids


def test_human_score_upsert_through_sdk(sdk):
    project = sdk.projects.create(name="p", description="")
    metric = sdk.metrics.create(project.id, name="m", eval_type="human", output_type="boolean")
    run = sdk.runs.create(project.id, metric_ids=[metric.id])
    record = sdk.records.create(run.id, inputs={"q": 1}, expected={}, outputs={"a": 2})
    score = sdk.scores.upsert(
        metric_config_id=run.metric_version_ids[0],
        record_id=record.id,
        score={"binaryScore": True, "reasoning": "fine"},
    )
    assert score.score == {"binaryScore": True, "reasoning": "fine"} and score.validation_errors is None
    again = sdk.scores.upsert(metric_config_id=run.metric_version_ids[0], record_id=record.id, score={"intScore": 3})
    assert again.validation_errors[0].path == "/binaryScore"
    listed = list(sdk.records.list(run.id))
    assert len(listed[0].scores) == 1
    assert sdk.runs.get(run.id).num_scores == 1
