"""Fixtures: databases (SQLite and PostgreSQL), a live server on loopback, API keys, clients.

Every server test runs twice, on SQLite and on the PostgreSQL at 127.0.0.1:5432. Outside CI a
missing PostgreSQL skips its half; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from werkzeug.serving import WSGIRequestHandler, make_server

from scorecard_core import apikeys, db
from scorecard_core.client import ScorecardClient
from server import create_app, executions, monitoring, scoring
from tests.fakes.openai_server import FakeOpenAI

POSTGRES_ADMIN_URL = os.environ.get("SCORECARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker more than the cores. Many tests wait on servers and subprocesses,
    so a core would otherwise idle while its worker waits (on 2 cores: 7.9 instead of 8.6 minutes)."""
    return (os.cpu_count() or 1) + 1


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "scorecard.db"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"scorecard_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001  (any connection failure means: no PostgreSQL here)
        admin.dispose()
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            )
            .scalars()
            .all()
        )
        # A connection an earlier test leaked (idle in transaction) would block this forever:
        # fail fast instead, so the leak shows.
        conn.execute(text("SET LOCAL lock_timeout = '15s'"))
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "scorecard.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """For tests that are about behaviour, not the database engine."""
    path = tmp_path / "scorecard.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


class QuietHandler(WSGIRequestHandler):
    disable_nagle_algorithm = True  # no ~40 ms delayed-ACK stall per keep-alive response

    def log_request(self, *args, **kwargs) -> None:  # keep test output readable
        pass


class LiveServer:
    """Our Flask app served over real HTTP on a free loopback port, in a thread."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self.api_url = f"{self.url}/api/v2"
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def new_api_key(self, name: str = "test") -> str:
        with db.session_scope(self.app.extensions["scorecard.engine"]) as session:
            _row, key = apikeys.create_key(session, name)
        return key

    def stop(self) -> None:
        self._server.shutdown()
        scoring.stop(self.app)
        executions.stop(self.app)
        monitoring.stop(self.app)
        self._thread.join(timeout=5)
        self.app.extensions["scorecard.engine"].dispose()


def start_server(database_url: str, **config) -> LiveServer:
    return LiveServer(create_app({"DATABASE_URL": database_url, "UPGRADE_DATABASE": False, **config}))


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def server(database_url, fake_openai) -> Iterator[LiveServer]:
    live = start_server(
        database_url, OPENAI_BASE_URL=fake_openai.url, OPENAI_API_KEY="test-key", SCORING_LEASE_SECONDS=5.0
    )
    yield live
    live.stop()


@pytest.fixture
def api_key(server) -> str:
    return server.new_api_key()


@pytest.fixture
def client(server, api_key) -> ScorecardClient:
    return ScorecardClient(server.api_url, api_key, max_retries=0)


def wait_for_run(client: ScorecardClient, run_id: str, statuses=("completed", "error"), timeout: float = 30.0) -> dict:
    """Poll until the run reaches one of ``statuses``; fails with the last state seen."""
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/runs/{run_id}")
        if run["status"] in statuses:
            return run
        if time.monotonic() > deadline:
            pytest.fail(
                f"run {run_id} did not reach {statuses} in {timeout}s: {run['status']} {run.get('statusDetail')}"
            )
        time.sleep(0.05)


@pytest.fixture
def sdk(server, api_key):
    from scorecard_ai import Scorecard

    return Scorecard(api_key=api_key, base_url=server.api_url, max_retries=0)
