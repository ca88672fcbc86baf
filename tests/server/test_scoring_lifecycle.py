"""Runs move through scoring to completed or error by themselves, over real HTTP.

AI metrics are judged through the real openai client against the fake OpenAI server.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_for_run

SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}
EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}


def make_project(client, cases: int = 6):
    project = client.post("/projects", {"name": "scoring"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "t", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["question"], "expected": ["answer"]}},
    )
    items = [{"jsonData": {"question": f"q{i}", "answer": f"a{i}"}} for i in range(cases)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
    return project, testset, testcases


def metric(client, project, **fields):
    return client.post(f"/projects/{project['id']}/metrics", {"guidelines": "be right", **fields})


def upload(client, run, testcases, answer=lambda tc: tc["expected"]["answer"], **extra):
    items = [
        {
            "testcaseId": tc["id"],
            "inputs": tc["inputs"],
            "expected": tc["expected"],
            "outputs": {"answer": answer(tc)},
            **extra,
        }
        for tc in testcases
    ]
    return client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]


def scores_by_metric(client, run_id):
    run = client.get(f"/runs/{run_id}")
    names = dict(zip(run["metricVersionIds"], run["metricIds"]))
    found: dict[str, list[dict]] = {}
    for record in client.paginate(f"/runs/{run_id}/records"):
        for score in record["scores"]:
            found.setdefault(names.get(score["metricConfigId"], score["metricConfigId"]), []).append(score)
    return found


def test_ai_metrics_score_every_output_type(client, fake_openai):
    project, testset, testcases = make_project(client)
    boolean = metric(
        client,
        project,
        name="Correct",
        evalType="ai",
        outputType="boolean",
        promptTemplate="Q: {{inputs.question}} A: {{outputs.answer}} E: {{expected.answer}} "
        "G: {{guidelines}} VERDICT: pass",
    )
    integer = metric(client, project, name="Helpful", evalType="ai", outputType="int", promptTemplate="SCORE: 4")
    decimal = metric(
        client,
        project,
        name="Faithful",
        evalType="ai",
        outputType="float",
        temperature=0.3,
        evalModelName="judge-mini",
        promptTemplate="SCORE: 0.25",
    )
    run = client.post(
        f"/projects/{project['id']}/runs",
        {"testsetId": testset["id"], "metricIds": [boolean["id"], integer["id"], decimal["id"]]},
    )
    upload(client, run, testcases)

    done = wait_for_run(client, run["id"])
    assert done["status"] == "completed" and done["numScores"] == 18
    scores = scores_by_metric(client, run["id"])
    assert {s["score"]["binaryScore"] for s in scores[boolean["id"]]} == {True}
    assert {s["score"]["intScore"] for s in scores[integer["id"]]} == {4}
    assert {s["score"]["floatScore"] for s in scores[decimal["id"]]} == {0.25}
    assert all(s["score"]["reasoning"] for s in scores[boolean["id"]])

    prompts = [r for r in fake_openai.requests if "Q: q0 " in str(r["messages"])]
    assert prompts and "A: a0 E: a0 G: be right" in str(prompts[0]["messages"])
    asked = {(r["model"], r["temperature"]) for r in fake_openai.requests}
    assert ("judge-mini", 0.3) in asked and ("gpt-4o", 0) in asked

    summary = client.get(f"/runs/{run['id']}/summary")
    rates = {m["metricId"]: (m["passRate"], m["average"]) for m in summary["metrics"]}
    assert rates[boolean["id"]] == (1.0, None)
    assert rates[integer["id"]] == (1.0, 4.0)
    assert rates[decimal["id"]] == (0.0, 0.25)


def test_malformed_judge_answers_end_the_run_in_error(client, fake_openai):
    project, testset, testcases = make_project(client, cases=2)
    judge = metric(client, project, name="Judge", evalType="ai", outputType="int", promptTemplate="SCORE: 5")
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(
        f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"], exact["id"]]}
    )
    fake_openai.malformed_next(times=100, text="I think it is rather good, maybe")
    upload(client, run, testcases)

    done = wait_for_run(client, run["id"])
    assert done["status"] == "error"
    detail = {m["name"]: m for m in done["statusDetail"]["metrics"]}
    assert detail["Judge"]["errored"] == 2 and detail["Judge"]["scored"] == 0
    assert detail["Exact"]["scored"] == 2 and detail["Exact"]["errored"] == 0
    assert "Judge" in done["error"] and "2 of 2" in done["error"]
    errors = [s["error"] for s in scores_by_metric(client, run["id"])[judge["id"]]]
    assert all("I think it is rather good, maybe" in e for e in errors)


def test_transient_judge_failures_are_retried(client, fake_openai):
    project, testset, testcases = make_project(client, cases=1)
    judge = metric(client, project, name="Judge", evalType="ai", outputType="boolean", promptTemplate="VERDICT: fail")
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [judge["id"]]})
    fake_openai.fail_next(status=429, times=1, retry_after=0.2)
    fake_openai.fail_next(status=500, times=1)
    upload(client, run, testcases)
    done = wait_for_run(client, run["id"])
    assert done["status"] == "completed"
    assert scores_by_metric(client, run["id"])[judge["id"]][0]["score"]["binaryScore"] is False


def test_scoring_starts_before_execution_ends(client):
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases[:2])
    partial = wait_for_run(client, run["id"], statuses=("running_execution",))
    for _ in range(200):
        partial = client.get(f"/runs/{run['id']}")
        if partial["numScores"] == 2:
            break
    assert partial["status"] == "running_execution" and partial["numScores"] == 2
    upload(client, run, testcases[2:])
    assert wait_for_run(client, run["id"])["status"] == "completed"


def test_ending_execution_early_lets_scoring_finish(client):
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases[:1])
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})
    done = wait_for_run(client, run["id"])
    assert done["status"] == "completed"
    assert done["statusDetail"]["records"] == {"created": 1, "expected": 4, "errored": 0}


def test_record_errors_end_the_run_in_error(client):
    project, testset, testcases = make_project(client, cases=3)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases[:2])
    upload(client, run, testcases[2:], error="system raised TimeoutError")
    done = wait_for_run(client, run["id"])
    assert done["status"] == "error"
    assert done["statusDetail"]["records"]["errored"] == 1
    assert "1 record(s) failed" in done["error"]
    assert done["numScores"] == 2


def test_human_metrics_wait_for_people(client):
    project, testset, testcases = make_project(client, cases=2)
    human = metric(client, project, name="Tone", evalType="human", outputType="int")
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [human["id"]]})
    records = upload(client, run, testcases)
    waiting = wait_for_run(client, run["id"], statuses=("awaiting_human_scoring",))
    assert waiting["statusDetail"]["metrics"][0]["pending"] == 2
    for record in records:
        client.put(f"/records/{record['id']}/scores/{run['metricVersionIds'][0]}", {"score": {"intScore": 5}})
    assert wait_for_run(client, run["id"])["status"] == "completed"


@pytest.mark.parametrize("new_metric", [False, True])
def test_rescore_uses_the_changed_metric_and_keeps_human_scores(client, new_metric):
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    human = metric(client, project, name="Tone", evalType="human", outputType="boolean")
    run = client.post(
        f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"], human["id"]]}
    )
    records = upload(client, run, testcases, answer=lambda tc: tc["expected"]["answer"].upper())
    for record in records:
        client.put(f"/records/{record['id']}/scores/{run['metricVersionIds'][1]}", {"score": {"binaryScore": True}})
    first = wait_for_run(client, run["id"])
    assert first["status"] == "completed"
    assert client.get(f"/runs/{run['id']}/summary")["metrics"][0]["passRate"] == 0.0

    lenient = {**EXACT, "caseSensitive": False}
    if new_metric:
        target = metric(
            client, project, name="Exact, any case", evalType="heuristic", outputType="boolean", heuristic=lenient
        )
    else:
        target = client.patch(
            f"/metrics/{exact['id']}", {"evalType": "heuristic", "outputType": "boolean", "heuristic": lenient}
        )
    rescored = client.post(f"/runs/{run['id']}/rescore", {"metricIds": [target["id"], human["id"]]})
    assert rescored["status"] != "completed"
    done = wait_for_run(client, run["id"])
    assert done["status"] == "completed"
    summary = {m["metricId"]: m for m in client.get(f"/runs/{run['id']}/summary")["metrics"]}
    assert summary[target["id"]]["passRate"] == 1.0 and summary[target["id"]]["scored"] == 4
    assert summary[human["id"]]["passRate"] == 1.0 and summary[human["id"]]["scored"] == 4
    expected_metrics = 3 if new_metric else 2
    assert len(done["metricIds"]) == expected_metrics == len(done["metricVersionIds"])
    assert done["numScores"] == 4 * expected_metrics
    if not new_metric:
        assert done["metricVersionIds"][0] != run["metricVersionIds"][0]


def test_rescore_rejects_bad_input(client):
    project, testset, testcases = make_project(client, cases=1)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    import requests

    headers = client.http.headers
    for body, field in (({}, "metricIds"), ({"metricIds": []}, "metricIds"), ({"metricIds": ["x"]}, "metricIds.0")):
        response = requests.post(f"{client.base_url}/runs/{run['id']}/rescore", json=body, headers=headers)
        assert response.status_code == 400 and field in response.json()["message"]
    response = requests.post(
        f"{client.base_url}/runs/{run['id']}/rescore", json={"metricIds": ["999"]}, headers=headers
    )
    assert response.status_code == 404
    assert client.get(f"/runs/{run['id']}")["metricIds"] == [exact["id"]]
