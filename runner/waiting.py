"""Waiting for scores: poll the run with backoff, bounded by a timeout, showing progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from scorecard_core.errors import ScorecardError
from scorecard_core.polling import Backoff, poll
from scorecard_core.run_status import SETTLED
from scorecard_core.scorecard_api import ScorecardApi

FIRST_DELAY, MAX_DELAY = 0.5, 10.0


class ScoresTimedOut(ScorecardError):
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
    api: ScorecardApi,
    run_id: str,
    timeout: float,
    stream: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The run once nothing automatic is left to do (``SETTLED``); ScoresTimedOut past ``timeout``."""
    stream = stream or sys.stdout
    last_line = ""

    def fetch() -> dict[str, Any]:
        nonlocal last_line
        run = api.get_run(run_id)
        line = _scoring_line(run)
        if line != last_line:  # one line per change, not per poll
            print(line, file=stream, flush=True)
            last_line = line
        return run

    def settled(run: dict[str, Any]) -> bool:
        return run["status"] in SETTLED

    backoff = Backoff(first=FIRST_DELAY, longest=MAX_DELAY, give_up_after=timeout, factor=1.5)
    run = poll(fetch, settled, backoff, sleep=sleep)
    if not settled(run):
        raise ScoresTimedOut(run, timeout)
    return run
