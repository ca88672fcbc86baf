"""The workers' Celery app, configured from the environment as the server is
(``SCORECARD_BROKER_URL``), for ``scorecard worker`` and for Celery's own tooling::

    celery -A server.workers.app inspect active     # what each worker is doing
    celery -A server.workers.app flower             # the Flower dashboard (pip install flower)
"""

from __future__ import annotations

import os
from typing import Any

from celery import signals

from scorecard_core.settings import Settings

from .queue import celery_app
from .scoring import AI_BATCH
from .tasks import register
from .worker import current_worker, start_worker, stop_worker

_settings = Settings.load()
if not _settings.broker_url:
    raise RuntimeError(
        "SCORECARD_BROKER_URL is not set: set it to the broker the server uses, e.g. redis://host:6379/0"
    )

celery = celery_app(_settings.broker_url)
register(celery)


def pool_threads(settings: Settings) -> int:
    """Celery's threads: enough score batches to keep ``worker_concurrency`` judge calls busy,
    one per run executing at once, and two for publishing and webhook deliveries."""
    return -(-settings.worker_concurrency // AI_BATCH) + settings.execution_concurrency + 2


def run_worker(settings: Settings, loglevel: str = "INFO") -> None:
    """Start this process's worker and serve tasks until stopped (SIGTERM finishes the tasks in hand)."""
    start_worker(settings.worker_concurrency, settings)
    try:
        celery.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={pool_threads(settings)}",
                f"--loglevel={loglevel}",
                f"--hostname=scorecard-{os.getpid()}@%h",  # several workers per host get distinct names
                "--without-gossip",
            ]
        )
    finally:
        stop_worker()


@signals.worker_init.connect
def _started_by_celery(**_: Any) -> None:
    """``celery -A server.workers.app worker`` works too: the worker is built from the environment."""
    try:
        current_worker()
    except RuntimeError:
        start_worker(_settings.worker_concurrency, _settings)
