"""Rescoring a run several times at once, while the scoring engine writes its scores, on SQLite and
PostgreSQL: every request answers 200 (no 409 from two rescores inserting the same scores, no 503
from a deadlock with the engine), and the run ends with exactly one score per record."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload


def test_concurrent_rescores_while_scores_are_written_all_succeed(server, client, api_key):
    project, testset, testcases = make_project(client, cases=60)
    exact = metric(client, project, name="exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": [exact["id"]], "testsetId": testset["id"]})
    upload(client, run, testcases)

    def rescore(_) -> int:
        return requests.post(
            f"{server.api_url}/runs/{run['id']}/rescore",
            json={"metricIds": [exact["id"]]},
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(rescore, range(60)))
    assert set(statuses) == {200}, statuses

    finished = wait_for_run(client, run["id"])
    assert finished["status"] == "completed", finished
    records = list(client.paginate(f"/runs/{run['id']}/records"))
    assert len(records) == 60 and all(len(r["scores"]) == 1 for r in records), records[:3]
