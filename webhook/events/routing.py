"""Which handler answers which GitHub event: each feature module registers its handlers for
the ``(event, action)`` pairs it acts on; anything else is acknowledged and ignored."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from github import GithubException
from sqlalchemy.engine import Engine

from scorecard_core.errors import ScorecardError
from scorecard_core.github_errors import github_message

from ..service import WebhookService

if TYPE_CHECKING:  # rechecks builds on this module
    from .rechecks import Later

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One verified delivery, handed to a handler on a background thread (no Flask context)."""

    name: str
    action: str | None
    payload: dict[str, Any]
    delivery_id: str
    service: WebhookService
    engine: Engine  # the database holding deliveries and GitHub connections

    @property
    def repo(self) -> str:
        return (self.payload.get("repository") or {}).get("full_name", "")


# A handler finishes its work, or hands back what must be looked at again later.
Handler = Callable[[Event], "Later | None"]


class Router:
    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def register(self, event: str, *actions: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            for action in actions:
                self._handlers[(event, action)] = handler
            return handler

        return add

    def handler(self, event: str, action: str | None) -> Handler | None:
        return self._handlers.get((event, action or ""))


router = Router()


class StepsFailed(ScorecardError):
    """Some of a delivery's independent steps failed (the others were done)."""


def run_each(steps: Iterable[tuple[str, Callable[[], None]]]) -> None:
    """Run every named step even when one fails (one project's broken setup must not stop the
    others), then fail naming each error."""
    errors = []
    for name, step in steps:
        try:
            step()
        except Exception as exc:
            log.exception("%s failed", name)
            errors.append(f"{name}: {describe(exc)}")
    if errors:
        raise StepsFailed("; ".join(errors))


def describe(exc: BaseException) -> str:
    """A short, secret-free account of a failure for the deliveries log."""
    if isinstance(exc, GithubException):
        return f"GitHub answered {exc.status}: {github_message(exc)}"
    if isinstance(exc, KeyError):  # a payload without a field GitHub always sends
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__}: {exc}"
