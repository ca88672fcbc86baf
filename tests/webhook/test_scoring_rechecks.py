"""The standalone service waiting for a hosted run's scores: it looks at the run again on a
schedule rather than sleeping in a job worker, so other deliveries go on meanwhile, and it gives
up after a bounded time, saying so."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from scorecard_core.polling import Backoff
from scorecard_core.run_status import FINISHED
from tests.conftest import LiveServer
from tests.webhook.conftest import Sender, example
from tests.webhook.test_app import pr_run, standalone_config
from tests.webhook.test_events import workflow_run
from webhook.app import create_app
from webhook.service import EXTENSION, WebhookService


@pytest.fixture
def one_worker(server, api_key, tmp_path, github, project) -> Iterator[LiveServer]:
    """The standalone service with a single job worker: any delivery that held it would hold up
    every other."""
    config = {**standalone_config(server, api_key, tmp_path, github, project), "WEBHOOK_JOB_CONCURRENCY": 1}
    live = LiveServer(create_app(config))
    assert service(live).jobs.concurrency == 1
    yield live
    service(live).jobs.shutdown()  # drops the looks still scheduled
    live.stop()


def service(live: LiveServer) -> WebhookService:
    return live.app.extensions[EXTENSION]


def test_a_run_still_scoring_does_not_hold_up_other_deliveries(one_worker, client, project):
    run = pr_run(client, project, 801)  # nothing uploads to it: it never finishes
    sender = Sender(one_worker)
    waiting = f"workflow-{uuid.uuid4()}"
    assert sender.send("workflow_run", workflow_run(801, "success"), waiting).status_code == 202

    other = f"pull-request-{uuid.uuid4()}"
    assert sender.send("pull_request", example("pull_request", "opened"), other).status_code == 202
    assert sender.wait(other, timeout=10).status == "processed"
    assert sender.delivery(waiting).status == "processing", "the wait for the run's scores ended early"
    assert client.get(f"/runs/{run['id']}")["status"] not in FINISHED


def test_the_wait_for_scores_gives_up_and_the_delivery_says_so(one_worker, client, project, caplog):
    service(one_worker).scoring_checks = Backoff(first=0.05, longest=0.2, give_up_after=1.0)
    run = pr_run(client, project, 802)
    with caplog.at_level(logging.ERROR):
        delivery = Sender(one_worker).deliver("workflow_run", workflow_run(802, "success"))
    assert delivery.status == "failed"
    status = client.get(f"/runs/{run['id']}")["status"]
    expected = f"run {run['id']} is still `{status}` after 0 minutes; its results were not posted"
    assert f"run {run['id']}: ScoringTimedOut: {expected}" in delivery.error
    assert "redeliver the workflow_run webhook to try again" in delivery.error
    assert any(expected in record.getMessage() or expected in (record.exc_text or "") for record in caplog.records)
