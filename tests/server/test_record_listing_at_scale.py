"""A page of a run's records costs the same in a database of millions of scores: every query the
listing runs searches by the run's or the page's records, never through every score of the
database (SQLite once searched the status index for the page's scores: 170 ms a page, and three
minutes to walk a run of 100k records)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event

from scorecard_core.client import ScorecardClient
from tests.conftest import LiveServer, start_server
from tests.server.test_scoring_lifecycle import make_project, metric, upload

EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}


@pytest.fixture
def sqlite_server(sqlite_url) -> Iterator[LiveServer]:
    server = start_server(sqlite_url)
    yield server
    server.stop()


def test_a_page_of_records_reads_only_its_own_records_scores(sqlite_server):
    client = ScorecardClient(sqlite_server.api_url, sqlite_server.new_api_key())
    project, testset, testcases = make_project(client, cases=6)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases)
    engine = sqlite_server.app.extensions["scorecard.engine"]
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        # Only the request's own queries: the scoring engine works on the same engine meanwhile.
        if "process_request" in threading.current_thread().name and statement.lstrip().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        page = client.get(f"/runs/{run['id']}/records", limit=2)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(page["data"]) == 2 and page["hasMore"]

    with engine.connect() as connection:
        plans = [
            detail
            for statement, parameters in seen
            for *_ids, detail in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        ]
    reads = [detail for detail in plans if " score" in detail or " record" in detail]
    assert reads and not [detail for detail in reads if detail.startswith("SCAN") or "ix_score_claim" in detail], plans
