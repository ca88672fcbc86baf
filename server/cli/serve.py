"""``scorecard serve``: upgrade the database, then serve the API and UI under waitress."""

from __future__ import annotations

import errno
import signal
import sys

import click

from scorecard_core.errors import BadRequest
from scorecard_core.settings import SERVE_CHANNEL_TIMEOUT, SERVE_CONNECTION_LIMIT, SERVE_THREADS, Settings

from .base import check_host, database_option

PORT = click.IntRange(1, 65535)


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 for every interface (behind a reverse proxy).",
)
@click.option("--port", default=8000, show_default=True, type=PORT)
@click.option(
    "--threads",
    type=click.IntRange(*SERVE_THREADS),
    default=None,
    help="Requests handled at once.  [default: $SCORECARD_THREADS or 8]",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(*SERVE_CONNECTION_LIMIT),
    default=None,
    help="Open connections (slow ones included) before new ones wait.  [default: $SCORECARD_CONNECTION_LIMIT or 1000]",
)
@click.option(
    "--channel-timeout",
    type=click.IntRange(*SERVE_CHANNEL_TIMEOUT),
    default=None,
    help="Seconds a connection may stay silent before it is closed.  [default: $SCORECARD_CHANNEL_TIMEOUT or 60]",
)
@database_option
def serve(
    host: str,
    port: int,
    threads: int | None,
    connection_limit: int | None,
    channel_timeout: int | None,
    database_url: str | None,
) -> None:
    """Upgrade the database, then serve the API (production-grade WSGI server)."""
    from server import create_app, executions, monitoring
    from server.serving import ServeOptions, raise_descriptor_limit

    flags = {
        "database_url": database_url,
        "serve_threads": threads,
        "serve_connection_limit": connection_limit,
        "serve_channel_timeout": channel_timeout,
    }
    settings = Settings.load({name: value for name, value in flags.items() if value is not None})
    options = ServeOptions(
        host, port, settings.serve_threads, settings.serve_connection_limit, settings.serve_channel_timeout
    )
    check_host(options.host, options.port)
    warning = raise_descriptor_limit(options.connection_limit)
    if warning:
        click.echo(warning, err=True)
    app = create_app(settings)
    try:
        server = _listen(app, options)
        click.echo(f"Scorecard server on http://{host}:{port}  (API: http://{host}:{port}/api/v2)", err=True)
        # SIGTERM (docker stop, systemd, CI) stops like Ctrl-C: waitress finishes in-flight requests.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            executions.stop(app)  # runs being executed resume when the server starts again
            monitoring.stop(app)
    finally:
        app.extensions["scorecard.engine"].dispose()


def _listen(app, options):
    """The listening server, or one line naming the address that cannot be used and why."""
    from server.serving import create_server
    from server.settings import settings_of

    address = f"{options.host}:{options.port}"
    try:
        return create_server(app, options, settings_of(app).max_body_bytes)
    except OSError as exc:
        reasons = {
            errno.EADDRINUSE: "the address is already in use (another server?); stop it or choose another --port",
            errno.EADDRNOTAVAIL: "the --host is not an address of this machine",
            errno.EACCES: "permission denied (ports below 1024 need privileges); choose another --port",
        }
        raise BadRequest(f"cannot listen on {address}: {reasons.get(exc.errno, exc.strerror or exc)}") from None
