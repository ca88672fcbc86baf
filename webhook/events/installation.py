"""GitHub App installations: remember which installation serves each connected repository, so
App authentication asks GitHub for the right installation's token without looking it up."""

from __future__ import annotations

import logging

from scorecard_core.ids import ID_PROBLEM, parse_id

from .connections import clear_installation, set_installation
from .routing import Event, router

log = logging.getLogger(__name__)


def _names(repositories: list[dict] | None) -> list[str]:
    return [r["full_name"] for r in repositories or [] if r.get("full_name")]


def _installation_id(event: Event) -> int:
    """The payload's installation ID; one no key column can hold fails the delivery, naming it."""
    installation_id = parse_id(event.payload["installation"]["id"])
    if installation_id is None:
        raise ValueError(f"`installation.id` {ID_PROBLEM}")
    return installation_id


@router.register("installation", "created", "new_permissions_accepted", "unsuspend")
def remember_installation(event: Event) -> None:
    installation_id = _installation_id(event)
    updated = set_installation(event.engine, _names(event.payload.get("repositories")), installation_id)
    log.info("installation %s covers %d connected repositories", installation_id, updated)


@router.register("installation", "deleted")
def forget_installation(event: Event) -> None:
    clear_installation(event.engine, _installation_id(event))


@router.register("installation_repositories", "added", "removed")
def update_installation_repositories(event: Event) -> None:
    installation_id = _installation_id(event)
    set_installation(event.engine, _names(event.payload.get("repositories_added")), installation_id)
    removed = _names(event.payload.get("repositories_removed"))
    if removed:
        clear_installation(event.engine, installation_id, removed)
