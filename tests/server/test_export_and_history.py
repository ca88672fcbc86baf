"""CSV export (spreadsheet-safe, capped cells) and the run history series, over real HTTP."""

from __future__ import annotations

import csv
import io
import json

import requests

from scorecard_core.export import MAX_CELL_CHARS
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload


def fetch_csv(client, run_id) -> list[dict[str, str]]:
    response = requests.get(f"{client.base_url}/runs/{run_id}/export.csv", headers=client.http.headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f"run-{run_id}.csv" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_export_round_trips_and_neutralises_formulas(client):
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    nasty = ['=HYPERLINK("http://evil")', "+1+1", "@SUM(A1)", "x" * 200_000]
    items = [
        {
            "testcaseId": tc["id"],
            "inputs": {"question": text, "quote": 'say "hi",\nthen leave'},
            "expected": tc["expected"],
            "outputs": {"answer": text},
        }
        for tc, text in zip(testcases, nasty)
    ]
    client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    wait_for_run(client, run["id"])

    rows = fetch_csv(client, run["id"])
    assert len(rows) == 4
    assert list(rows[0])[:6] == ["recordId", "testcaseId", "inputs", "expected", "outputs", "error"]
    assert {"Exact score", "Exact passed", "Exact reasoning", "Exact error"} <= set(rows[0])
    for row, text in zip(rows, nasty):
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row.values())
        if len(text) < 1000:
            assert json.loads(row["inputs"]) == {"question": text, "quote": 'say "hi",\nthen leave'}
            assert json.loads(row["outputs"]) == {"answer": text}
        else:
            assert len(row["outputs"]) == MAX_CELL_CHARS
            assert row["outputs"].endswith("…[truncated]")
        assert row["Exact score"] == "false" and row["Exact passed"] == "false"


def test_formula_cells_keep_their_text_after_a_quote(client):
    project, testset, testcases = make_project(client, cases=1)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": []})
    upload(client, run, testcases, answer=lambda tc: "-5")
    (row,) = fetch_csv(client, run["id"])
    assert row["testcaseId"] == testcases[0]["id"]
    assert json.loads(row["outputs"]) == {"answer": "-5"}


def test_history_shows_pass_rates_and_averages_per_run(client):
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    similar = metric(
        client,
        project,
        name="Similar",
        evalType="heuristic",
        outputType="int",
        heuristic={"type": "similarity", "outputField": "answer", "expectedField": "answer"},
    )
    answers = [lambda tc: tc["expected"]["answer"], lambda tc: "a0"]
    run_ids = []
    for answer in answers:
        run = client.post(
            f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"], similar["id"]]}
        )
        upload(client, run, testcases, answer=answer)
        wait_for_run(client, run["id"])
        run_ids.append(run["id"])

    history = client.get(f"/projects/{project['id']}/history")["metrics"]
    by_metric = {m["metricId"]: m for m in history}
    exact_points = by_metric[exact["id"]]["points"]
    assert [p["runId"] for p in exact_points] == run_ids
    assert [p["value"] for p in exact_points] == [1.0, 0.25]
    similar_points = by_metric[similar["id"]]["points"]
    assert similar_points[0]["value"] == 5.0 and similar_points[0]["average"] == 5.0
    assert similar_points[1]["value"] < 5.0

    only_exact = client.get(f"/projects/{project['id']}/history", metricIds=exact["id"])["metrics"]
    assert [m["metricId"] for m in only_exact] == [exact["id"]]

    comparison = client.get(f"/runs/{run_ids[1]}/compare", baselineRunId=run_ids[0])
    deltas = {m["metricId"]: m["passRateDelta"] for m in comparison["metrics"]}
    assert deltas[exact["id"]] == -0.75
    assert len([r for r in comparison["regressions"] if r["metricId"] == exact["id"]]) == 3
    assert comparison["improvements"] == []


def test_history_and_compare_reject_bad_input(client):
    project, _testset, _cases = make_project(client, cases=1)
    headers = client.http.headers
    for path, field in (
        (f"/projects/{project['id']}/history?metricIds=a,b", "metricIds"),
        (f"/projects/{project['id']}/history?limit=0", "limit"),
        (f"/projects/{project['id']}/history?testsetId=x", "testsetId"),
        ("/runs/1/compare", None),
    ):
        response = requests.get(f"{client.base_url}{path}", headers=headers)
        assert response.status_code in (400, 404), path
        if field:
            assert field in response.json()["message"]
    assert requests.get(f"{client.base_url}/projects/999/history", headers=headers).status_code == 404
