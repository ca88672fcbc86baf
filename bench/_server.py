"""Our real server for benchmarks: `scorecard serve` as its own process on a fresh database.

The server gets a new SQLite file in a temporary directory (or the database URL given) and one
API key made with `scorecard api-key create`, as a user would set it up; benches talk to it over
HTTP on loopback only, so client and server costs are what they are in production. Starting and
stopping the process is shared with the tests that restart the server (tests/support/processes.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scorecard_core.client import ScorecardClient
from tests.support.processes import ServerProcess, create_api_key, serving


class ServerFailed(RuntimeError):
    """The server answered wrongly; startup failures raise RuntimeError too."""


@dataclass
class BenchServer:
    process: ServerProcess
    api_key: str

    @property
    def api_url(self) -> str:
        return self.process.api_url

    @property
    def pid(self) -> int:
        """For attaching a profiler (py-spy record --pid)."""
        return self.process.process.pid

    def client(self) -> ScorecardClient:
        """A new REST client (its own HTTP session) that fails fast instead of retrying."""
        return ScorecardClient(self.api_url, self.api_key, max_retries=0)


@contextmanager
def bench_server(
    database_url: str | None = None, threads: int = 8, env: dict[str, str] | None = None
) -> Iterator[BenchServer]:
    """Serve until the block ends (``env`` adds to the server's environment); the temporary
    database and log go with it."""
    with tempfile.TemporaryDirectory(prefix="scorecard-bench-") as workdir:
        url = database_url or f"sqlite:///{Path(workdir) / 'scorecard.db'}"
        api_key = create_api_key(url, name="bench")
        with serving(url, Path(workdir) / "server.log", env=env, threads=threads) as process:
            yield BenchServer(process, api_key)
