"""A run's move into a finished status is claimed by exactly one caller (see lifecycle.hold_run)."""

from __future__ import annotations

import threading

from sqlalchemy import update

from scorecard_core.db import make_engine, session_scope
from scorecard_core.models import Run
from scorecard_core.scoring.lifecycle import finished_runs, refresh_run
from tests.conftest import wait_for_run
from tests.server.test_scoring_lifecycle import EXACT, make_project, metric, upload


def test_of_many_concurrent_refreshes_exactly_one_reports_the_finish(client, database_url):
    """The same race without the flow around it: eight sessions refresh a run whose scores are
    all in, at once; one of them finished it."""
    project, testset, testcases = make_project(client, cases=4)
    exact = metric(client, project, name="Exact", evalType="heuristic", outputType="boolean", heuristic=EXACT)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": [exact["id"]]})
    upload(client, run, testcases)
    client.patch(f"/runs/{run['id']}", {"status": "awaiting_scoring"})
    wait_for_run(client, run["id"])
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:  # as if the last score had just landed
            session.execute(update(Run).where(Run.id == int(run["id"])).values(status="running_scoring"))
        start = threading.Barrier(8)
        reported: list[int] = []

        def refresh() -> None:
            start.wait()
            with session_scope(engine) as session:
                refresh_run(session, session.get(Run, int(run["id"])))
            reported.extend(finished_runs(session))

        threads = [threading.Thread(target=refresh) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert reported == [int(run["id"])]
    finally:
        engine.dispose()
