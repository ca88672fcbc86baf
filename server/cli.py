"""The ``scorecard`` command: serve, upgrade the database, manage API keys, run the demo."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

import click
from click.core import ParameterSource
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from scorecard_core import apikeys, db, links
from scorecard_core.client import ScorecardClient
from scorecard_core.errors import BadRequest, ScorecardError
from scorecard_core.ids import MAX_ID
from scorecard_core.settings import (
    SERVE_CHANNEL_TIMEOUT,
    SERVE_CONNECTION_LIMIT,
    SERVE_THREADS,
    InvalidSetting,
    Settings,
)

DATABASE_BACKENDS = ("sqlite", "postgresql")
DATABASE_URL_FORMS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def _checked_database_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A URL for a database we support and whose driver is installed; else one line naming where
    the URL came from (the flag or the variable) and the forms accepted."""
    if value is None:
        return None
    source = (
        "SCORECARD_DATABASE_URL"
        if ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT
        else "--database-url"
    )
    try:
        url = make_url(value)
    except ArgumentError:
        raise BadRequest(f"{source} is not a database URL; give {DATABASE_URL_FORMS}") from None
    if url.get_backend_name() not in DATABASE_BACKENDS:
        raise BadRequest(f"{source}: {url.get_backend_name()} is not supported; give {DATABASE_URL_FORMS}")
    try:
        url.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError):
        raise BadRequest(
            f"{source}: the database driver {url.drivername!r} is not installed; give {DATABASE_URL_FORMS}"
        ) from None
    return value


def _database_option(func):
    return click.option(
        "--database-url",
        envvar="SCORECARD_DATABASE_URL",
        default=None,
        callback=_checked_database_url,
        help="SQLAlchemy URL (default: SQLite in $SCORECARD_DATA_DIR).",
    )(func)


class ScorecardGroup(click.Group):
    """Prints our own errors, bad flags and settings, and a database or address we cannot use, as
    one line and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # click's own would add the usage lines
            command = exc.ctx.command_path if exc.ctx else "scorecard"
            click.echo(f"error: {exc.format_message()} (see `{command} --help`)", err=True)
            sys.exit(exc.exit_code)
        except (ScorecardError, InvalidSetting) as exc:
            click.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
            sys.exit(1)
        except OperationalError as exc:
            reason = str(exc.orig or exc).splitlines()[0]
            hint = "check --database-url or SCORECARD_DATABASE_URL"
            click.echo(f"error: cannot use the database ({reason}); {hint}", err=True)
            sys.exit(1)
        except OSError as exc:  # e.g. a data directory that cannot be created
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=ScorecardGroup)
@click.version_option(package_name="scorecard-github", prog_name="scorecard")
def main() -> None:
    """Scorecard runs from GitHub: self-hosted Scorecard-compatible server and tools."""


PORT = click.IntRange(1, 65535)


@main.command()
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
@_database_option
def serve(
    host: str,
    port: int,
    threads: int | None,
    connection_limit: int | None,
    channel_timeout: int | None,
    database_url: str | None,
) -> None:
    """Upgrade the database, then serve the API (production-grade WSGI server)."""
    from server import create_app
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
    _check_host(options.host, options.port)
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
    finally:
        app.extensions["scorecard.engine"].dispose()


def _check_host(host: str, port: int) -> None:
    """Resolved before anything starts: waitress reports a name it cannot resolve only as
    "Invalid host/port"."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BadRequest(
            f"--host {host}: not an address, nor a name this machine can resolve "
            f"({exc.strerror}); give an IP address such as 127.0.0.1 or 0.0.0.0"
        ) from None


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


@main.group(name="db")
def db_group() -> None:
    """Database schema management."""


@db_group.command()
@_database_option
def upgrade(database_url: str | None) -> None:
    """Apply every pending migration (user data is kept)."""
    url = _database_url(database_url)
    db.upgrade(url)
    click.echo(f"database is up to date: {db.redacted(url)}")


@main.group(name="api-key")
def api_key_group() -> None:
    """Create, list and revoke API keys."""


def _database_url(flag: str | None) -> str:
    return flag or Settings().database_url


def _session(database_url: str | None):
    url = _database_url(database_url)
    db.upgrade(url)
    return db.session_scope(db.make_engine(url))


