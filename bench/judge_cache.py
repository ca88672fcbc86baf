"""Judge calls saved by the judge cache, in the real server process over HTTP on SQLite.

A cold run of 500 records with one AI metric at temperature 0 (judged by the fake OpenAI server
in this process), then a second run of the same testset in which 90% of the outputs are
unchanged. Prints the judge calls of each, counted at the fake, and their ratio (target <= 0.10:
only the changed outputs go to the judge), with the second run's statusDetail.judgeCacheHits.

    python -m bench.judge_cache [--records 500] [--quick]

``measure(records)`` runs the same and returns the figures, for other benches to import.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench import scoring
from bench._server import ServerFailed, bench_server
from scorecard_core.client import ScorecardClient
from scorecard_core.polling import Backoff, poll
from tests.fakes.openai_server import FakeOpenAI

JUDGE_DELAY = 0.02
POLL_SECONDS = 0.05
UNCHANGED = 0.9
TARGET_RATIO = 0.10
METRIC = {
    "name": "Correct",
    "evalType": "ai",
    "outputType": "boolean",
    "guidelines": "",
    "temperature": 0,
    "promptTemplate": "Q: {{ inputs.question }} A: {{ outputs.answer }} VERDICT: pass",
}


def seed(client: ScorecardClient, records: int) -> tuple[dict, list[dict]]:
    """A project with a testset of ``records`` testcases and the AI metric: what a run is ``of``."""
    run, testcases, metric_ids = scoring.seed(client, records, [METRIC])
    return {"projectId": run["projectId"], "testsetId": run["testsetId"], "metricIds": metric_ids}, testcases


def scored_run(client: ScorecardClient, of: dict, testcases: list[dict], outputs: list[str]) -> tuple[dict, float]:
    """A run ``of`` the testset and metric whose records have ``outputs``, scored to the end;
    returns it and its seconds from the first upload."""
    run = client.post(f"/projects/{of['projectId']}/runs", {"testsetId": of["testsetId"], "metricIds": of["metricIds"]})
    started = time.perf_counter()
    for start in range(0, len(testcases), 100):
        items = [
            {"testcaseId": tc["id"], "inputs": tc["inputs"], "expected": tc["expected"], "outputs": {"answer": answer}}
            for tc, answer in zip(testcases[start : start + 100], outputs[start : start + 100])
        ]
        client.post(f"/runs/{run['id']}/records/batch", {"items": items})
    done = poll(
        lambda: client.get(f"/runs/{run['id']}"),
        lambda r: r["status"] in ("completed", "error"),
        Backoff(first=POLL_SECONDS, longest=POLL_SECONDS, give_up_after=600),
    )
    if done["status"] != "completed" or done["numScores"] != len(testcases):
        raise ServerFailed(f"run {run['id']} ended {done['status']}: {done.get('error')}")
    return done, time.perf_counter() - started


def measure(records: int = 500) -> dict[str, Any]:
    """Judge calls of a cold run and of a re-run with 90% of its outputs unchanged, in a server of
    its own: ``cold_calls``, ``warm_calls``, ``ratio`` (warm / cold), ``cache_hits`` (the re-run's
    statusDetail.judgeCacheHits), ``cold_seconds``, ``warm_seconds`` and ``passed``."""
    unchanged = round(records * UNCHANGED)
    with FakeOpenAI(delay=JUDGE_DELAY) as judge:
        with bench_server(env={"OPENAI_BASE_URL": judge.url, "OPENAI_API_KEY": "bench"}) as server:
            client = server.client()
            of, testcases = seed(client, records)
            answers = [tc["expected"]["answer"] for tc in testcases]
            _cold, cold_seconds = scored_run(client, of, testcases, answers)
            cold_calls = len(judge.requests)
            changed = answers[:unchanged] + [f"changed {answer}" for answer in answers[unchanged:]]
            warm, warm_seconds = scored_run(client, of, testcases, changed)
            warm_calls = len(judge.requests) - cold_calls
    ratio = warm_calls / cold_calls
    return {
        "records": records,
        "unchanged": unchanged,
        "cold_calls": cold_calls,
        "warm_calls": warm_calls,
        "ratio": ratio,
        "cache_hits": warm["statusDetail"]["judgeCacheHits"],
        "cold_seconds": round(cold_seconds, 3),
        "warm_seconds": round(warm_seconds, 3),
        "passed": ratio <= TARGET_RATIO,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    figures = measure(50 if args.quick else args.records)
    print(
        f"judge cache: {figures['records']} records, cold run {figures['cold_calls']} judge calls "
        f"in {figures['cold_seconds']:.2f} s; re-run with {figures['unchanged']} outputs unchanged "
        f"{figures['warm_calls']} calls in {figures['warm_seconds']:.2f} s, {figures['cache_hits']} cache hits; "
        f"ratio {figures['ratio']:.3f} (target <= {TARGET_RATIO:.2f}) {'PASS' if figures['passed'] else 'MISS'}"
    )


if __name__ == "__main__":
    main()
