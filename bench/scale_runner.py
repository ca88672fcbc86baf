"""The Action's runner at 1,000, 10,000 and 100,000 testcases: time per record and peak memory.

Starts `scorecard serve` on a fresh SQLite database with a project, one heuristic metric (exact
match: cheap to score, so the server stays quiet between runs) and one testset per size. The
testcases are inserted straight into the database with one Core insert per 10,000 (the bulk API
takes 100 a request: ~1,000 requests for the largest testset, which would dominate the bench);
the runner still reads them through the API, page by page. Then, per size, ``python -m runner``
runs as a child process with the environment the Action sets, calling a Python function that
answers at once (concurrency 32, not waiting for scores), and the bench records:

- time per record: the runner process's wall time, start to exit (every record uploaded and the
  run's execution ended), divided by the testcases;
- peak RSS: the runner process's ``VmHWM`` (its own high-water mark, not the worker's), read from
  ``/proc`` while it runs.

Targets: time per record at 100k within 1.2x of 1k, peak RSS at 100k at most 1.5x of 1k. The
smaller sizes take the best of ``--rounds``; the largest runs once. Each run is left to be scored
before the next starts.

    python -m bench.scale_runner [--sizes 1000 10000 100000] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import insert
from sqlmodel import Session

from bench._server import BenchServer, bench_server
from bench.runner import EXECUTION_LINE, METRIC, REPO_ROOT, SCHEMA, SYSTEM_MODULE, BenchFailed, verdict, write_system
from scorecard_core.client import ApiError
from scorecard_core.db import make_engine
from scorecard_core.models import Testcase, utcnow

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (200, 2_000)
CONCURRENCY = 32
INSERT_CHUNK = 10_000
RSS_POLL_SECONDS = 0.02
SETTLE_TIMEOUT = 600
TARGET_TIME_RATIO = 1.2
TARGET_RSS_RATIO = 1.5


@dataclass
class Figures:
    testcases: int
    seconds: float  # the runner process, start to exit
    execution: float  # its calls and uploads, as it reports them
    peak_rss_kib: int

    @property
    def ms_per_record(self) -> float:
        return self.seconds * 1000 / self.testcases

    def line(self) -> str:
        return (
            f"runner at scale: {self.testcases} testcases: {self.ms_per_record:.3f} ms per record "
            f"({self.seconds:.2f} s start to exit, calls and uploads {self.execution:.2f} s), "
            f"peak RSS {self.peak_rss_kib / 1024:.1f} MiB"
        )


class ScaleProject:
    """A project with one heuristic metric; testsets seeded straight into the server's database."""

    def __init__(self, server: BenchServer, database_url: str):
        self.server = server
        self.engine = make_engine(database_url)
        client = server.client()
        project = client.post("/projects", {"name": "runner at scale", "description": "bench/scale_runner.py"})
        self.project_id = str(project["id"])
        self.metric_id = str(client.post(f"/projects/{self.project_id}/metrics", METRIC)["id"])

    def testset(self, size: int) -> str:
        testset = self.server.client().post(
            f"/projects/{self.project_id}/testsets",
            {
                "name": f"{size} questions",
                "jsonSchema": SCHEMA,
                "fieldMapping": {"inputs": ["question"], "expected": ["answer"]},
            },
        )
        now = utcnow()
        with Session(self.engine) as session:
            for start in range(0, size, INSERT_CHUNK):
                rows = [
                    {
                        "testset_id": testset["id"],
                        "json_data": {"question": f"q{i}", "answer": f"answer to q{i}"},
                        "created_at": now,
                    }
                    for i in range(start, min(start + INSERT_CHUNK, size))
                ]
                session.execute(insert(Testcase), rows)
            session.commit()
        return str(testset["id"])

    def settle_latest_run(self, size: int) -> None:
        """Wait until the newest run is scored and check it holds one record per testcase."""
        client = self.server.client()
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (run := client.get(f"/projects/{self.project_id}/runs", limit=1)["data"][0])["status"] not in (
            "completed",
            "error",
        ):
            if time.monotonic() > deadline:
                raise BenchFailed(f"run {run['id']} still {run['status']} after {SETTLE_TIMEOUT} s")
            time.sleep(0.2)
        if run["numRecords"] != size:
            raise BenchFailed(f"run {run['id']} holds {run['numRecords']} records, expected {size}")


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) if line else None


