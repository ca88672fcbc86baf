"""The real ``scorecard serve`` process keeps everything across a restart.

Start the server as a subprocess (SQLite file, then PostgreSQL), write a whole evaluation through
our REST client, stop it with SIGTERM, start it again and read everything back.
"""

from __future__ import annotations

from typing import Any

import pytest

from scorecard_core.client import ScorecardClient
from tests.support.processes import run_cli, serving

SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def restart_database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'scorecard.db'}"  # not there yet: the CLI creates it
    return request.getfixturevalue("postgres_url")


def write_evaluation(client: ScorecardClient) -> dict[str, Any]:
    project = client.post("/projects", {"name": "Survivor", "description": "outlives restarts"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "Capitals",
            "description": "",
            "jsonSchema": SCHEMA,
            "fieldMapping": {"inputs": ["question"], "expected": ["answer"], "metadata": []},
        },
    )
    cases = [{"jsonData": {"question": f"capital of c{i}?", "answer": f"city {i}"}} for i in range(5)]
    testcases = client.post(f"/testsets/{testset['id']}/testcases", {"items": cases})["items"]
    metric = client.post(
        f"/projects/{project['id']}/metrics",
        {"name": "Correct", "evalType": "human", "outputType": "int", "guidelines": "1-5", "passingThreshold": 3},
    )
    system = client.post(f"/projects/{project['id']}/systems", {"name": "Atlas", "config": {"model": "atlas-1"}})
    version = client.post(f"/systems/{system['id']}/versions", {"config": {"model": "atlas-2"}, "name": "v2"})
    run = client.post(
        f"/projects/{project['id']}/runs",
        {"metricIds": [metric["id"]], "testsetId": testset["id"], "systemVersionId": version["id"], "notes": "nightly"},
    )
    items = [
        {"inputs": t["inputs"], "expected": t["expected"], "outputs": dict(t["expected"]), "testcaseId": t["id"]}
        for t in testcases
    ]
    records = client.post(f"/runs/{run['id']}/records/batch", {"items": items})["items"]
    score = {"score": {"intScore": 4, "reasoning": "ok"}}
    client.put(f"/records/{records[0]['id']}/scores/{run['metricVersionIds'][0]}", score)
    client.patch(f"/runs/{run['id']}", {"notes": "nightly, checked"})
    return {
        "project": project,
        "testset": testset,
        "metric": metric,
        "system": system,
        "version": version,
        "run": run,
        "items": items,
    }


def read_back(client: ScorecardClient, ids: dict[str, Any]) -> dict[str, Any]:
    project_id, run_id = ids["project"]["id"], ids["run"]["id"]
    return {
        "project": [p for p in client.paginate("/projects") if p["id"] == project_id],
        "testsets": list(client.paginate(f"/projects/{project_id}/testsets")),
        "testcases": list(client.paginate(f"/testsets/{ids['testset']['id']}/testcases", limit=2)),
        "metrics": list(client.paginate(f"/projects/{project_id}/metrics")),
        "system": client.get(f"/systems/{ids['system']['id']}"),
        "version": client.get(f"/systems/versions/{ids['version']['id']}"),
        "runs": list(client.paginate(f"/projects/{project_id}/runs")),
        "records": list(client.paginate(f"/runs/{run_id}/records", limit=2)),
    }


def test_everything_survives_a_restart(restart_database_url, tmp_path):
    created = run_cli("api-key", "create", "--name", "restart", database_url=restart_database_url)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    log_path = tmp_path / "server.log"

    with serving(restart_database_url, log_path) as first:
        client = ScorecardClient(first.api_url, key, max_retries=0)
        ids = write_evaluation(client)
        before = read_back(client, ids)
        assert before["runs"][0]["numRecords"] == 5 and before["runs"][0]["numScores"] == 1
        assert before["runs"][0]["status"] != "awaiting_execution"
        assert first.stop() == 0, first.log()

    with serving(restart_database_url, log_path) as second:
        client = ScorecardClient(second.api_url, key, max_retries=0)
        assert read_back(client, ids) == before
        # A resumed upload after the restart creates no duplicates, and new writes still work.
        run_id = ids["run"]["id"]
        again = client.post(f"/runs/{run_id}/records/batch", {"items": ids["items"]})["items"]
        assert [r["id"] for r in again] == [r["id"] for r in before["records"]]
        assert client.get(f"/runs/{run_id}")["numRecords"] == 5
        newer = client.post("/projects", {"name": "after restart"})
        assert int(newer["id"]) > int(ids["project"]["id"])
        assert second.stop() == 0, second.log()

    assert "Traceback" not in log_path.read_text(errors="replace")
