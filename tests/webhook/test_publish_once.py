"""A finished run is published exactly once (one commit status, one comment edit), even when the
request that ends execution and the scoring engine see the last score at the same moment.

Both used to publish whenever they found the run finished; under CPU load the kickoff flow then
set two commit statuses about one time in eight. The fix is a row lock taken before a run's
status is recomputed, so exactly one caller moves it into a finished status and reports it.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from server.settings import settings_of
from tests.conftest import wait_for_run
from tests.support.waiting import eventually
from tests.webhook.conftest import PR_HEAD_REF, PR_HEAD_SHA, REPO
from tests.webhook.kickoff_support import (
    connect,
    evaluation_fixture,  # noqa: F401  (the `evaluation` fixture)
    kick_off,
)
from tests.webhook.test_kickoff import run_workflow

FLOWS = 6  # per database: twelve flows in all (the old code published twice in several of twenty)


def _spin(stop) -> None:
    while not stop.is_set():
        pass


@contextmanager
def cpu_load(processes: int | None = None) -> Iterator[None]:
    """Two busy processes per core, like `stress --cpu 2N`: the server, the runner and the
    scoring engine all get less CPU than they want, which widens every race window."""
    stop = multiprocessing.Event()
    spinners = [
        multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
        for _ in range(processes or 2 * (os.cpu_count() or 2))
    ]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=5)
            if spinner.is_alive():
                spinner.kill()


def test_kickoffs_under_cpu_load_publish_once_each(server, client, github, evaluation, tmp_path):
    connect(client, evaluation, dispatch="workflow_dispatch", failUnder="0.8")
    run_urls = []
    with cpu_load():
        for flow in range(FLOWS):
            run = kick_off(client, evaluation, ref=PR_HEAD_REF)
            workspace = tmp_path / f"flow-{flow}"
            workspace.mkdir()
            workflow = run_workflow(client, github, workspace, "workflow_dispatch")
            assert workflow.returncode == 0, workflow.stdout + workflow.stderr
            assert wait_for_run(client, run["id"])["status"] == "completed"
            run_urls.append(
                f"{settings_of(server.app).public_url.rstrip('/')}/projects/{evaluation.project_id}/runs/{run['id']}"
            )
        eventually(lambda: len(github.statuses(REPO, PR_HEAD_SHA)) >= FLOWS, "status for every run", timeout=30)
        time.sleep(1.5)  # a second publication would come from the engine's next refresh (every 0.5 s)
    published = Counter(s.target_url for s in github.statuses(REPO, PR_HEAD_SHA))
    assert published == Counter(run_urls), "each finished run must get exactly one commit status"
    assert len(github.comments(REPO, 2)) == 1  # one sticky comment, edited by each run
