"""GitHub App installations: remember which installation serves each connected repository, so
App authentication asks GitHub for the right installation's token without looking it up."""

from __future__ import annotations

import logging

from .connections import clear_installation, set_installation
from .routing import Event, router

log = logging.getLogger(__name__)


def _names(repositories: list[dict] | None) -> list[str]:
    return [r["full_name"] for r in repositories or [] if r.get("full_name")]


@router.register("installation", "created", "new_permissions_accepted", "unsuspend")
def remember_installation(event: Event) -> None:
    installation_id = event.payload["installation"]["id"]
    updated = set_installation(event.engine, _names(event.payload.get("repositories")), installation_id)
    log.info("installation %s covers %d connected repositories", installation_id, updated)


@router.register("installation", "deleted")
def forget_installation(event: Event) -> None:
    clear_installation(event.engine, event.payload["installation"]["id"])


@router.register("installation_repositories", "added", "removed")
def update_installation_repositories(event: Event) -> None:
    installation_id = event.payload["installation"]["id"]
    set_installation(event.engine, _names(event.payload.get("repositories_added")), installation_id)
    removed = _names(event.payload.get("repositories_removed"))
    if removed:
        clear_installation(event.engine, installation_id, removed)