def run_runner(project: ScaleProject, testset_id: str, size: int, system_dir: Path) -> Figures:
    server = project.server
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SCORECARD_"))},
        "SCORECARD_API_URL": server.api_url,
        "SCORECARD_API_KEY": server.api_key,
        "SCORECARD_PROJECT_ID": project.project_id,
        "SCORECARD_TESTSET_ID": testset_id,
        "SCORECARD_METRIC_IDS": project.metric_id,
        "SCORECARD_SYSTEM": f"{SYSTEM_MODULE}:instant",
        "SCORECARD_PYTHON": sys.executable,
        "SCORECARD_WORKING_DIRECTORY": str(system_dir),
        "SCORECARD_CONCURRENCY": str(CONCURRENCY),
        "SCORECARD_WAIT_FOR_SCORES": "false",
        "SCORECARD_COMMENT": "false",
    }
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "runner"], cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr
        )
        peak = 0
        finished = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not finished.is_set():
                peak = max(peak, _vm_hwm_kib(process.pid) or 0)
                finished.wait(RSS_POLL_SECONDS)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            process.wait(timeout=SETTLE_TIMEOUT)
        finally:
            elapsed = time.perf_counter() - started
            finished.set()
            watcher.join()
            if process.poll() is None:
                process.kill()
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    if process.returncode != 0:
        raise BenchFailed(f"the runner exited with {process.returncode}:\n{out[-2000:]}\n{err[-2000:]}")
    reported = EXECUTION_LINE.search(out)
    if reported is None:
        raise BenchFailed(f"the runner did not report its execution time:\n{out[-2000:]}")
    project.settle_latest_run(size)
    return Figures(size, elapsed, float(reported.group(1)), peak)


def measure(sizes: tuple[int, ...], rounds: int, database_url: str, server: BenchServer) -> list[Figures]:
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-system-") as system_dir:
        write_system(Path(system_dir))
        project = ScaleProject(server, database_url)
        testsets = {size: project.testset(size) for size in sizes}
        run_runner(project, testsets[sizes[0]], sizes[0], Path(system_dir))  # warm-up: cold caches
        best: list[Figures] = []
        for size in sizes:
            tries = [
                run_runner(project, testsets[size], size, Path(system_dir))
                for _ in range(rounds if size != sizes[-1] else 1)
            ]
            for figures in tries:
                print(f"  {figures.line()}", file=sys.stderr, flush=True)
            fastest = min(tries, key=lambda f: f.seconds)
            best.append(Figures(size, fastest.seconds, fastest.execution, min(f.peak_rss_kib for f in tries)))
        return best


def summary_line(small: Figures, big: Figures) -> str:
    time_ratio = big.ms_per_record / small.ms_per_record
    execution_ratio = (big.execution / big.testcases) / (small.execution / small.testcases)
    rss_ratio = big.peak_rss_kib / small.peak_rss_kib
    return (
        f"runner at scale: {big.testcases} vs {small.testcases} testcases: time per record ratio {time_ratio:.2f} "
        f"(target <= {TARGET_TIME_RATIO}) {verdict(time_ratio <= TARGET_TIME_RATIO)} (calls and uploads alone "
        f"{execution_ratio:.2f}, start-up excluded), peak RSS ratio "
        f"{rss_ratio:.2f} (target <= {TARGET_RSS_RATIO}) {verdict(rss_ratio <= TARGET_RSS_RATIO)}"
    )


def lines(quick: bool, sizes: tuple[int, ...] | None = None, rounds: int | None = None) -> list[str]:
    """One line per size, then the ratios of the largest to the smallest with their verdicts."""
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    rounds = rounds or (1 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-scale-") as workdir:
        database_url = f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        with bench_server(database_url) as server:
            figures = measure(sizes, rounds, database_url, server)
    return [*(f.line() for f in figures), summary_line(figures[0], figures[-1])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="testcase counts, smallest first (default 1000 10000 100000)"
    )
    parser.add_argument("--rounds", type=int, help="runs per size but the largest; the best counts (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 and 2,000 testcases, one round")
    args = parser.parse_args(argv)
    if args.sizes and (len(args.sizes) < 2 or min(args.sizes) < 1 or args.sizes != sorted(args.sizes)):
        parser.error("--sizes needs at least two testcase counts, smallest first")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        result = lines(args.quick, tuple(args.sizes) if args.sizes else None, args.rounds)
    except (RuntimeError, ApiError, requests.RequestException, subprocess.TimeoutExpired) as exc:
        print(f"runner scale bench failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
