"""``GET /runs/{id}/summary`` and ``GET /runs/{id}/compare`` over HTTP: the evidence fields'
shapes, their figures against scipy's, and query parameters that cannot be read."""

from __future__ import annotations

import pytest
import requests
from scipy import stats as scipy_stats

from tests.conftest import wait_for_run
from tests.server.test_bad_input import stored  # noqa: F401  (the fixture)
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric

USAGE = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
METADATA = {"model": "gpt-4o-mini", "usage": USAGE}


def run_of(client, world, answers: dict[int, bool], duration: float) -> dict:
    """A finished run of the testcases ``answers`` names, each answered right or wrong."""
    run = client.post(
        f"/projects/{world['project']['id']}/runs",
        {"testsetId": world["testset"]["id"], "metricIds": [world["metric"]["id"]]},
    )
    items = [
        {
            "testcaseId": world["testcases"][index]["id"],
            "inputs": world["testcases"][index]["inputs"],
            "expected": world["testcases"][index]["expected"],
            "outputs": {"answer": world["testcases"][index]["expected"]["answer"] if right else "wrong"},
            "durationMs": duration,
            "metadata": METADATA,
        }
        for index, right in answers.items()
    ]
    client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})  # fewer records than testcases
    assert wait_for_run(client, run["id"])["status"] == "completed"
    return run


@pytest.fixture
def world(client):
    """Baseline: testcases 0-10, all right but 9. Run: testcases 1-11, 1-8 wrong. Paired on 1-10:
    8 got worse, 1 (testcase 9) better; testcase 0 is only in the baseline, 11 only in the run."""
    project, testset, testcases = make_project(client, cases=12)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    world = {"project": project, "testset": testset, "testcases": testcases, "metric": exact}
    world["baseline"] = run_of(client, world, {i: i != 9 for i in range(11)}, duration=100.0)
    world["run"] = run_of(client, world, {i: i > 8 for i in range(1, 12)}, duration=300.0)
    return world


def test_the_summary_has_intervals_and_usage(client, world):
    summary = client.get(f"/runs/{world['run']['id']}/summary")
    assert (summary["records"], summary["n"], summary["alpha"]) == (11, 11, 0.01)
    assert summary["passRate"] == pytest.approx(3 / 11)
    wilson = scipy_stats.binomtest(3, 11).proportion_ci(confidence_level=0.95, method="wilson")
    interval = summary["passRateInterval"]
    assert interval == {"low": pytest.approx(wilson.low), "high": pytest.approx(wilson.high), "level": 0.95}
    [exact] = summary["metrics"]
    assert (exact["n"], exact["passed"], exact["scored"]) == (11, 3, 11)
    assert exact["interval"] == exact["passRateInterval"] == interval
    assert exact["detectableChange"] > 0
    assert summary["usage"] == {
        "latencyMs": {"p50": 300.0, "p95": 300.0, "n": 11},
        "systemTokens": {"prompt": 1100, "completion": 220, "total": 1320},
        "judgeTokens": {"prompt": 0, "completion": 0, "total": 0},
        "costUsd": pytest.approx(summary["usage"]["costUsd"]),
        "unknownPriceModels": [],
        "judgeCacheHits": 0,
    }
    assert summary["usage"]["costUsd"] > 0
    # alpha only moves the detectable change, never the 95% intervals.
    loose = client.get(f"/runs/{world['run']['id']}/summary", alpha="0.1")
    assert loose["alpha"] == 0.1 and loose["passRateInterval"] == interval
    assert loose["metrics"][0]["detectableChange"] < exact["detectableChange"]


def test_the_comparison_pairs_testcases_and_tests_the_change(client, world):
    run, baseline, cases = world["run"], world["baseline"], world["testcases"]
    compared = client.get(f"/runs/{run['id']}/compare", baselineRunId=baseline["id"])
    assert (compared["runId"], compared["baselineRunId"], compared["alpha"]) == (run["id"], baseline["id"], 0.01)
    assert compared["level"] == pytest.approx(0.98)
    assert compared["onlyInRunTestcaseIds"] == [cases[11]["id"]]
    assert compared["onlyInBaselineTestcaseIds"] == [cases[0]["id"]]
    [exact] = compared["metrics"]
    assert (exact["pairs"], exact["onlyInRun"], exact["onlyInBaseline"]) == (10, 1, 1)
    assert exact["regressedTestcaseIds"] == [cases[i]["id"] for i in range(1, 9)]
    assert exact["improvedTestcaseIds"] == [cases[9]["id"]]
    assert compared["regressions"] == [
        {"testcaseId": cases[i]["id"], "metricId": exact["metricId"]} for i in range(1, 9)
    ]
    assert compared["improvements"] == [{"testcaseId": cases[9]["id"], "metricId": exact["metricId"]}]
    assert exact["delta"] == pytest.approx(-0.7)  # (1 - 8) / 10 paired testcases
    assert exact["deltaInterval"]["level"] == pytest.approx(0.98)
    assert exact["deltaInterval"]["low"] < exact["delta"] < exact["deltaInterval"]["high"]
    # One-sided exact McNemar: of the 9 discordant pairs, 8 or more going the worse way by chance.
    mcnemar = scipy_stats.binomtest(8, 9, 0.5, alternative="greater").pvalue
    assert exact["pValue"] == pytest.approx(mcnemar) and exact["adjustedPValue"] == pytest.approx(mcnemar)
    assert mcnemar > 0.01 and exact["verdict"] == "unchanged"  # no evidence at the default alpha
    assert compared["sentence"] == f"No evidence of a change against run {baseline['id']}."
    assert compared["usage"]["run"]["latencyMs"]["p50"] == 300.0
    assert compared["usage"]["baseline"]["latencyMs"]["p50"] == 100.0
    assert compared["usage"]["latencyP50MsDelta"] == 200.0 and compared["usage"]["totalTokensDelta"] == 0

    loose = client.get(f"/runs/{run['id']}/compare", baselineRunId=baseline["id"], alpha="0.05")
    assert loose["metrics"][0]["verdict"] == "regressed" and loose["level"] == pytest.approx(0.9)
    assert loose["sentence"] == "Regression in Exact: 8 testcases got worse, 1 better."
    tolerant = client.get(
        f"/runs/{run['id']}/compare", baselineRunId=baseline["id"], alpha="0.05", regressionMargin="100pp"
    )
    assert tolerant["metrics"][0]["margin"] == 1.0 and tolerant["metrics"][0]["verdict"] == "unchanged"


@pytest.mark.parametrize(
    "path, params, name",
    [
        ("summary", {"alpha": "abc"}, "alpha"),
        ("summary", {"alpha": "0"}, "alpha"),
        ("compare", {"alpha": "abc"}, "alpha"),
        ("compare", {"alpha": "0"}, "alpha"),
        ("compare", {"alpha": "0.5"}, "alpha"),
        ("compare", {"regressionMargin": "lots"}, "regressionMargin"),
        ("compare", {"regressionMargin": "2pp, 3pp"}, "regressionMargin"),
        ("compare", {"baselineRunId": None}, "baselineRunId"),
    ],
)
def test_unreadable_parameters_are_a_400_naming_them(client, stored, world, path, params, name):
    params = {"baselineRunId": world["baseline"]["id"], **params}
    before = stored()
    response = requests.get(
        f"{client.base_url}/runs/{world['run']['id']}/{path}", params=params, headers=client.http.headers
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"].startswith(f"`{name}` ") and body["details"]["field"] == name
    assert stored() == before
