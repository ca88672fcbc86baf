"""Records search: time to the first page of a project's records over HTTP, on SQLite and PostgreSQL.

Seeds one project with 100,000 records x 3 metrics (AI boolean, AI int, human boolean) over 50
runs straight into the database (Core bulk inserts, through migration 0010's search index), then
starts `scorecard serve` on it and asks ``GET /api/v2/projects/{id}/records?limit=50`` for
(a) no filter, (b) a full-text search, (c) a metric fail filter, (d) search + filter, timing each
request end to end. Prints one line per database and query kind with the p95 against the 300 ms
target (PASS/MISS); exits 0 either way, 1 only if the server answers wrongly. PostgreSQL gets a
database of its own on the server given (dropped afterwards).

    python -m bench.records [--records 100000] [--runs 50] [--requests 40] [--postgres URL] [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bench._server import ServerFailed, bench_server
from scorecard_core import db
from scorecard_core.models import Metric, MetricVersion, Project, Record, Run, Score, table_of

TARGET_MS = 300
PAGE = 50
CHUNK = 5_000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SEARCH_WORD = "refund"  # in about 1 record of 20
VOCABULARY = [f"w{n}" for n in range(2_000)]


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(count))


def seed(database_url: str, records: int, runs: int) -> tuple[int, int]:
    """The project's ID and its boolean AI metric's ID."""
    rng = random.Random(12)
    engine = db.make_engine(database_url)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        with db.session_scope(engine) as session:
            project = Project(name="records bench")
            session.add(project)
            session.flush()
            shapes = [("ok", "ai", "boolean", None), ("grade", "ai", "int", 4), ("review", "human", "boolean", None)]
            metrics = [Metric(project_id=project.id, name=n, eval_type=e, output_type=o) for n, e, o, _ in shapes]
            session.add_all(metrics)
            session.flush()
            versions = [
                MetricVersion(
                    metric_id=m.id,
                    config_hash=uuid.uuid4().hex,
                    config={"name": m.name, "eval_type": e, "output_type": o, "passing_threshold": t},
                )
                for m, (_n, e, o, t) in zip(metrics, shapes, strict=True)
            ]
            session.add_all(versions)
            session.flush()
            run_rows = [
                Run(
                    project_id=project.id,
                    metric_ids=[m.id for m in metrics],
                    metric_version_ids=[v.id for v in versions],
                    status="completed",
                    source=["api", "github", "kickoff"][index % 3],
                    created_at=start + timedelta(hours=index),
                )
                for index in range(runs)
            ]
            session.add_all(run_rows)
            session.flush()
            project_id, ok_id, run_ids = project.id, metrics[0].id, [run.id for run in run_rows]
            version_ids = [v.id for v in versions]
        per_run = records // runs
        record_id = 0
        with engine.begin() as conn:
            for run_index, run_id in enumerate(run_ids):
                rows, scores = [], []
                for n in range(per_run):
                    record_id += 1
                    topic = SEARCH_WORD if rng.random() < 0.05 else rng.choice(VOCABULARY)
                    rows.append(
                        {
                            "id": record_id,
                            "run_id": run_id,
                            "testcase_id": n + 1,
                            "inputs": {"question": f"About my {topic}: {_words(rng, 12)}"},
                            "expected": {"answer": _words(rng, 8)},
                            "outputs": {"answer": _words(rng, 20)},
                            "created_at": start + timedelta(hours=run_index, milliseconds=10 * n),
                        }
                    )
                    human_pending = rng.random() < 0.3
                    for version_id, body in zip(
                        version_ids,
                        [{"binaryScore": rng.random() < 0.8}, {"intScore": rng.randint(1, 5)}, {"binaryScore": True}],
                        strict=True,
                    ):
                        pending = version_id == version_ids[2] and human_pending
                        scores.append(
                            {
                                "run_id": run_id,
                                "record_id": record_id,
                                "metric_version_id": version_id,
                                "scored_by": "human" if version_id == version_ids[2] else "ai",
                                "status": "pending" if pending else "scored",
                                "score": None if pending else body,
                                "user_id": "bench",
                                "attempts": 0,
                                "fresh": False,
                                "created_at": start,
                                "updated_at": start,
                            }
                        )
                for table, batch in ((table_of(Record), rows), (table_of(Score), scores)):
                    for offset in range(0, len(batch), CHUNK):
                        conn.execute(insert(table), batch[offset : offset + CHUNK])
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT setval(pg_get_serial_sequence('record', 'id'), :n)"), {"n": record_id})
            conn.execute(text("ANALYZE"))  # what autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) keeps
    finally:
        engine.dispose()
    return project_id, ok_id


def p95_ms(url: str, api_key: str, params: dict, requests_count: int) -> float:
    timings = []
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {api_key}"
        for attempt in range(requests_count + 2):
            started = time.perf_counter()
            answer = http.get(url, params=params | {"limit": PAGE}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200 or not answer.json()["data"]:
                raise ServerFailed(f"{params} answered {answer.status_code}: {answer.text[:300]}")
            if attempt >= 2:  # the first two warm the server's caches and connections
                timings.append(elapsed)
    return statistics.quantiles(timings, n=20, method="inclusive")[18]


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    name = f"scorecard_bench_records_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure(name: str, database_url: str, args: argparse.Namespace) -> list[str]:
    db.upgrade(database_url)
    started = time.perf_counter()
    project_id, ok_id = seed(database_url, args.records, args.runs)
    print(
        f"{name}: seeded {args.records:,} records x 3 metrics in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    kinds = {
        "no filter": {},
        "full-text search": {"q": SEARCH_WORD},
        "metric fail filter": {"filter": f"metric.{ok_id}:fail"},
        "search + filter": {"q": SEARCH_WORD, "filter": f"metric.{ok_id}:fail"},
    }
    lines = []
    with bench_server(database_url) as server:
        url = f"{server.api_url}/projects/{project_id}/records"
        for kind, params in kinds.items():
            p95 = p95_ms(url, server.api_key, params, args.requests)
            verdict = "PASS" if p95 < TARGET_MS else "MISS"
            lines.append(f"records {name}: {kind}: p95 {p95:.0f} ms (target < {TARGET_MS} ms {verdict})")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the project (default 100,000)")
    parser.add_argument("--runs", type=int, default=50, help="runs they spread over (default 50)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per query kind (default 40)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="a PostgreSQL server URL; '' skips it")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 records over 5 runs, 5 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.runs, args.requests = 500, 5, 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="scorecard-bench-records-") as workdir:
            lines = measure("sqlite", f"sqlite:///{Path(workdir) / 'scorecard.db'}", args)
        if args.postgres:
            with postgres_database(args.postgres) as url:
                lines += measure("postgresql", url, args)
    except ServerFailed as failure:
        print(f"records: the server failed: {failure}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
