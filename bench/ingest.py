"""Record ingestion: the batch endpoint against one POST per record, over HTTP on SQLite.

Starts `scorecard serve` as its own process with a fresh SQLite database, then in each round:
(a) batch: ``POST /api/v2/runs/{id}/records/batch`` with items of 100, keyed by testcaseId + trial,
    from a few concurrent clients (one HTTP session each), as the runner uploads;
(b) per-record: the official SDK's ``records.create``, one call after another, as
    ``run_and_evaluate`` uploads.
Each mode writes into a run of its own, with no metrics, so what is measured is ingestion alone
(the scoring engine runs but finds no work). The best round of each mode counts: a shared
machine only ever slows a round down. Prints one result line (per-round figures go to stderr);
exits 0 whether or not the targets are met, 1 only if the server fails.

    python bench/ingest.py [--records 20000] [--per-record 2000] [--rounds 3] [--quick]
    python -m bench.ingest ...   (the same, from the repository root)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from scorecard_ai import APIError, Scorecard

if not __package__:  # run as `python bench/ingest.py`: import from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._server import BenchServer, ServerFailed, bench_server  # noqa: E402
from scorecard_core.client import ApiError, ScorecardClient  # noqa: E402

BATCH_SIZE = 100
TARGET_BATCH_RATE = 5_000
TARGET_RATIO = 10.0
WORDS = (
    "river capital treaty orbit enzyme ledger harbor quartz signal meadow vector glacier syntax "
    "lantern mosaic protein circuit canyon algebra pigment tundra beacon cipher estuary"
).split()


def _text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13) % len(WORDS)] for i in range(words))


def testcase_data(index: int) -> dict[str, Any]:
    return {
        "question": f"Question {index}: how does the {_text(index, 12)} relate?",
        "context": _text(index + 1, 36),
        "answer": _text(index + 2, 14),
    }


def record_body(record: int, testcase_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """One record as the runner would upload it: ~870 bytes of JSON (inputs ~410, expected ~110,
    outputs ~270)."""
    return {
        "testcaseId": testcase_id,
        "inputs": {"question": data["question"], "context": data["context"]},
        "expected": {"answer": data["answer"]},
        "outputs": {
            "answer": f"{_text(record, 22)}.",
            "model": "gpt-4o-mini-2024-07-18",
            "latencyMs": 200 + record % 900,
            "tokens": {"prompt": 180 + record % 50, "completion": 40 + record % 30},
        },
    }


@dataclass
class Testset:
    project_id: str
    testset_id: str
    testcases: list[tuple[str, dict[str, Any]]]  # (id, jsonData)


def create_testset(client: ScorecardClient, size: int) -> Testset:
    project = client.post("/projects", {"name": "ingest bench", "description": "bench/ingest.py"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "questions",
            "description": "",
            "jsonSchema": {
                "type": "object",
                "properties": {k: {"type": "string"} for k in ("question", "context", "answer")},
                "required": ["question", "answer"],
            },
            "fieldMapping": {"inputs": ["question", "context"], "expected": ["answer"], "metadata": []},
        },
    )
    cases: list[tuple[str, dict[str, Any]]] = []
    for start in range(0, size, 100):
        items = [{"jsonData": testcase_data(i)} for i in range(start, min(start + 100, size))]
        created = client.post(f"/testsets/{testset['id']}/testcases", {"items": items})["items"]
        cases += [(tc["id"], tc["jsonData"]) for tc in created]
    return Testset(project["id"], testset["id"], cases)


def new_run(client: ScorecardClient, testset: Testset) -> str:
    body = {"metricIds": [], "testsetId": testset.testset_id, "notes": "ingest bench"}
    return client.post(f"/projects/{testset.project_id}/runs", body)["id"]


def expect_records(client: ScorecardClient, run_id: str, count: int) -> None:
    stored = client.get(f"/runs/{run_id}")["numRecords"]
    if stored != count:
        raise ServerFailed(f"run {run_id} holds {stored} records after uploading {count}")


def batch_rate(server: BenchServer, testset: Testset, count: int, clients: int) -> float:
    """Records/s through the batch endpoint, ``clients`` uploaders in parallel.

    Request bodies are encoded before the clock starts (an uploader encodes results as they
    arrive); every response is decoded and checked, as the runner does."""
    run_id = new_run(server.client(), testset)
    cases = testset.testcases
    items = []
    for n in range(count):
        testcase_id, data = cases[n % len(cases)]
        items.append({**record_body(n, testcase_id, data), "trial": n // len(cases)})
    batches = [items[i : i + BATCH_SIZE] for i in range(0, count, BATCH_SIZE)]
    bodies = [(json.dumps({"items": batch}).encode(), len(batch)) for batch in batches]
    url = f"{server.api_url}/runs/{run_id}/records/batch"
    headers = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}

    def upload(worker: int) -> None:
        with requests.Session() as http:
            for body, size in bodies[worker::clients]:
                response = http.post(url, data=body, headers=headers, timeout=60)
                if response.status_code != 201:
                    raise ServerFailed(f"batch upload answered {response.status_code}: {response.text[:300]}")
                if len(response.json()["items"]) != size:
                    raise ServerFailed(f"a batch of {size} records was answered with a different count")

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(upload, range(clients)))
    elapsed = time.perf_counter() - started
    expect_records(server.client(), run_id, count)
    return count / elapsed


def per_record_rate(server: BenchServer, testset: Testset, count: int) -> float:
    """Records/s through the SDK's one-record call, sequential like ``run_and_evaluate``."""
    sdk = Scorecard(api_key=server.api_key, base_url=server.api_url, max_retries=0)
    run_id = new_run(server.client(), testset)
    cases = testset.testcases
    bodies = [record_body(n, *cases[n % len(cases)]) for n in range(count)]
    started = time.perf_counter()
    for body in bodies:
        sdk.records.create(
            run_id,
            inputs=body["inputs"],
            expected=body["expected"],
            outputs=body["outputs"],
            testcase_id=body["testcaseId"],
        )
    elapsed = time.perf_counter() - started
    expect_records(server.client(), run_id, count)
    return count / elapsed


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def result_line(batch: float, single: float) -> str:
    ratio = batch / single
    return (
        f"ingest: batch {batch:,.0f} rec/s, per-record {single:,.0f} rec/s, ratio {ratio:.1f}x "
        f"(targets: batch >= {TARGET_BATCH_RATE:,} rec/s {verdict(batch >= TARGET_BATCH_RATE)}, "
        f"ratio >= {TARGET_RATIO:.0f}x {verdict(ratio >= TARGET_RATIO)})"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="records per batch round (default 20,000)")
    parser.add_argument(
        "--per-record", type=int, default=None, help="records per one-by-one round (default records/10)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both modes; the best of each counts")
    parser.add_argument("--clients", type=int, default=4, help="concurrent batch uploaders (default 4)")
    parser.add_argument(
        "--testcases",
        type=int,
        default=None,
        help="testcases in the testset (default: one per batch record, so each run completes)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 + 100 records, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.per_record, args.rounds = 1_000, 100, 1
    if args.per_record is None:
        args.per_record = max(args.records // 10, 1)
    if args.testcases is None:
        args.testcases = args.records
    for name in ("records", "per_record", "rounds", "clients", "testcases"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with bench_server() as server:
            testset = create_testset(server.client(), args.testcases)
            # Warm-up: first requests pay for imports and statement compilation in the server.
            batch_rate(server, testset, 2 * BATCH_SIZE, 2)
            per_record_rate(server, testset, 20)
            batch_rates, single_rates = [], []
            for round_number in range(1, args.rounds + 1):
                batch_rates.append(batch_rate(server, testset, args.records, args.clients))
                single_rates.append(per_record_rate(server, testset, args.per_record))
                print(
                    f"  round {round_number}: batch {batch_rates[-1]:,.0f} rec/s "
                    f"({args.records:,} records, {args.clients} clients), "
                    f"per-record {single_rates[-1]:,.0f} rec/s ({args.per_record:,} records)",
                    file=sys.stderr,
                    flush=True,
                )
    except (RuntimeError, ApiError, APIError, requests.RequestException) as exc:
        print(f"ingest: server failed: {exc}", file=sys.stderr)
        return 1
    print(result_line(max(batch_rates), max(single_rates)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
