"""``scorecard db`` and ``scorecard api-key``: the schema and the keys, straight on the database."""

from __future__ import annotations

import click

from scorecard_core import apikeys, db

from .base import database_option, database_url_of, session_for


@click.group(name="db")
def db_group() -> None:
    """Database schema management."""


@db_group.command()
@database_option
def upgrade(database_url: str | None) -> None:
    """Apply every pending migration (user data is kept)."""
    url = database_url_of(database_url)
    db.upgrade(url)
    click.echo(f"database is up to date: {db.redacted(url)}")


@click.group(name="api-key")
def api_key_group() -> None:
    """Create, list and revoke API keys."""


@api_key_group.command("create")
@click.option("--name", required=True, help="A label to recognise the key by.")
@database_option
def create_key(name: str, database_url: str | None) -> None:
    """Create a key and print it once (only its hash is stored)."""
    with session_for(database_url) as session:
        _row, plaintext = apikeys.create_key(session, name)
    click.echo(plaintext)


@api_key_group.command("revoke")
@click.argument("name_or_prefix")
@database_option
def revoke_key(name_or_prefix: str, database_url: str | None) -> None:
    """Revoke the active keys with this name (or key prefix)."""
    with session_for(database_url) as session:
        revoked = apikeys.revoke(session, name_or_prefix)
    click.echo(f"revoked {len(revoked)} key(s)")


@api_key_group.command("list")
@database_option
def list_keys(database_url: str | None) -> None:
    """List keys: name, prefix, created, revoked."""
    with session_for(database_url) as session:
        rows = apikeys.list_keys(session)
        if not rows:
            click.echo("no API keys yet; create one with `scorecard api-key create --name NAME`")
        for row in rows:
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            click.echo(f"{row.name}\t{row.prefix}…\t{row.created_at:%Y-%m-%d}\t{state}")
