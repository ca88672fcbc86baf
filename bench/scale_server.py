"""The server, and the reports built from it, with 100,000 records in one run: time and peak memory.

Seeds a fresh database (SQLite, or ``--database-url``) straight with Core inserts: a testset of
100,000 testcases and two completed runs of it (the second is the first's baseline), one record
per testcase (~600 bytes of JSON), each scored by two heuristic metrics (boolean and int), a
quarter of them failing and every 200th call failed; each run is then refreshed once, as the
scoring engine does (on PostgreSQL the tables are then vacuumed and analyzed, as autovacuum soon
would; our server never analyzes a SQLite database, so neither does the bench). Then `scorecard
serve` serves it, and each of these is timed over HTTP with the server process's peak RSS above
what it held before (``VmHWM`` reset through ``/proc/<pid>/clear_refs``):

- the run's record listing through the API: the first page, and every page walked (100 a page);
- the run's page in the UI (figures, evidence with the baseline, the first page of records);
- the CSV export: first bytes and the whole body;
- the run's summary and its comparison with the baseline through the API;
- the report the Action's runner builds (``runner.cli.build_report``: every record listed with its
  scores, against the baseline's, then the job summary and PR comment rendered), in a child
  process of its own whose peak RSS is read from ``/proc``.

    python -m bench.scale_server [--records 100000] [--database-url URL] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests
from sqlalchemy import insert, text
from sqlmodel import col, select

from bench._seeding import awaiting_scoring, metric_versions
from bench._server import BenchServer, ServerFailed, bench_server
from bench.project_page import signed_in
from scorecard_core import db
from scorecard_core.models import Project, Record, Run, Score, Testcase, Testset, utcnow
from scorecard_core.scoring.lifecycle import refresh_run, scored_by

REPO_ROOT = Path(__file__).resolve().parents[1]
CHUNK = 10_000
METRICS = [
    ("Exact", "boolean", {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}),
    ("Similar", "int", {"type": "similarity", "outputField": "answer", "expectedField": "answer"}),
]
PADDING = "lorem ipsum dolor sit amet " * 8


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1])


def seed(url: str, records: int) -> tuple[int, int, int]:
    """The project, its testset and two completed runs (IDs: run, baseline)."""
    engine = db.make_engine(url)
    now = utcnow()
    with db.session_scope(engine) as session:
        project = Project(name="server at scale")
        session.add(project)
        session.flush()
        testset = Testset(project_id=project.id, name="questions", json_schema={}, field_mapping={})
        session.add(testset)
        session.flush()
        version_info = metric_versions(session, project.id, ((n, "heuristic", o, h) for n, o, h in METRICS))
        for start in range(0, records, CHUNK):
            session.execute(
                insert(Testcase),
                [
                    {"testset_id": testset.id, "json_data": {"question": f"q{i}"}, "created_at": now}
                    for i in range(start, min(start + CHUNK, records))
                ],
            )
        testcase_ids = session.exec(
            select(col(Testcase.id)).where(col(Testcase.testset_id) == testset.id).order_by(col(Testcase.id))
        ).all()
        project_id, testset_id = project.id, testset.id
    run_ids = []
    for shift in (0, 1):
        with db.session_scope(engine) as session:
            run = awaiting_scoring(session, project_id, version_info, records, testset_id)
            for start in range(0, records, CHUNK):
                _seed_records(session, id_of_run(run), testcase_ids[start : start + CHUNK], start, shift, version_info)
            refresh_run(session, run)
            run_ids.append(id_of_run(run))
    if engine.dialect.name == "postgresql":  # what autovacuum does soon after such an insert
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return project_id, run_ids[1], run_ids[0]


def id_of_run(run: Run) -> int:
    assert run.id is not None
    return run.id


def _seed_records(session, run_id: int, testcase_ids, first: int, shift: int, version_info: list) -> None:
    now = utcnow()
    rows = [
        {
            "run_id": run_id,
            "testcase_id": testcase_id,
            "inputs": {"question": f"question {i} {PADDING}"},
            "expected": {"answer": f"a{i}"},
            "outputs": {"answer": f"a{i}" if (i + shift) % 4 else f"wrong {PADDING}"},
            "error": "RuntimeError: the system is down" if i % 200 == 11 else None,
            "duration_ms": 40.0 + i % 17,
            "created_at": now,
        }
        for i, testcase_id in enumerate(testcase_ids, start=first)
    ]
    ids = session.execute(insert(Record).returning(Record.id, sort_by_parameter_order=True), rows).scalars().all()
    scores = [
        {
            "run_id": run_id,
            "record_id": record_id,
            "metric_version_id": version_id,
            "scored_by": scored_by(config),
            "status": "scored",
            "score": {"binaryScore": passed}
            if config["output_type"] == "boolean"
            else {"intScore": 5 if passed else 2},
            "user_id": "background-job",
            "created_at": now,
            "updated_at": now,
        }
        for record_id, row in zip(ids, rows)
        if row["error"] is None
        for version_id, _metric_id, config in version_info
        for passed in [not row["outputs"]["answer"].startswith("wrong")]
    ]
    session.execute(insert(Score), scores)


class Meter:
    """Times a request to the server and its peak RSS above what the server held before it."""

    def __init__(self, server: BenchServer):
        self.pid = server.pid
        self.results: list[str] = []

    def measure(self, name: str, request: Callable[[], str | None]) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM restarts from the current RSS
        before = _kib(self.pid, "VmRSS")
        started = time.perf_counter()
        note = request()
        elapsed = time.perf_counter() - started
        peak = _kib(self.pid, "VmHWM") - before
        extra = f", {note}" if note else ""
        self.results.append(f"{name}: {elapsed * 1000:.0f} ms, server peak RSS {peak / 1024:+.1f} MiB{extra}")
        print(f"  {self.results[-1]}", file=sys.stderr, flush=True)


def _ok(answer: requests.Response) -> requests.Response:
    if answer.status_code != 200:
        raise ServerFailed(f"{answer.url} answered {answer.status_code}: {answer.text[:500]}")
    return answer


def walk_records(server: BenchServer, run_id: int) -> str:
    client = server.client()
    count = sum(1 for _ in client.paginate(f"/runs/{run_id}/records", limit=100))
    return f"{count} records"


def stream_csv(api: requests.Session, url: str) -> str:
    started = time.perf_counter()
    first_bytes = None
    size = 0
    with _ok(api.get(url, stream=True, timeout=600)) as answer:
        for chunk in answer.iter_content(chunk_size=65536):
            if first_bytes is None:
                first_bytes = time.perf_counter() - started
            size += len(chunk)
    return f"first bytes after {(first_bytes or 0) * 1000:.0f} ms, {size / 2**20:.0f} MiB"


def report_in_child(server: BenchServer, project_id: int, run_id: int, baseline_id: int) -> str:
    """The runner's report, built in a child process; its time and peak RSS."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SCORECARD_"))},
        "SCORECARD_API_URL": server.api_url,
        "SCORECARD_API_KEY": server.api_key,
        "SCORECARD_PROJECT_ID": str(project_id),
        "SCORECARD_TESTSET_ID": "1",
        "SCORECARD_METRIC_IDS": "1",
        "SCORECARD_SYSTEM": "unused:run",
        "SCORECARD_RUN_ID": str(run_id),
        "SCORECARD_BASELINE_RUN_ID": str(baseline_id),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale_server", "--report-child"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise ServerFailed(f"building the report failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout.strip()


