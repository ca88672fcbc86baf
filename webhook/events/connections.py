"""The projects connected to a repository: GitHub names are case-insensitive, and several
projects may evaluate the same repository."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from scorecard_core.db import session_scope
from scorecard_core.models import GitHubConnection, utcnow

_table = GitHubConnection.__table__


def connections_for(engine: Engine, repo: str) -> list[GitHubConnection]:
    if not repo:
        return []
    with session_scope(engine) as session:
        statement = (
            select(GitHubConnection)
            .where(func.lower(GitHubConnection.repo) == repo.lower())
            .order_by(GitHubConnection.project_id)
        )
        return list(session.exec(statement))


def set_installation(engine: Engine, repos: Iterable[str], installation_id: int) -> int:
    """Record which App installation serves these repositories; the count of connections updated."""
    names = [r.lower() for r in repos]
    if not names:
        return 0
    with engine.begin() as connection:
        return connection.execute(
            update(_table)
            .where(func.lower(_table.c.repo).in_(names))
            .values(installation_id=installation_id, updated_at=utcnow())
        ).rowcount


def clear_installation(engine: Engine, installation_id: int, repos: Iterable[str] | None = None) -> int:
    """Forget an installation (uninstalled), or only for ``repos`` (removed from it)."""
    condition = _table.c.installation_id == installation_id
    if repos is not None:
        condition &= func.lower(_table.c.repo).in_([r.lower() for r in repos])
    with engine.begin() as connection:
        return connection.execute(
            update(_table).where(condition).values(installation_id=None, updated_at=utcnow())
        ).rowcount
