"""What every ``scorecard`` command shares: the group that prints errors as one line, the
`--database-url` option, and the checks made before anything starts."""

from __future__ import annotations

import socket
import sys

import click
from click.core import ParameterSource
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from scorecard_core import db
from scorecard_core.errors import BadRequest, ScorecardError
from scorecard_core.settings import Settings

DATABASE_BACKENDS = ("sqlite", "postgresql")
DATABASE_URL_FORMS = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def checked_database_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
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


def database_option(func):
    return click.option(
        "--database-url",
        envvar="SCORECARD_DATABASE_URL",
        default=None,
        callback=checked_database_url,
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
        except ScorecardError as exc:
            click.echo(f"error: {exc.message}", err=True)
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


def check_host(host: str, port: int) -> None:
    """Resolved before anything starts: waitress reports a name it cannot resolve only as
    "Invalid host/port"."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise BadRequest(
            f"--host {host}: not an address, nor a name this machine can resolve "
            f"({exc.strerror}); give an IP address such as 127.0.0.1 or 0.0.0.0"
        ) from None


def database_url_of(flag: str | None) -> str:
    return flag or Settings().database_url


def session_for(database_url: str | None):
    url = database_url_of(database_url)
    db.upgrade(url)
    return db.session_scope(db.make_engine(url))
