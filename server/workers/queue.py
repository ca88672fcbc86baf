"""Sending work to the workers: messages by task name, so a web process needs none of the
workers' code. A broker that cannot be reached loses nothing: the work is in the database, and
the workers' sweep finds it once the broker is back (the sender is told, for a caller that must
answer for it, such as a webhook delivery GitHub can redeliver)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Celery is the `workers` extra: imported only where a broker is configured
    from celery import Celery

    from webhook.events import Event

log = logging.getLogger(__name__)

QUEUE_EXTENSION = "scorecard.queue"
# Task names: the contract between the senders and tasks.py.
SCORE = "scorecard.score"
DISPATCH = "scorecard.dispatch"
EXECUTE = "scorecard.execute"
PUBLISH = "scorecard.publish"
DELIVER = "scorecard.deliver"

# A send gives up after about a second of broker trouble rather than holding a request.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.1, "interval_step": 0.3, "interval_max": 0.5}


class QueueUnavailable(RuntimeError):
    """The broker did not take the message."""


def celery_app(broker_url: str) -> Celery:
    try:
        from celery import Celery
    except ImportError:
        raise RuntimeError(
            "SCORECARD_BROKER_URL is set but Celery is not installed: pip install 'scorecard-github[workers]'"
        ) from None
    app = Celery("scorecard", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A worker takes one message per free thread: work spreads over every worker.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A worker that loses the broker keeps reconnecting instead of exiting.
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        task_default_queue="scorecard",
    )
    if broker_url.startswith(("redis://", "rediss://")):
        # A message only says "there is work" and the sweep finds whatever a lost one left, so
        # Redis needs no emulated acknowledgements: without them a broker restart cannot crash
        # a worker restoring its unacknowledged messages over a connection that is gone.
        app.conf.broker_transport_options = {"ack_emulation": False}
    return app


class TaskQueue:
    def __init__(self, broker_url: str):
        self.celery = celery_app(broker_url)

    def send(self, task: str, *args: Any) -> None:
        """Raises QueueUnavailable when the broker does not take it."""
        try:
            self.celery.send_task(task, args=args, retry=True, retry_policy=PUBLISH_RETRY)
        except Exception as exc:  # kombu's connection errors vary by transport
            raise QueueUnavailable(f"the broker did not take {task}: {exc}") from exc

    def nudge(self, task: str, *args: Any) -> None:
        """Send, or log and go on: for work the workers' sweep would find anyway."""
        try:
            self.send(task, *args)
        except QueueUnavailable as exc:
            log.warning("%s; the workers' sweep will find the work", exc)


def deliver_on_queue(queue: TaskQueue, event: Event) -> None:
    """A webhook delivery goes to the workers (raises QueueUnavailable: GitHub can redeliver)."""
    queue.send(DELIVER, event.name, event.action, event.payload, event.delivery_id)
