"""The workers' Celery app, configured from the environment as the server is
(``SCORECARD_BROKER_URL``), for ``scorecard worker`` and for Celery's own tooling::

    celery -A server.workers.app inspect active     # what each worker is doing
    celery -A server.workers.app flower             # the Flower dashboard (pip install flower)

The app is made when first asked for (``server.workers.app.celery``), so importing this module
needs no broker.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from celery import signals

from scorecard_core.settings import Settings

from .queue import celery_app
from .scoring import AI_BATCH
from .tasks import register
from .worker import current_worker, start_worker, stop_worker

if TYPE_CHECKING:
    from celery import Celery

NO_BROKER = "SCORECARD_BROKER_URL is not set: set it to the broker the server uses, e.g. redis://host:6379/0"


def workers_app(broker_url: str | None) -> Celery:
    if not broker_url:
        raise RuntimeError(NO_BROKER)
    app = celery_app(broker_url)
    register(app)
    return app


@cache
def _from_environment() -> Celery:
    return workers_app(Settings.load().broker_url)


def __getattr__(name: str) -> Any:
    """``celery``: the app for ``celery -A server.workers.app``, made from the environment."""
    if name == "celery":
        return _from_environment()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pool_threads(settings: Settings) -> int:
    """Celery's threads: enough score batches to keep ``worker_concurrency`` judge calls busy,
    one per run executing at once, and two for publishing and webhook deliveries."""
    return -(-settings.worker_concurrency // AI_BATCH) + settings.execution_concurrency + 2


def run_worker(settings: Settings, loglevel: str = "INFO") -> None:
    """Start this process's worker and serve tasks until stopped (SIGTERM finishes the tasks in hand)."""
    app = workers_app(settings.broker_url)
    start_worker(settings.worker_concurrency, settings)
    try:
        app.worker_main(
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
        settings = Settings.load()
        start_worker(settings.worker_concurrency, settings)
