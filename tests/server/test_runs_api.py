"""Our run extensions: git context, and the list filters the Action uses to find a baseline."""

from __future__ import annotations

import requests

from tests.server.test_scoring_lifecycle import make_project, metric


def test_git_context_and_baseline_filters(client):
    project, testset, _cases = make_project(client, cases=1)
    other_testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "other", "jsonSchema": {"type": "object"}, "fieldMapping": {"inputs": [], "expected": []}},
    )
    human = metric(client, project, name="Tone", evalType="human", outputType="boolean")

    def run(testset_id, ref):
        return client.post(
            f"/projects/{project['id']}/runs",
            {
                "testsetId": testset_id,
                "metricIds": [human["id"]],
                "source": "github",
                "git": {"repo": "acme/bot", "ref": ref, "sha": "a" * 40},
            },
        )

    on_main = run(testset["id"], "main")
    run(testset["id"], "feature")
    run(other_testset["id"], "main")
    newest_main = run(testset["id"], "main")
    client.patch(f"/runs/{on_main['id']}", {"status": "awaiting_scoring"})

    found = client.get(f"/projects/{project['id']}/runs", testsetId=testset["id"], gitRef="main")["data"]
    assert [r["id"] for r in found] == [newest_main["id"], on_main["id"]]
    finished = client.get(f"/projects/{project['id']}/runs", gitRef="main", status="completed")["data"]
    assert [r["id"] for r in finished] == [on_main["id"]]  # no records: nothing to score, so completed

    patched = client.patch(f"/runs/{newest_main['id']}", {"git": {"prNumber": 7, "actionsRunUrl": "https://x/1"}})
    assert patched["git"] == {
        "repo": "acme/bot",
        "ref": "main",
        "sha": "a" * 40,
        "prNumber": 7,
        "actionsRunUrl": "https://x/1",
    }

    bad = requests.get(f"{client.base_url}/projects/{project['id']}/runs?status=finished", headers=client.http.headers)
    assert bad.status_code == 400 and "status" in bad.json()["message"]
    bad = requests.patch(
        f"{client.base_url}/runs/{on_main['id']}", json={"git": {"prNumber": "seven"}}, headers=client.http.headers
    )
    assert bad.status_code == 400 and "git.prNumber" in bad.json()["message"]
