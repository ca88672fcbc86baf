"""The ``scorecard`` command: serve, work on a queue, upgrade the database, manage API keys and GitHub
connections, run the demo. One module per command group."""

from __future__ import annotations

from .base import main
from .demo import demo
from .github import github_group
from .keys import api_key_group, db_group
from .serve import serve
from .worker import worker

for command in (serve, worker, db_group, api_key_group, demo, github_group):
    main.add_command(command)

__all__ = ["main"]
