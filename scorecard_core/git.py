"""A run's git context: where in a repository an evaluation ran, written once.

The Action fills it from the workflow's environment, the webhook service from GitHub's events,
and our server stores it on runs. On the wire it is camelCase JSON with only the known values;
the PR's base branch, the event's name and whether the PR comes from a fork are the Action's own
business and never travel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Wire key -> field, for the values that travel.
WIRE_FIELDS = {
    "repo": "repo",
    "ref": "ref",
    "sha": "sha",
    "prNumber": "pr_number",
    "actionsRunUrl": "actions_run_url",
}


@dataclass(frozen=True)
class GitContext:
    repo: str | None = None
    ref: str | None = None
    sha: str | None = None
    pr_number: int | None = None
    base_ref: str | None = None
    actions_run_url: str | None = None
    event_name: str | None = None
    fork: bool = False

    def wire(self) -> dict[str, Any]:
        """The run's ``git`` JSON: the known values, under their wire names."""
        values = {key: getattr(self, name) for key, name in WIRE_FIELDS.items()}
        return {key: value for key, value in values.items() if value is not None}

    @classmethod
    def from_wire(cls, git: Mapping[str, Any] | None) -> GitContext:
        """A run's ``git`` JSON (None when the run has none) as a context."""
        known: dict[str, Any] = {name: (git or {}).get(key) for key, name in WIRE_FIELDS.items()}
        return cls(**{name: value for name, value in known.items() if value is not None})
