"""``scorecard worker``: a Celery worker for scoring, server runs, webhook deliveries and results."""

from __future__ import annotations

import click

from scorecard_core.settings import Settings

from .base import database_option


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1024),
    default=None,
    help="Judge and model calls at once in this worker.  [default: $SCORECARD_WORKER_CONCURRENCY or 64]",
)
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
@database_option
def worker(concurrency: int | None, loglevel: str, database_url: str | None) -> None:
    """Work on the queue at SCORECARD_BROKER_URL (Redis or RabbitMQ), beside `scorecard serve`."""
    flags = {"database_url": database_url, "worker_concurrency": concurrency}
    settings = Settings.load({name: value for name, value in flags.items() if value is not None})
    if not settings.broker_url:
        raise click.UsageError(
            "SCORECARD_BROKER_URL is not set: a worker takes its work from a broker, e.g. "
            "SCORECARD_BROKER_URL=redis://127.0.0.1:6379/0 (set the same on the web processes)"
        )
    from server.workers.app import run_worker

    run_worker(settings, loglevel.upper())