def report_child() -> None:
    """In the child: build and render the report as the runner does; print time and peak RSS."""
    from runner.cli import build_report, gate_policy
    from runner.config import load
    from runner.scorecard_api import RunnerApi
    from scorecard_core.client import ScorecardClient
    from scorecard_core.markdown import render

    config = load()
    api = RunnerApi(ScorecardClient(config.api_url, config.api_key))
    started = time.perf_counter()
    run = api.get_run(str(config.run_id))
    context, _results = build_report(config, api, run, "http://127.0.0.1/run", gate_policy(config))
    summary, comment = render(context, max_chars=1_000_000), render(context, max_chars=65_536)
    elapsed = time.perf_counter() - started
    peak = _kib(os.getpid(), "VmHWM") / 1024
    print(
        f"runner report (job summary {len(summary) // 1024} KiB, comment {len(comment) // 1024} KiB): "
        f"{elapsed * 1000:.0f} ms, peak RSS {peak:.1f} MiB"
    )


def lines(quick: bool, records: int | None = None, database_url: str | None = None) -> list[str]:
    records = records or (2_000 if quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-") as workdir:
        url = database_url or f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        db.upgrade(url)
        started = time.perf_counter()
        project_id, run_id, baseline_id = seed(url, records)
        seeded = time.perf_counter() - started
        with bench_server(database_url=url) as server:
            base_url = server.api_url.removesuffix("/api/v2")
            browser = signed_in(base_url, server.api_key)
            api = requests.Session()
            api.headers["Authorization"] = f"Bearer {server.api_key}"
            meter = Meter(server)
            runs = f"{server.api_url}/runs/{run_id}"
            meter.measure("records API, first page", lambda: _ok(api.get(f"{runs}/records?limit=100")) and None)
            meter.measure("records API, every page", lambda: walk_records(server, run_id))
            meter.measure(
                "run page (UI)", lambda: _ok(browser.get(f"{base_url}/projects/{project_id}/runs/{run_id}")) and None
            )
            meter.measure("CSV export", lambda: stream_csv(api, f"{runs}/export.csv"))
            meter.measure("summary API", lambda: _ok(api.get(f"{runs}/summary")) and None)
            meter.measure("compare API", lambda: _ok(api.get(f"{runs}/compare?baselineRunId={baseline_id}")) and None)
            meter.measure("runner report", lambda: report_in_child(server, project_id, run_id, baseline_id))
    head = f"server at scale: {records:,} records x {len(METRICS)} metrics per run, 2 runs (seeded in {seeded:.0f} s)"
    return [head, *(f"server at scale: {line}" for line in meter.results)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, help="records per run (default 100,000)")
    parser.add_argument("--database-url", help="a migrated, empty database (default: a fresh SQLite file)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 records per run")
    parser.add_argument("--report-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.report_child:
        report_child()
        return 0
    try:
        result = lines(args.quick, args.records, args.database_url)
    except (RuntimeError, requests.RequestException, subprocess.TimeoutExpired) as exc:
        print(f"server scale bench failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
