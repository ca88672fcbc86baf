"""The GitHub events the service acts on, one module per feature: each registers its handlers
with ``router`` for the (event, action) pairs it handles; anything else is acknowledged and
ignored."""

from __future__ import annotations

from . import installation, issue_comment, pull_request, workflow_run  # noqa: F401  (they register)
from .routing import Event, router

__all__ = ["Event", "router"]
