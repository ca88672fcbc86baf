"""The project page at scale: a project with 30 runs of 5,000 records x 3 metrics.

The database is seeded directly with Core inserts (a fresh SQLite file, or ``--database-url``):
records, their scores (passes, fails, judge errors, scores that do not fit their metric, failed
system calls), then each run refreshed once as the scoring engine refreshes it, which keeps its
figures. The real server process (`scorecard serve`) then serves the page to a signed-in browser
session over HTTP; the bench prints the p95 of the page's time (target < 150 ms) and, for
context, what summarizing the listed runs from every score takes in this process.

    python -m bench.project_page [--runs 30] [--records 5000] [--requests 40] [--quick]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import insert
from sqlmodel import col, select

from bench._seeding import awaiting_scoring, metric_versions
from bench._server import ServerFailed, bench_server
from scorecard_core import db, report_queries
from scorecard_core.models import Project, Record, Run, Score, utcnow
from scorecard_core.scoring.lifecycle import refresh_run, scored_by

TARGET_MS = 150.0
LISTED_RUNS = 20  # the runs list's page size; the history charts read up to 30 runs
EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}
SIMILAR = {"type": "similarity", "outputField": "answer", "expectedField": "answer"}
METRICS = [
    ("Exact", "heuristic", "boolean", EXACT),
    ("Similar", "heuristic", "int", SIMILAR),
    ("Faithful", "human", "float", None),
]


def _score(output_type: str, index: int) -> tuple[str, dict | None, str | None, list | None]:
    """Status, score, error and validation errors of record ``index``'s score: mostly scored,
    every 50th a judge error, every 97th a score that does not fit its metric."""
    if index % 50 == 7:
        return "error", None, f"judge timed out after {index % 3 + 1} attempts", None
    if index % 97 == 3:
        return "scored", {"intScore": 9}, None, [{"path": "/intScore", "message": "must be an integer from 1 to 5"}]
    value = {"boolean": {"binaryScore": index % 4 != 0}, "int": {"intScore": index % 5 + 1}}.get(
        output_type, {"floatScore": (index % 10) / 10}
    )
    return "scored", {**value, "reasoning": "seeded"}, None, None


def seed(url: str, runs: int, records: int) -> int:
    """The project, its metrics and ``runs`` completed runs; returns the project's ID."""
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        project = Project(name="bench project page")
        session.add(project)
        session.flush()
        version_info = metric_versions(session, project.id, METRICS)
        project_id = project.id
    for _ in range(runs):
        with db.session_scope(engine) as session:
            run = awaiting_scoring(session, project_id, version_info, records)
            _seed_run(session, run.id, records, version_info)
            refresh_run(session, run)
    engine.dispose()
    return project_id


def _seed_run(session, run_id: int, records: int, version_info: list) -> None:
    now = utcnow()
    rows = [
        {
            "run_id": run_id,
            "inputs": {"question": f"question {i} " + "x" * 200},
            "expected": {"answer": f"a{i}"},
            "outputs": {"answer": f"a{i}" if i % 4 else "wrong"},
            "error": "RuntimeError: the system is down" if i % 200 == 11 else None,
            "created_at": now,
        }
        for i in range(records)
    ]
    ids = session.execute(insert(Record).returning(Record.id, sort_by_parameter_order=True), rows).scalars().all()
    scores = [
        {
            "run_id": run_id,
            "record_id": record_id,
            "metric_version_id": version_id,
            "scored_by": scored_by(config),
            "status": status,
            "score": score,
            "error": error,
            "validation_errors": problems,
            "user_id": "background-job",
            "created_at": now,
            "updated_at": now,
        }
        for index, (record_id, row) in enumerate(zip(ids, rows))
        if row["error"] is None
        for version_id, _metric_id, config in version_info
        for status, score, error, problems in [_score(config["output_type"], index)]
    ]
    for start in range(0, len(scores), 10_000):
        session.execute(insert(Score), scores[start : start + 10_000])


def signed_in(base_url: str, api_key: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{base_url}/sign-in", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        raise ServerFailed("the sign-in page has no CSRF token")
    answer = browser.post(f"{base_url}/sign-in", data={"api_key": api_key, "csrf_token": token.group(1)}, timeout=10)
    if answer.status_code != 200:
        raise ServerFailed(f"signing in answered {answer.status_code}")
    return browser


def time_page(browser: requests.Session, url: str, count: int) -> list[float]:
    """Milliseconds per page, after two warm-up requests."""
    timings = []
    for index in range(count + 2):
        started = time.perf_counter()
        page = browser.get(url, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        if page.status_code != 200 or "Runs" not in page.text:
            raise ServerFailed(f"the project page answered {page.status_code}")
        if index >= 2:
            timings.append(elapsed)
    return timings


def scanning_ms(url: str, runs: int) -> float:
    """What summarizing the listed runs and the history's runs from every score takes."""
    engine = db.make_engine(url)
    with db.session_scope(engine) as session:
        listed = session.exec(select(Run).order_by(col(Run.id).desc()).limit(runs)).all()
        started = time.perf_counter()
        for position, run in enumerate(listed):
            report_queries.summarize(session, run)
            if position < LISTED_RUNS:  # the runs list and the charts each read these
                report_queries.summarize(session, run)
        elapsed = (time.perf_counter() - started) * 1000
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--database-url", help="a migrated, empty database (default: a fresh SQLite file)")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.records, args.requests = 10, 100, 5

    with tempfile.TemporaryDirectory(prefix="scorecard-bench-") as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        db.upgrade(url)
        started = time.perf_counter()
        project_id = seed(url, args.runs, args.records)
        seeded_s = time.perf_counter() - started
        scan = scanning_ms(url, args.runs)
        with bench_server(database_url=url) as server:
            base_url = server.api_url.removesuffix("/api/v2")
            browser = signed_in(base_url, server.api_key)
            timings = time_page(browser, f"{base_url}/projects/{project_id}", args.requests)

    p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
    print(
        f"project page: {args.runs} runs x {args.records:,} records x {len(METRICS)} metrics "
        f"(seeded in {seeded_s:.1f} s): p95 {p95:.0f} ms, median {statistics.median(timings):.0f} ms "
        f"over {len(timings)} requests (reading every score instead: {scan:.0f} ms) "
        f"target < {TARGET_MS:.0f} ms {'PASS' if p95 < TARGET_MS else 'MISS'}"
    )


if __name__ == "__main__":
    main()
