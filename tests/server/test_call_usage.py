"""How long each system call took and what it spent, over HTTP: records created with `durationMs`
and `metadata` keep them, a run the server executes measures its calls, the CSV export shows
them, and a duration that cannot be one is a 400 naming the field."""

from __future__ import annotations

import pytest

from scorecard_core.client import ApiError
from scorecard_core.db import session_scope
from scorecard_core.models import Run
from scorecard_core.prices import DEFAULT_PRICES
from scorecard_core.usage import usage_from_wire
from scorecard_core.usage_queries import usage_of_run
from server import executions
from tests.conftest import wait_for_run
from tests.server.test_export_and_history import fetch_csv
from tests.server.test_scoring_lifecycle import make_project
from tests.server.test_server_runs import PROMPT, SYSTEM_MODEL, judged_metric, kickoff, version_of

USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}


def new_run(client, cases: int = 2):
    project, testset, testcases = make_project(client, cases=cases)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": []})
    return run, testcases


def item(testcase, **extra):
    return {"testcaseId": testcase["id"], "inputs": testcase["inputs"], "outputs": {"answer": "x"}, **extra}


def test_records_keep_their_calls_duration_and_metadata(client):
    run, (first, second) = new_run(client)
    metadata = {"model": "gpt-4o-mini", "usage": USAGE}
    created = client.post(
        f"/runs/{run['id']}/records/batch",
        {"items": [item(first, durationMs=812.25, metadata=metadata), item(second, durationMs=0)]},
    )["items"]
    assert (created[0]["durationMs"], created[0]["metadata"]) == (812.25, metadata)
    assert created[1]["durationMs"] == 0 and "metadata" not in created[1]
    single = client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}, "durationMs": 7})
    assert single["durationMs"] == 7
    unmeasured = client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}})
    assert "durationMs" not in unmeasured

    listed = {r["id"]: r for r in client.paginate(f"/runs/{run['id']}/records")}
    assert listed[created[0]["id"]]["durationMs"] == 812.25 and listed[created[0]["id"]]["metadata"] == metadata
    assert listed[single["id"]]["durationMs"] == 7 and "durationMs" not in listed[unmeasured["id"]]


@pytest.mark.parametrize("value", [-1, "812", True, [5]])
def test_a_duration_that_cannot_be_one_is_refused_naming_the_field(client, value):
    run, (first, _second) = new_run(client)
    with pytest.raises(ApiError) as batch:
        client.post(f"/runs/{run['id']}/records/batch", {"items": [item(first, durationMs=value)]})
    assert batch.value.status == 400 and batch.value.details["field"] == "items.0.durationMs"
    with pytest.raises(ApiError) as single:
        client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}, "durationMs": value})
    assert single.value.status == 400 and single.value.details["field"] == "durationMs"
    assert client.get(f"/runs/{run['id']}")["numRecords"] == 0


def test_the_csv_export_has_each_records_duration_and_system_tokens(client):
    run, (first, second) = new_run(client)
    items = [item(first, durationMs=1500.5, metadata={"model": "m", "usage": USAGE}), item(second)]
    client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    rows = fetch_csv(client, run["id"])
    assert [(r["durationMs"], r["promptTokens"], r["completionTokens"]) for r in rows] == [
        ("1500.5", "120", "30"),
        ("", "", ""),
    ]


def test_a_run_the_server_executes_measures_each_call(server, client, fake_openai):
    project, testset, _testcases = make_project(client, cases=3)
    judge = judged_metric(client, project)
    fake_openai.delay = 0.2
    try:
        run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT))
        finished = wait_for_run(client, run["id"], timeout=60)
    finally:
        executions.stop(server.app)
    assert (finished["numRecords"], finished["numScores"]) == (3, 3)
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    for record in records:
        assert 200 <= record["durationMs"] < 10_000
        assert record["metadata"]["model"] == SYSTEM_MODEL and record["metadata"]["usage"]["total_tokens"] > 0

    # The run's figures are the same from the API's listing and from the database.
    listed = usage_from_wire(records, DEFAULT_PRICES)
    with session_scope(server.app.extensions["scorecard.engine"]) as session:
        stored = usage_of_run(session, session.get_one(Run, int(run["id"])), DEFAULT_PRICES)
    assert stored == listed
    assert listed.calls_timed == 3 and listed.latency_p50_ms is not None and listed.latency_p50_ms >= 200
    assert listed.system_tokens.total > 0 and listed.judge_tokens.total > 0
    assert listed.cost_usd is None and SYSTEM_MODEL in listed.unknown_models  # the fake model has no price