@api_key_group.command("create")
@click.option("--name", required=True, help="A label to recognise the key by.")
@_database_option
def create_key(name: str, database_url: str | None) -> None:
    """Create a key and print it once (only its hash is stored)."""
    with _session(database_url) as session:
        _row, plaintext = apikeys.create_key(session, name)
    click.echo(plaintext)


@api_key_group.command("revoke")
@click.argument("name_or_prefix")
@_database_option
def revoke_key(name_or_prefix: str, database_url: str | None) -> None:
    """Revoke the active keys with this name (or key prefix)."""
    with _session(database_url) as session:
        revoked = apikeys.revoke(session, name_or_prefix)
    click.echo(f"revoked {len(revoked)} key(s)")


@api_key_group.command("list")
@_database_option
def list_keys(database_url: str | None) -> None:
    """List keys: name, prefix, created, revoked."""
    with _session(database_url) as session:
        rows = apikeys.list_keys(session)
        if not rows:
            click.echo("no API keys yet; create one with `scorecard api-key create --name NAME`")
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.name}\t{row.prefix}…\t{row.created_at:%Y-%m-%d}\t{state}")


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the demo's SQLite database goes (default: a new temporary directory).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, type=click.IntRange(0, 65535), help="Port to serve on (default: any free port).")
@click.option(
    "--serve/--no-serve", default=None, help="Keep serving after the demo (default: only when run in a terminal)."
)
def demo(data_dir: Path | None, host: str, port: int, serve: bool | None) -> None:
    """Run the demo: server on SQLite, seeded project, URL and API key printed."""
    from server import demo as demo_module

    _check_host(host, port)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="scorecard-demo-"))
    click.echo(f"==> starting the Scorecard server (SQLite in {data_dir})", err=True)
    server, key, project = demo_module.start(data_dir, host, port)
    click.echo("==> seeded the demo project through the REST API", err=True)
    click.echo("==> evaluating the demo system through the runner, as the GitHub Action does", err=True)
    gate_code = demo_module.run_through_runner(server, key, project, data_dir)
    client = ScorecardClient(f"{server.url}/api/v2", key)
    run, summary = demo_module.latest_run(client, project)
    client.http.close()
    click.echo("")
    click.echo(f"Server URL:   {server.url}")
    click.echo(f"API base URL: {server.url}/api/v2")
    click.echo(f"API key:      {key}")
    click.echo(f"Run URL:      {links.run_url(server.url, project.project_id, run['id'])}")
    click.echo(f"Run status:   {run['status']} ({run['numRecords']} records, {run['numScores']} scores)")
    for metric in summary["metrics"]:
        rate = "n/a" if metric["passRate"] is None else f"{metric['passRate']:.1%}"
        click.echo(f"  {metric['name']:<24} pass rate {rate:>6}  ({metric['passed']}/{metric['scored']} passed)")
    overall = summary["passRate"]
    verdict = "met" if gate_code == 0 else "missed"
    click.echo(
        f"Overall pass rate {overall:.1%}; the fail-under threshold {demo_module.DEMO_FAIL_UNDER} was {verdict}."
    )
    click.echo(f"The job summary the Action would post: {data_dir / 'job-summary.md'}")
    if serve is None:
        serve = sys.stdin.isatty() and sys.stdout.isatty()
    if not serve:
        server.stop()
        click.echo(
            f"(server stopped; serve the same data again with: "
            f"scorecard serve --database-url sqlite:///{data_dir / 'scorecard.db'})",
            err=True,
        )
        return
    click.echo("Serving until Ctrl-C.", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


@main.group(name="github")
def github_group() -> None:
    """Connect projects to their GitHub repositories."""


# Which option sets each field of the connection, to name it in errors.
CONNECT_OPTIONS = {
    "repo": "--repo",
    "branch": "--branch",
    "workflow": "--workflow",
    "dispatch": "--dispatch",
    "eventType": "--event-type",
    "testsetId": "--testset",
    "metricIds": "--metrics",
    "systemVersionId": "--system-version",
    "failUnder": "--fail-under",
    "token": "--token-env",
    "appId": "--app-id",
    "installationId": "--installation-id",
    "privateKey": "--private-key-file",
}


def _read_private_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise BadRequest(f"--private-key-file: {path} is not a PEM private key (it is not text)") from None


@github_group.command("connect")
@click.option(
    "--project", "project_id", type=click.IntRange(1, MAX_ID), required=True, help="The project's numeric ID."
)
@click.option("--repo", required=True, help="The repository, `owner/name`.")
# String options left out take the connection's defaults (the API's), named in their help.
@click.option("--branch", help="The branch kickoffs run the workflow on.  [default: main]")
@click.option("--workflow", help="The workflow file under .github/workflows.  [default: scorecard-eval.yml]")
@click.option(
    "--dispatch",
    type=click.Choice(["workflow_dispatch", "repository_dispatch"]),
    help="How runs are started.  [default: workflow_dispatch]",
)
@click.option("--event-type", help="The repository_dispatch event type.  [default: start-evaluation]")
@click.option(
    "--on-kickoff/--no-on-kickoff",
    default=True,
    show_default=True,
    help="Start runs from Scorecard's Kickoff Run -> GitHub.",
)
@click.option(
    "--on-pull-request/--no-on-pull-request",
    default=False,
    show_default=True,
    help="Evaluate pull requests (needs --testset and --metrics).",
)
@click.option(
    "--on-merge/--no-on-merge",
    default=False,
    show_default=True,
    help="Evaluate merges to the branch (needs --testset and --metrics).",
)
@click.option("--testset", "testset_id", default=None, help="Testset for pull-request and merge evaluations.")
@click.option("--metrics", default="", help="Comma-separated metric IDs for them, e.g. `12,34`.")
@click.option("--system-version", "system_version_id", default=None, help="System version for them.")
@click.option("--fail-under", default="", help="Commit status thresholds, e.g. `0.8, Exact answer=0.9`.")
@click.option(
    "--token-env",
    metavar="VAR",
    default=None,
    help="Authenticate with the GitHub token in this environment variable (the token itself never "
    "goes on the command line).",
)
@click.option("--app-id", default=None, help="Authenticate as this GitHub App (with --private-key-file).")
@click.option(
    "--private-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The GitHub App's private key (PEM).",
)
@click.option(
    "--installation-id",
    type=int,
    default=None,
    help="The App's installation ID (default: looked up from the repository).",
)
@_database_option
def github_connect(
    project_id: int,
    repo: str,
    branch: str | None,
    workflow: str | None,
    dispatch: str | None,
    event_type: str | None,
    on_kickoff: bool,
    on_pull_request: bool,
    on_merge: bool,
    testset_id: str | None,
    metrics: str,
    system_version_id: str | None,
    fail_under: str,
    token_env: str | None,
    app_id: str | None,
    private_key_file: Path | None,
    installation_id: int | None,
    database_url: str | None,
) -> None:
    """Connect a project to its repository (replaces any connection it has); secrets are never printed."""
    from scorecard_core.bodies import validate
    from scorecard_core.connections import ConnectionUpsert, save_connection, wire

    if token_env and (app_id or private_key_file):
        raise BadRequest("give either --token-env or --app-id with --private-key-file, not both")
    token = os.environ.get(token_env, "").strip() if token_env else None
    if token_env and not token:
        raise BadRequest(f"--token-env: the environment variable {token_env} is not set or empty")
    values = {
        "repo": repo,
        "branch": branch,
        "workflow": workflow,
        "dispatch": dispatch,
        "eventType": event_type,
        "onKickoff": on_kickoff,
        "onPullRequest": on_pull_request,
        "onMerge": on_merge,
        "testsetId": testset_id,
        "metricIds": [m for m in metrics.replace(" ", ",").split(",") if m],
        "systemVersionId": system_version_id,
        "failUnder": fail_under,
        "auth": "token" if token_env else "app" if app_id or private_key_file else "default",
        "token": token,
        "appId": app_id,
        "installationId": installation_id,
        "privateKey": _read_private_key(private_key_file) if private_key_file else None,
    }
    try:
        body = validate(ConnectionUpsert, {k: v for k, v in values.items() if v is not None})
        with _session(database_url) as session:
            connection = wire(save_connection(session, project_id, body))
    except ScorecardError as exc:
        field = str(exc.details.get("field", "")).split(".")[0]
        if field in CONNECT_OPTIONS:
            exc.message = f"{exc.message} (set by {CONNECT_OPTIONS[field]})"
        raise
    click.echo(f"connected project {connection['projectId']} to {connection['repo']}")
    for name, value in connection.items():
        if name not in ("projectId", "repo") and value not in (None, "", []):
            click.echo(f"  {name}: {', '.join(value) if isinstance(value, list) else value}")
