"""A multi-node layout on one machine, for tests and benchmarks: web processes under gunicorn,
``scorecard worker`` processes, and a private Redis to restart; each a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from tests.support.processes import READY_TIMEOUT, SCORECARD, STOP_TIMEOUT, free_port, wait_for_api

BIN = Path(sys.executable).parent


class Child:
    """A child process whose output goes to a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, the whole process group (gunicorn's workers too): a crash."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()


class Web(Child):
    """The server's WSGI app under gunicorn, ``workers`` processes on one port."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2, threads: int = 8):
        self.port = free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api/v2"
        command = [str(BIN / "gunicorn"), "-w", str(workers), "--threads", str(threads)]
        super().__init__([*command, "-b", f"127.0.0.1:{self.port}", "server.wsgi:app"], env, log_path)

    def wait_until_ready(self) -> None:
        wait_for_api(self.api_url, self.process, self.log)


class WorkerProcess(Child):
    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 64):
        super().__init__([str(SCORECARD), "worker", "--concurrency", str(concurrency)], env, log_path)


class PrivateRedis(Child):
    """A Redis of our own on a free port, keeping nothing on disk, so a restart loses every message."""

    def __init__(self, log_path: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        super().__init__(command, {}, log_path)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return
            except redis.RedisError:
                assert self.alive() and time.monotonic() < deadline, f"redis-server did not start:\n{self.log()}"
                time.sleep(0.05)

    def restarted(self) -> PrivateRedis:
        """Kill this Redis (its queued messages are lost) and start a new one on the same port."""
        self.kill()
        return PrivateRedis(self.log_path, self.port)
