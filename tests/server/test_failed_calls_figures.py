"""Every figure the server shows counts a failed system call as failing, and a score that does
not fit its metric as errored; the runner's figures from the wire agree with the server's."""

from __future__ import annotations

import pytest

from scorecard_core.client import ApiError
from scorecard_core.report_wire import summarize_wire
from scorecard_core.usage import usage_from_wire
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload
from tests.server.test_ui import browser, data_dir, text_of  # noqa: F401 (fixtures)


def crashed_run(client, project, testset, testcases, exact, crashed: int) -> dict:
    """A run whose first ``crashed`` testcases' system calls failed; the rest answered right."""
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases[crashed:])
    if crashed:
        upload(client, run, testcases[:crashed], error="RuntimeError: the model is down")
    return wait_for_run(client, run["id"])


def test_failed_calls_fail_every_metric_in_summary_history_and_comparison(client, server, browser):
    project, testset, testcases = make_project(client, cases=8)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    baseline = crashed_run(client, project, testset, testcases, exact, crashed=0)
    run = crashed_run(client, project, testset, testcases, exact, crashed=4)

    summary = client.get(f"/runs/{run['id']}/summary")
    assert summary["failedCalls"] == 4 and summary["records"] == 8
    assert summary["passRate"] == pytest.approx(4 / 8)  # was 4 / 4 = 100%
    (figures,) = summary["metrics"]
    assert (figures["scored"], figures["passed"], figures["failedCalls"]) == (4, 4, 4)
    assert figures["passRate"] == pytest.approx(0.5)

    # The runner computes from the wire what the server computes from its tables.
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    from_wire = summarize_wire(run, {exact["id"]: exact}, records)
    assert {**from_wire.as_dict(), "usage": usage_from_wire(records).as_dict()} == summary

    history = client.get(f"/projects/{project['id']}/history")["metrics"][0]["points"]
    assert [point["passRate"] for point in history] == [1.0, 0.5]

    comparison = client.get(f"/runs/{run['id']}/compare", baselineRunId=baseline["id"])
    assert comparison["passRateDelta"] == pytest.approx(-0.5)
    crashed_ids = sorted(str(tc["id"]) for tc in testcases[:4])
    assert sorted(r["testcaseId"] for r in comparison["regressions"]) == crashed_ids

    page = text_of(browser.get(f"{server.url}/projects/{project['id']}/runs/{run['id']}").text)
    assert "4 of 8 system calls failed; each counts as failing for every metric." in page
    assert "Exact 50.0% (21.5-78.5%) 8 4 0 0 heuristic · boolean" in page  # was 100%


def test_a_score_with_validation_errors_counts_as_errored(client):
    project = client.post("/projects", {"name": "graded"})
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [human["id"]]})
    good, misfit = (
        client.post(f"/runs/{run['id']}/records", {"inputs": {"q": i}, "outputs": {"a": i}}) for i in range(2)
    )
    version = run["metricVersionIds"][0]
    client.put(f"/records/{good['id']}/scores/{version}", {"score": {"binaryScore": True}})
    stored = client.put(f"/records/{misfit['id']}/scores/{version}", {"score": {"intScore": 3}})
    assert stored["validationErrors"][0]["path"] == "/binaryScore"

    (figures,) = client.get(f"/runs/{run['id']}/summary")["metrics"]
    assert (figures["scored"], figures["errored"], figures["passed"]) == (1, 1, 1)
    assert figures["passRate"] == 1.0
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    wire = summarize_wire(client.get(f"/runs/{run['id']}"), {human["id"]: human}, records)
    assert (wire.metrics[0].scored, wire.metrics[0].errored) == (1, 1)


def test_a_score_upsert_without_score_leaves_a_human_score_pending(sdk, client):
    project = sdk.projects.create(name="p", description="")
    human = sdk.metrics.create(project.id, name="m", eval_type="human", output_type="boolean")
    run = sdk.runs.create(project.id, metric_ids=[human.id])
    record = sdk.records.create(run.id, inputs={"q": 1}, expected={}, outputs={"a": 2})
    version = run.metric_version_ids[0]

    queued = sdk.scores.upsert(metric_config_id=version, record_id=record.id)
    assert queued.status == "pending" and queued.score == {} and queued.validation_errors is None
    assert queued.user_id == "background-job"
    (figures,) = client.get(f"/runs/{run.id}/summary")["metrics"]
    assert (figures["pending"], figures["scored"], figures["errored"]) == (1, 0, 0)

    graded = sdk.scores.upsert(
        metric_config_id=version, record_id=record.id, score={"binaryScore": False}, user_id="grader"
    )
    assert graded.status == "scored" and graded.user_id == "grader"
    requeued = sdk.scores.upsert(metric_config_id=version, record_id=record.id)
    assert requeued.status == "pending" and requeued.score == {}


def test_a_score_upsert_without_score_is_refused_where_it_cannot_stay_pending(client):
    project, testset, testcases = make_project(client, cases=1)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [exact["id"], human["id"]]})
    (record,) = upload(client, run, testcases)
    automatic, graded = run["metricVersionIds"]

    with pytest.raises(ApiError) as refused:
        client.put(f"/records/{record['id']}/scores/{automatic}", {})
    assert refused.value.status == 400 and refused.value.details == {"field": "score"}
    assert "only human metrics can be left pending" in str(refused.value)
    with pytest.raises(ApiError) as refused:
        client.put(f"/records/{record['id']}/scores/{graded}", {"userId": "grader"})
    assert refused.value.status == 400 and refused.value.details == {"field": "userId"}
    with pytest.raises(ApiError) as refused:
        client.put(f"/records/{record['id']}/scores/{graded}", {"score": "yes"})
    assert refused.value.status == 400 and "score" in str(refused.value)


def test_a_record_whose_call_failed_takes_no_score(client):
    project = client.post("/projects", {"name": "graded"})
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [human["id"]]})
    crashed = client.post(f"/runs/{run['id']}/records", {"inputs": {"q": 1}, "outputs": {}, "error": "boom"})
    with pytest.raises(ApiError) as refused:
        client.put(f"/records/{crashed['id']}/scores/{run['metricVersionIds'][0]}", {"score": {"binaryScore": True}})
    assert refused.value.status == 409 and "already counts as failing for every metric" in str(refused.value)
    summary = client.get(f"/runs/{run['id']}/summary")
    assert (summary["failedCalls"], summary["passRate"], summary["metrics"][0]["scored"]) == (1, 0.0, 0)


def test_a_score_with_validation_errors_shows_no_verdict_on_its_record_page(client, server, browser):
    """As the figures count it errored, the record page says neither pass nor fail for it."""
    project = client.post("/projects", {"name": "graded"})
    human = metric(client, project, name="Graded", evalType="human", outputType="int")
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [human["id"]]})
    good, misfit = (
        client.post(f"/runs/{run['id']}/records", {"inputs": {"q": i}, "outputs": {"a": i}}) for i in range(2)
    )
    version = run["metricVersionIds"][0]
    client.put(f"/records/{good['id']}/scores/{version}", {"score": {"intScore": 5}})
    client.put(f"/records/{misfit['id']}/scores/{version}", {"score": {"intScore": 9}})  # above 1-5

    def record_page(record: dict) -> str:
        return browser.get(f"{server.url}/projects/{project['id']}/runs/{run['id']}/records/{record['id']}").text

    assert 'class="score pass"' in record_page(good)
    page = record_page(misfit)
    assert 'class="score pass"' not in page and 'class="score fail"' not in page
    assert "/intScore" in page  # the validation error is shown instead
