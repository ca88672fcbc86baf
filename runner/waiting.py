"""Waiting for scores: poll the run with backoff, bounded by a timeout, showing progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from scorecard_core.client import ScorecardClient

# Statuses after which nothing more happens without a person: stop waiting.
SETTLED = ("completed", "error", "awaiting_human_scoring")
FIRST_DELAY, MAX_DELAY = 0.5, 10.0


class ScoresTimedOut(Exception):
    def __init__(self, run: dict[str, Any], seconds: float):
        super().__init__(f"scoring of run {run['id']} had not finished after {seconds:.0f} s (status {run['status']})")
        self.run = run


def _scoring_line(run: dict[str, Any]) -> str:
    detail = run.get("statusDetail") or {}
    metrics = detail.get("metrics") or []
    parts = [f"{m['name']}: {m['scored']} scored, {m['pending']} pending, {m['errored']} errored" for m in metrics]
    return f"run {run['id']} {run['status']}" + (
        " — " + "; ".join(parts) if parts else f", {run.get('numScores', 0)} scores"
    )


def wait_for_scores(
    client: ScorecardClient,
    run_id: str,
    timeout: float,
    stream: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    stream = stream or sys.stdout
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    last_line = ""
    while True:
        run = client.get(f"/runs/{run_id}")
        line = _scoring_line(run)
        if line != last_line:
            print(line, file=stream, flush=True)
            last_line = line
        if run["status"] in SETTLED:
            return run
        if time.monotonic() + delay > deadline:
            raise ScoresTimedOut(run, timeout)
        sleep(delay)
        delay = min(delay * 1.5, MAX_DELAY)
