"""The workers' tasks, by the names the senders use (queue.py). Each works on this process's
``Worker`` (worker.py), built when the worker starts."""

from __future__ import annotations

from typing import Any

from celery import Celery

from webhook.events import Event, router
from webhook.receiver import process
from webhook.results import publish_results

from .queue import DELIVER, DISPATCH, EXECUTE, PUBLISH, SCORE
from .sweep import KINDS, dispatch
from .worker import current_worker


def register(celery: Celery) -> None:
    @celery.task(name=SCORE)
    def score(kind: str) -> None:
        """One batch; a full one means more may wait, so the chain goes on."""
        worker = current_worker()
        if worker.scoring.score(KINDS[kind]):
            worker.queue.send(SCORE, kind)

    @celery.task(name=DISPATCH)
    def dispatch_scores() -> None:
        worker = current_worker()
        dispatch(worker.scoring, worker.queue)

    @celery.task(name=EXECUTE)
    def execute(run_id: int, concurrency: int) -> None:
        current_worker().executions.execute_here(run_id, concurrency)

    @celery.task(name=PUBLISH)
    def publish(run_id: int) -> None:
        publish_results(current_worker().webhook, None, str(run_id))

    @celery.task(name=DELIVER)
    def deliver(name: str, action: str | None, payload: dict[str, Any], delivery_id: str) -> None:
        worker = current_worker()
        handler = router.handler(name, action)
        if handler is not None:
            process(handler, Event(name, action, payload, delivery_id, worker.webhook, worker.engine))
