"""The server with a broker: the web process (in this test's process) only sends messages, and a
``scorecard worker`` process does the work on PostgreSQL and Redis: it scores, publishes results
to the pull request, executes a kickoff's system calls (and stops them when the run is cancelled
through the web), and answers Celery's own tooling."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import update
from sqlmodel import col

from scorecard_core.db import session_scope
from scorecard_core.models import Monitor, utcnow
from server import monitoring
from tests.conftest import LiveServer, _truncate_postgres, start_server, wait_for_run
from tests.fakes.github_server import ACTIONS_TOKEN, FakeGitHub
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric
from tests.server.test_server_runs import PROMPT, SYSTEM_MODEL, judged_metric, kickoff, version_of
from tests.support.chat_spans import chat_row, store_rows
from tests.support.cluster import PrivateRedis, WorkerProcess
from tests.support.waiting import eventually
from tests.webhook import conftest as hooks
from tests.webhook.test_results import BOT_TOKEN, PR_SHA, REPO, add_repository, connect, statuses_after, upload

LEASE_SECONDS = 1.5


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        add_repository(fake)
        # GitHub's example webhook payloads' repository, for a delivery
        fake.add_repo(hooks.REPO, default_branch=hooks.PR_BASE_REF)
        fake.add_workflow(hooks.REPO, hooks.WORKFLOW)
        fake.add_pull(
            hooks.REPO,
            hooks.PR_NUMBER,
            head_sha=hooks.PR_HEAD_SHA,
            head_ref=hooks.PR_HEAD_REF,
            base_ref=hooks.PR_BASE_REF,
        )
        yield fake
        assert fake.spec_violations == []


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> Iterator[PrivateRedis]:
    """A Redis of this module's own: no other test run's worker takes its messages."""
    private = PrivateRedis(tmp_path_factory.mktemp("redis") / "redis.log")
    yield private
    private.kill()


@pytest.fixture
def settings(postgres_url, github, fake_openai, broker) -> dict[str, str]:
    _truncate_postgres(postgres_url)
    redis.Redis.from_url(broker.url).flushdb()
    return {
        "DATABASE_URL": postgres_url,
        "BROKER_URL": broker.url,
        "GITHUB_API_URL": github.url,
        "GITHUB_SECONDS_BETWEEN_WRITES": "0",
        "OPENAI_BASE_URL": fake_openai.url,
        "SCORING_LEASE_SECONDS": str(LEASE_SECONDS),
        "WORKER_SWEEP_SECONDS": "1",
        "MONITOR_SETTLE_SECONDS": "0",
    }


def as_environment(settings: dict[str, str]) -> dict[str, str]:
    return {"OPENAI_API_KEY": "test-key", **{f"SCORECARD_{name}": value for name, value in settings.items()}}


@pytest.fixture
def worker(settings, tmp_path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(as_environment(settings), tmp_path / "worker.log", concurrency=8)
    yield process
    process.stop()


@pytest.fixture
def server(settings, worker) -> Iterator[LiveServer]:
    live = start_server(
        settings["DATABASE_URL"], OPENAI_API_KEY="test-key", GITHUB_WEBHOOK_SECRETS=(hooks.SECRET,), **settings
    )
    yield live
    live.stop()


def test_scoring_and_the_pull_request_comment_come_from_the_worker(client, server, github, worker):
    assert server.app.extensions["scorecard.scoring"].__class__.__name__ == "ScoringOnWorkers"
    project, testset, testcases = make_project(client, cases=4)
    metric = client.post(
        f"/projects/{project['id']}/metrics",
        {
            "name": "Exact answer",
            "evalType": "heuristic",
            "outputType": "boolean",
            "heuristic": {"type": "exact_match", "outputField": "answer", "expectedField": "answer"},
        },
    )
    connect(client, project["id"], BOT_TOKEN)
    run = client.post(
        f"/projects/{project['id']}/runs",
        {
            "testsetId": testset["id"],
            "metricIds": [metric["id"]],
            "git": {"repo": REPO, "ref": "feature", "sha": PR_SHA, "pullRequest": 7},
        },
    )
    upload(client, run, {"testcases": testcases}, shouting=1)
    finished = wait_for_run(client, run["id"], timeout=60)
    assert finished["status"] == "completed", worker.log()

    [status] = statuses_after(github, PR_SHA, 1)
    assert status.state == "success"  # 3 of 4 pass; the connection's threshold is 75%
    [comment] = github.comments(REPO, 7)
    assert "Exact answer" in comment.body and f"/runs/{run['id']}" in comment.body
    assert "scorecard.publish" in worker.log() and "scorecard.score" in worker.log()


def test_a_due_monitor_cycle_runs_on_the_worker_and_its_run_is_scored(client, server, worker):
    assert server.app.extensions[monitoring.EXTENSION].schedule is None  # the web process runs no cycle
    project_id = client.post("/projects", {"name": "traced"})["id"]
    monitor = client.put(
        f"/projects/{project_id}/monitors", {"description": "chat", "metrics": ["Polite?"], "sampleRate": 100}
    )
    engine = server.app.extensions["scorecard.engine"]
    store_rows(engine, [chat_row(int(project_id), n, utcnow() - timedelta(minutes=1)) for n in range(1, 4)])
    with session_scope(engine) as session:  # due now, its last window ended ten minutes ago
        session.exec(
            update(Monitor)
            .where(col(Monitor.id) == int(monitor["id"]))
            .values(next_cycle_at=utcnow(), sampled_through=utcnow() - timedelta(minutes=10))
        )
    runs = eventually(
        lambda: client.get(f"/projects/{project_id}/runs", source="monitor")["data"], "the worker's cycle", 60
    )
    finished = wait_for_run(client, runs[0]["id"], timeout=60)
    assert (finished["status"], finished["numRecords"], finished["numScores"]) == ("completed", 3, 3), worker.log()


def test_a_kickoff_executes_on_the_worker_and_a_cancel_through_the_web_stops_it(client, fake_openai, worker):
    project, testset, _testcases = make_project(client, cases=40)
    judge = judged_metric(client, project)
    fake_openai.delay = 0.2
    run = kickoff(client, project, testset, [judge["id"]], version_of(client, project, PROMPT), concurrency=2)
    deadline = time.monotonic() + 60
    while client.get(f"/runs/{run['id']}")["numRecords"] < 2:
        assert time.monotonic() < deadline and worker.alive(), worker.log()
        time.sleep(0.05)
    assert "scorecard.execute" in worker.log()

    client.post(f"/runs/{run['id']}/cancel", {})
    time.sleep(LEASE_SECONDS)  # the worker's next lease renewal sees the cancel
    calls = len([r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL])
    finished = wait_for_run(client, run["id"], timeout=60)
    assert finished["status"] == "completed", finished["statusDetail"]
    assert 2 <= finished["numRecords"] < 40 and finished["numScores"] == finished["numRecords"]
    time.sleep(1.0)
    assert len([r for r in fake_openai.requests if r["model"] == SYSTEM_MODEL]) <= calls + 2  # in flight only


def test_a_webhook_delivery_is_processed_on_the_worker(client, server, github, worker):
    project, testset, _testcases = make_project(client, cases=3)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    client.put(
        f"/projects/{project['id']}/github",
        {
            "repo": hooks.REPO,
            "branch": hooks.PR_BASE_REF,
            "workflow": hooks.WORKFLOW,
            "onPullRequest": True,
            "testsetId": testset["id"],
            "metricIds": [exact["id"]],
            "auth": "token",
            "token": ACTIONS_TOKEN,
        },
    )
    delivery = hooks.Sender(server).deliver("pull_request", hooks.example("pull_request", "opened"))
    assert delivery.status == "processed", delivery.error
    (dispatch,) = github.workflow_dispatches(hooks.REPO)
    (run,) = client.paginate(f"/projects/{project['id']}/runs")
    assert dispatch.inputs["run_id"] == run["id"]
    assert "scorecard.deliver" in worker.log()


def test_celerys_own_tooling_sees_the_worker(settings, worker):
    env = {**os.environ, **as_environment(settings)}
    celery = Path(sys.executable).with_name("celery")
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run(
            [str(celery), "-A", "server.workers.app", "inspect", "ping", "--timeout", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode == 0 and "pong" in done.stdout:
            break
        assert time.monotonic() < deadline and worker.alive(), done.stdout + done.stderr + worker.log()
    assert "scorecard-" in done.stdout  # the worker's node name


def test_a_worker_without_a_broker_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_BROKER_URL"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("scorecard")), "worker"],
        env={**env, "SCORECARD_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "SCORECARD_BROKER_URL is not set" in done.stderr and "Traceback" not in done.stderr
