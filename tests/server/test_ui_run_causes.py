"""The run page's status explanation names why scores failed: the first distinct errors of each
metric (the judge's refusals) and scores that do not fit their metric; and the project page's runs
list shows the same pass rate as the API's summary, from the figures kept with the run."""

from __future__ import annotations

from tests.conftest import wait_for_run

from .test_ui import browser, data_dir, text_of  # noqa: F401  (fixtures: a signed-in session, the UI secret key)


def test_the_status_explanation_names_the_causes_of_failed_scores(server, browser, client, fake_openai):
    project = client.post("/projects", {"name": "causes"})
    judge = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Judge", "evalType": "ai", "outputType": "boolean", "guidelines": "Is it right?"},
    )
    helpful = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Helpful", "evalType": "human", "outputType": "int", "guidelines": ""},
    )
    fake_openai.fail_next(status=400, times=2)  # not retried: the first two judgements fail
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [judge["id"], helpful["id"]]})
    items = [{"inputs": {"q": f"q{i}"}, "outputs": {"a": i}} for i in range(3)]
    items.append({"inputs": {"q": "q3"}, "outputs": {}, "error": "RuntimeError: the system is down"})
    records = client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})
    wait_for_run(client, run["id"], statuses=("awaiting_human_scoring",))
    human_version = run["metricVersionIds"][1]
    client.put(f"/records/{records[0]['id']}/scores/{human_version}", {"score": {"intScore": 9}})
    for record, value in zip(records[1:3], (5, 2)):
        client.put(f"/records/{record['id']}/scores/{human_version}", {"score": {"intScore": value}})
    finished = wait_for_run(client, run["id"])

    causes = {m["name"]: m["causes"] for m in finished["statusDetail"]["metrics"]}
    assert len(causes["Judge"]) == 1 and causes["Judge"][0]  # the same refusal twice: named once
    assert causes["Helpful"] == ["1 score(s) do not fit the metric: /intScore must be an integer from 1 to 5"]
    page = text_of(browser.get(f"{server.url}/projects/{project['id']}/runs/{run['id']}").text)
    assert "Why scores failed (the first distinct errors per metric)" in page
    assert f"Judge : {causes['Judge'][0]}" in page  # the metric's name is bold: a tag apart
    assert f"Helpful : {causes['Helpful'][0]}" in page

    summary = client.get(f"/runs/{run['id']}/summary")
    listed = text_of(browser.get(f"{server.url}/projects/{project['id']}").text)
    assert f"{summary['passRate']:.0%}" in listed
