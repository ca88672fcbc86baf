"""Scale part (a): AI scoring throughput on the embedded engine, one worker and two workers.

20,000 AI scores (10,000 records x 2 metrics, judge cache off) judged by the fake OpenAI server
answering in 200 ms, on PostgreSQL. Each mode starts from the same pending scores: the records
are seeded once through a server with scoring off, and between modes every score is reset to
pending. Throughput is the scores over the time from the first score stored to the last (the
processes' start-up, a second or two in every mode, is printed but left out):

- embedded: `scorecard serve` scoring in-process (SCORECARD_SCORING_CONCURRENCY = C);
- workers: `scorecard worker --concurrency C` processes on Redis, no web process at all (their
  sweep finds the pending work, as it would after a broker restart).

Prints scores/s per mode and the ratios (target: two workers >= 1.7x one, where the judge and
not the CPU is the limit).

    python -m bench.scale_scoring [--scores 20000] [--concurrency 64] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, text
from sqlmodel import Session, col, select

from bench._server import bench_server
from bench.records import DEFAULT_POSTGRES, postgres_database
from scorecard_core import db
from scorecard_core.models import Score
from tests.fakes.openai_server import FakeOpenAI
from tests.support.ai_runs import ai_run
from tests.support.cluster import WorkerProcess
from tests.support.processes import ServerProcess

JUDGE_DELAY = 0.2
METRICS = 2
TARGET_TWO_WORKERS = 1.7
BENCH_REDIS = "redis://127.0.0.1:6379/13"


def seed(database_url: str, records: int) -> None:
    """A run whose records wait with pending AI scores (seeded with scoring off)."""
    with bench_server(database_url, env={"SCORECARD_SCORING_ENABLED": "false"}) as server:
        ai_run(server.client(), records, METRICS, judge_cache=False, batch=500)


def reset(database_url: str) -> int:
    """Every score pending again, as before the first mode; returns how many."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        count = conn.execute(
            text(
                "UPDATE score SET status = 'pending', score = NULL, error = NULL, usage = NULL, "
                "lease_until = NULL, attempts = 0"
            )
        ).rowcount
        conn.execute(text("UPDATE run SET status = 'running_scoring'"))
        conn.execute(text("DELETE FROM judge_cache"))
    engine.dispose()
    return count


def wait_until_scored(database_url: str, total: int, children: list, timeout: float) -> None:
    engine = create_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with Session(engine) as session:
                done = session.exec(select(func.count()).where(col(Score.status).in_(("scored", "error")))).one()
            if done >= total:
                return
            for child in children:
                if child.process.poll() is not None:
                    raise RuntimeError(f"a process exited:\n{child.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done:,} of {total:,} scores stored in {timeout:.0f} s")
            time.sleep(0.1)
    finally:
        engine.dispose()


def measure(mode: str, database_url: str, judge: FakeOpenAI, concurrency: int, workdir: Path) -> float:
    """Scores per second of one mode, from its processes' start to the last score stored."""
    total = reset(database_url)
    env = {
        "SCORECARD_DATABASE_URL": database_url,
        "SCORECARD_OPENAI_BASE_URL": judge.url,
        "OPENAI_API_KEY": "bench",
        "SCORECARD_WORKER_SWEEP_SECONDS": "1",
    }
    started = time.perf_counter()
    if mode == "embedded":
        children: list = [
            ServerProcess(
                database_url, workdir / "serve.log", env={**env, "SCORECARD_SCORING_CONCURRENCY": str(concurrency)}
            )
        ]
    else:
        redis.Redis.from_url(BENCH_REDIS).flushdb()
        workers = 1 if mode == "one worker" else 2
        children = [
            WorkerProcess({**env, "SCORECARD_BROKER_URL": BENCH_REDIS}, workdir / f"worker{i}.log", concurrency)
            for i in range(workers)
        ]
    try:
        ideal = total * JUDGE_DELAY / concurrency
        wait_until_scored(database_url, total, children, timeout=10 * ideal + 60)
        elapsed = time.perf_counter() - started
    finally:
        for child in children:
            child.kill()
    scoring = scoring_seconds(database_url)
    rate = total / scoring
    print(
        f"  {mode}: {total:,} scores stored over {scoring:.1f} s ({elapsed:.1f} s with start-up), {rate:,.0f} scores/s",
        file=sys.stderr,
    )
    return rate


def scoring_seconds(database_url: str) -> float:
    """From the first score stored to the last: the processes' start-up (the same for every
    mode, a second or two) is left out of the throughput."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        first, last = conn.execute(text("SELECT min(updated_at), max(updated_at) FROM score")).one()
    engine.dispose()
    return (last - first).total_seconds()


def lines(quick: bool, scores: int | None = None, concurrency: int | None = None) -> list[str]:
    scores = scores or (200 if quick else 20_000)
    concurrency = concurrency or (16 if quick else 64)
    with (
        postgres_database(DEFAULT_POSTGRES) as database_url,
        FakeOpenAI(delay=JUDGE_DELAY) as judge,
        tempfile.TemporaryDirectory(prefix="scorecard-bench-") as workdir,
    ):
        db.upgrade(database_url)
        seed(database_url, scores // METRICS)
        rates = {
            mode: measure(mode, database_url, judge, concurrency, Path(workdir))
            for mode in ("embedded", "one worker", "two workers")
        }
    two_over_one = rates["two workers"] / rates["one worker"]
    verdict = "PASS" if two_over_one >= TARGET_TWO_WORKERS else "MISS"
    return [
        f"scale (a) scoring: {scores:,} AI scores, 200 ms judge, concurrency {concurrency} per process: "
        f"embedded {rates['embedded']:,.0f}/s, one worker {rates['one worker']:,.0f}/s, "
        f"two workers {rates['two workers']:,.0f}/s; one worker / embedded "
        f"{rates['one worker'] / rates['embedded']:.2f}x, two workers / one {two_over_one:.2f}x "
        f"(target >= {TARGET_TWO_WORKERS}x) {verdict}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scores", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="smoke size: 200 scores, concurrency 16")
    args = parser.parse_args()
    for line in lines(args.quick, args.scores, args.concurrency):
        print(line)


if __name__ == "__main__":
    main()
