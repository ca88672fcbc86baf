"""Scoring throughput of the real server process, over HTTP on SQLite.

(a) AI metrics: 1,000 records x 2 AI metrics judged by the fake OpenAI server answering in
    200 ms, at the server's scoring concurrency (default 32). Prints the wall time from the
    first upload to the run's completion, the ideal (records x metrics x 0.2 s / concurrency)
    and their ratio (target <= 1.15).
(b) Heuristics: re-run scoring of 10,000 records with 2 heuristic metrics; scores per second
    from the rescore call to completion (target >= 5,000/s).

    python -m bench.scoring [--records 1000] [--heuristic-records 10000] [--concurrency 32] [--quick]
"""

from __future__ import annotations

import argparse
import time

from bench._server import bench_server
from scorecard_core.client import ScorecardClient
from tests.fakes.openai_server import FakeOpenAI

JUDGE_DELAY = 0.2
POLL_SECONDS = 0.1  # polling faster would mostly measure the polling
TARGET_AI_RATIO = 1.15
TARGET_HEURISTIC_RATE = 5_000
SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
    "required": ["question", "answer"],
}


def seed(client: ScorecardClient, cases: int, metrics: list[dict]) -> tuple[dict, list[dict], list[str]]:
    project = client.post("/projects", {"name": "bench scoring"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {"name": "t", "jsonSchema": SCHEMA, "fieldMapping": {"inputs": ["question"], "expected": ["answer"]}},
    )
    testcases: list[dict] = []
    for start in range(0, cases, 100):
        items = [{"jsonData": {"question": f"q{i}", "answer": f"a{i}"}} for i in range(start, min(start + 100, cases))]
        testcases += client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
    metric_ids = [client.post(f"/projects/{project['id']}/metrics", {"guidelines": "", **m})["id"] for m in metrics]
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": metric_ids})
    return run, testcases, metric_ids


def upload(client: ScorecardClient, run: dict, testcases: list[dict]) -> None:
    for start in range(0, len(testcases), 100):
        items = [
            {
                "testcaseId": tc["id"],
                "inputs": tc["inputs"],
                "expected": tc["expected"],
                "outputs": {"answer": tc["expected"]["answer"] if i % 4 else "wrong"},
            }
            for i, tc in enumerate(testcases[start : start + 100], start)
        ]
        client.post(f"/runs/{run['id']}/records/batch", {"items": items})


def wait_finished(client: ScorecardClient, run_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/runs/{run_id}")
        if run["status"] in ("completed", "error"):
            return run
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"run {run_id} not scored within {timeout:.0f} s")


def bench_ai(client: ScorecardClient, records: int, concurrency: int) -> tuple[float, float]:
    metrics = [
        {
            "name": "Correct",
            "evalType": "ai",
            "outputType": "boolean",
            "promptTemplate": "{{outputs.answer}} VERDICT: pass",
        },
        {"name": "Helpful", "evalType": "ai", "outputType": "int", "promptTemplate": "{{outputs.answer}} SCORE: 4"},
    ]
    run, testcases, _ids = seed(client, records, metrics)
    started = time.perf_counter()
    upload(client, run, testcases)
    finished = wait_finished(client, run["id"], timeout=600)
    wall = time.perf_counter() - started
    assert finished["status"] == "completed" and finished["numScores"] == records * 2, finished["statusDetail"]
    return wall, records * len(metrics) * JUDGE_DELAY / concurrency


def bench_heuristics(client: ScorecardClient, records: int) -> float:
    metrics = [
        {
            "name": "Exact",
            "evalType": "heuristic",
            "outputType": "boolean",
            "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
        },
        {
            "name": "Similar",
            "evalType": "heuristic",
            "outputType": "float",
            "heuristic": {"type": "similarity", "outputField": "answer", "expectedField": "answer"},
        },
    ]
    run, testcases, metric_ids = seed(client, records, metrics)
    upload(client, run, testcases)
    wait_finished(client, run["id"], timeout=600)
    started = time.perf_counter()
    client.post(f"/runs/{run['id']}/rescore", {"metricIds": metric_ids})
    finished = wait_finished(client, run["id"], timeout=600)
    wall = time.perf_counter() - started
    assert finished["numScores"] == records * len(metrics), finished["statusDetail"]
    return records * len(metrics) / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--heuristic-records", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.records, args.heuristic_records = 64, 500

    with FakeOpenAI(delay=JUDGE_DELAY) as judge:
        env = {
            "OPENAI_BASE_URL": judge.url,
            "OPENAI_API_KEY": "bench",
            "SCORECARD_SCORING_CONCURRENCY": str(args.concurrency),
        }
        with bench_server(env=env) as server:
            client = server.client()
            wall, ideal = bench_ai(client, args.records, args.concurrency)
            rate = bench_heuristics(client, args.heuristic_records)

    ratio = wall / ideal
    print(
        f"scoring: AI {args.records} records x 2 metrics in {wall:.2f} s, ideal {ideal:.2f} s, "
        f"ratio {ratio:.3f} (target <= {TARGET_AI_RATIO}) {'PASS' if ratio <= TARGET_AI_RATIO else 'MISS'}; "
        f"heuristics {rate:,.0f} scores/s (target >= {TARGET_HEURISTIC_RATE:,}) "
        f"{'PASS' if rate >= TARGET_HEURISTIC_RATE else 'MISS'}"
    )


if __name__ == "__main__":
    main()
