"""Our real commands as child processes: the ``scorecard`` CLI and ``scorecard serve``.

Used by tests and benchmarks that need a separate server process (restarts, crashes, honest
timings), talking to it over HTTP on loopback only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

SCORECARD = Path(sys.executable).with_name("scorecard")
CLI_TIMEOUT = 120
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def run_cli(
    *args: str, database_url: str | None = None, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``scorecard`` command; ``database_url`` goes in as SCORECARD_DATABASE_URL,
    ``env_extra`` adds to its environment."""
    assert SCORECARD.exists(), f"the `scorecard` console script is not installed next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if k != "SCORECARD_DATABASE_URL"} | (env_extra or {})
    if database_url is not None:
        env["SCORECARD_DATABASE_URL"] = database_url
    return subprocess.run(
        [str(SCORECARD), *args], env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )


def create_api_key(database_url: str, name: str = "test") -> str:
    created = run_cli("api-key", "create", "--name", name, database_url=database_url)
    if created.returncode != 0:
        raise RuntimeError(f"scorecard api-key create failed: {created.stderr}")
    return created.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_api(api_url: str, process: subprocess.Popen, log: Callable[[], str]) -> None:
    """Poll the API until it answers; fail fast if the process dies."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready:\n{log()}")
        try:
            if requests.get(f"{api_url}/openapi.json", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready within {READY_TIMEOUT:.0f} s:\n{log()}")


class ServerProcess:
    """``scorecard serve`` on a free loopback port, its output appended to a log file."""

    def __init__(self, database_url: str, log_path: Path, env: dict[str, str] | None = None, threads: int = 8):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/v2"
        self.log_path = log_path
        full_env = {**os.environ, **(env or {}), "SCORECARD_DATABASE_URL": database_url}
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SCORECARD), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(threads)],
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        wait_for_api(self.api_url, self.process, self.log)

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"server ignored SIGTERM for {STOP_TIMEOUT:.0f} s:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def serving(
    database_url: str, log_path: Path, env: dict[str, str] | None = None, threads: int = 8
) -> Iterator[ServerProcess]:
    server = ServerProcess(database_url, log_path, env, threads)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.kill()  # only if a failure left it running
