"""A run of many records scored by AI metrics, made over the API: for the multi-node tests and the
scoring benchmarks, which need lots of judge work and nothing else."""

from __future__ import annotations

from scorecard_core.client import ScorecardClient

SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}, "a": {"type": "string"}}}


def ai_run(client: ScorecardClient, records: int, metrics: int = 2, judge_cache: bool = True, batch: int = 100) -> str:
    """A project, ``metrics`` boolean AI metrics, a run, ``records`` records uploaded in batches,
    and the run's execution ended, so its scores are pending; returns the run's ID."""
    project = client.post("/projects", {"name": "AI scoring"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "t", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["q"], "expected": ["a"]}},
    )
    metric_ids = [
        client.post(
            f"/projects/{project['id']}/metrics",
            {
                "name": f"judge {i}",
                "evalType": "ai",
                "outputType": "boolean",
                "promptTemplate": "{{outputs}}",
                "judgeCache": judge_cache,
            },
        )["id"]
        for i in range(metrics)
    ]
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": metric_ids})
    for start in range(0, records, batch):
        items = [
            {"inputs": {"q": f"q{i}"}, "expected": {"a": f"a{i}"}, "outputs": {"answer": f"a{i}"}}
            for i in range(start, min(start + batch, records))
        ]
        client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})
    return run["id"]
