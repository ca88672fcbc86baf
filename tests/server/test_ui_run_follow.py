"""A run page follows its run while the run changes by itself, and stops once it waits for people."""

from __future__ import annotations

from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import make_project, metric, upload
from tests.server.test_ui import data_dir, sign_in  # noqa: F401 (fixture)


def test_a_run_awaiting_human_scores_is_not_followed(client, server, api_key):
    project, testset, testcases = make_project(client, cases=2)
    human = metric(client, project, name="Graded", evalType="human", outputType="boolean")
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [human["id"]]})
    browser = sign_in(server, api_key)
    page = f"{server.url}/projects/{project['id']}/runs/{run['id']}"
    assert "data-follow" in browser.get(page).text  # awaiting execution: it will move by itself
    upload(client, run, testcases)
    assert wait_for_run(client, run["id"], statuses=("awaiting_human_scoring",))["status"] == "awaiting_human_scoring"
    assert "data-follow" not in browser.get(page).text
