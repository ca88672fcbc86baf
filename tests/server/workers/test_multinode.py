"""The multi-node layout: two web processes under gunicorn and two ``scorecard worker``
processes on PostgreSQL and Redis, the judge a fake OpenAI server on loopback.

A 1,000-record run with two AI metrics is scored completely, with exactly one score per record
and metric, when one worker is SIGKILLed mid-run, and when the broker restarts mid-run losing
every queued message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, func, text
from sqlmodel import Session, col, select

from scorecard_core.client import ScorecardClient
from scorecard_core.models import Score
from tests.conftest import _truncate_postgres, wait_for_run
from tests.fakes.openai_server import FakeOpenAI
from tests.support.ai_runs import ai_run
from tests.support.cluster import PrivateRedis, Web, WorkerProcess
from tests.support.processes import create_api_key

RECORDS = 1_000
METRICS = 2
JUDGE_DELAY = 0.03
WORKER_CONCURRENCY = 8  # slow enough that the run is still scoring when trouble strikes
# A Redis database of the shared server's for the test that uses it, flushed first.
SHARED_REDIS_DB = 11


@pytest.fixture
def pg(postgres_url) -> str:
    _truncate_postgres(postgres_url)
    return postgres_url


@pytest.fixture
def judge() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(delay=JUDGE_DELAY) as fake:
        yield fake


def environment(database_url: str, broker_url: str, judge: FakeOpenAI) -> dict[str, str]:
    return {
        "SCORECARD_DATABASE_URL": database_url,
        "SCORECARD_BROKER_URL": broker_url,
        "SCORECARD_OPENAI_BASE_URL": judge.url,
        "OPENAI_API_KEY": "test-key",
        # Short, so a killed worker's claims lapse within the test.
        "SCORECARD_SCORING_LEASE_SECONDS": "3",
        "SCORECARD_WORKER_SWEEP_SECONDS": "1",
    }


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path):
        self.env = env
        self.logs = logs
        self.web = Web(env, logs / "web.log", workers=2)
        self.workers = [WorkerProcess(env, logs / f"worker{i}.log", WORKER_CONCURRENCY) for i in (1, 2)]

    def stop(self) -> None:
        for child in [self.web, *self.workers]:
            child.kill()

    def logs_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.logs.glob("*.log"))


@pytest.fixture
def start_cluster(tmp_path) -> Iterator[Callable[[dict[str, str]], Cluster]]:
    started: list[Cluster] = []

    def start(env: dict[str, str]) -> Cluster:
        cluster = Cluster(env, tmp_path)
        started.append(cluster)
        cluster.web.wait_until_ready()
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


def start_run(client: ScorecardClient) -> str:
    return ai_run(client, RECORDS, METRICS)


def scored(database_url: str) -> int:
    engine = create_engine(database_url)
    with Session(engine) as session:
        count = session.exec(select(func.count()).where(col(Score.status) == "scored")).one()
    engine.dispose()
    return count


def wait_until_scored(database_url: str, at_least: int, cluster: Cluster, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while scored(database_url) < at_least:
        assert all(worker.alive() for worker in cluster.workers), cluster.logs_text()
        assert time.monotonic() < deadline, f"fewer than {at_least} scores stored:\n{cluster.logs_text()}"
        time.sleep(0.1)


def assert_scored_once(database_url: str) -> None:
    """Every record has exactly one score per metric, and every score is scored."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        per_pair = conn.execute(
            text("SELECT record_id, metric_version_id, count(*) FROM score GROUP BY record_id, metric_version_id")
        ).all()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM score GROUP BY status")).all())
    engine.dispose()
    assert len(per_pair) == RECORDS * METRICS
    assert {count for *_pair, count in per_pair} == {1}
    assert statuses == {"scored": RECORDS * METRICS}


def test_a_worker_killed_mid_run_leaves_the_other_to_finish(pg, judge, start_cluster):
    shared = redis.Redis(host="127.0.0.1", port=6379, db=SHARED_REDIS_DB)
    shared.flushdb()
    cluster = start_cluster(environment(pg, f"redis://127.0.0.1:6379/{SHARED_REDIS_DB}", judge))
    client = ScorecardClient(cluster.web.api_url, create_api_key(pg), max_retries=2)
    run_id = start_run(client)

    wait_until_scored(pg, RECORDS * METRICS // 4, cluster)
    killed, survivor = cluster.workers
    killed.kill()
    assert survivor.alive()

    run = wait_for_run(client, run_id, timeout=90)
    assert run["status"] == "completed", cluster.logs_text()
    assert_scored_once(pg)
    assert run["numScores"] == RECORDS * METRICS if "numScores" in run else True


def test_a_broker_restart_mid_run_loses_nothing(pg, judge, start_cluster, tmp_path):
    broker = PrivateRedis(tmp_path / "redis.log")
    try:
        cluster = start_cluster(environment(pg, broker.url, judge))
        client = ScorecardClient(cluster.web.api_url, create_api_key(pg), max_retries=2)
        run_id = start_run(client)

        wait_until_scored(pg, RECORDS * METRICS // 4, cluster)
        broker = broker.restarted()  # every queued message is gone

        run = wait_for_run(client, run_id, timeout=90)
        assert run["status"] == "completed", cluster.logs_text()
        assert_scored_once(pg)
        assert all(worker.alive() for worker in cluster.workers), cluster.logs_text()
    finally:
        broker.kill()
