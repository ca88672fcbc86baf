"""Runs the user's system over every pending (testcase, trial), with bounded concurrency and a
per-testcase timeout, handing each result to the uploader as soon as it exists."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import workflow
from .progress import Progress
from .systems import System
from .upload import RecordItem, RecordSink

# An OpenAI completion's token counts, as the prompt systems keep them in a record's metadata.
USAGE_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")
# Says a call crashed its system: the Action's log annotation by default (message, title).
Warn = Callable[[str, str], None]


@dataclass(frozen=True)
class Work:
    testcase: dict[str, Any]
    trial: int


def usage_metadata(outputs: dict[str, Any] | None) -> dict[str, Any] | None:
    """The call's ``{"model", "usage"}`` when its outputs carry an OpenAI-shaped ``usage`` (a
    system that returns the completion's usage along with its answer), else None."""
    outputs = outputs or {}
    usage = outputs.get("usage")
    if not isinstance(usage, dict) or not all(_is_count(usage.get(key)) for key in USAGE_COUNTS[:2]):
        return None
    counts = {key: usage[key] for key in USAGE_COUNTS if _is_count(usage.get(key))}
    counts.setdefault("total_tokens", counts["prompt_tokens"] + counts["completion_tokens"])
    model = outputs.get("model")
    return {"model": model if isinstance(model, str) else None, "usage": counts}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def pending_work(testcases: Iterable[dict[str, Any]], trials: int, recorded: dict[str, int]) -> list[Work]:
    """Every (testcase, trial) not recorded yet: a resumed run skips what is already there."""
    return [
        Work(testcase, trial) for testcase in testcases for trial in range(recorded.get(str(testcase["id"]), 0), trials)
    ]


async def execute(
    system: System,
    work: list[Work],
    system_config: dict[str, Any] | None,
    concurrency: int,
    timeout: float,
    uploader: RecordSink,
    progress: Progress,
    warn: Warn = workflow.warning,
) -> None:
    queue: asyncio.Queue[Work] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)

    async def worker() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            testcase = item.testcase
            started = time.monotonic()
            call = await system.call(testcase.get("inputs") or {}, system_config, timeout)
            duration_ms = (time.monotonic() - started) * 1000
            if call.crashed:  # the record says so too; the log names the testcase to debug
                assert call.error is not None, "a crashed call carries its failure's message"
                warn(
                    f"testcase {testcase['id']} (trial {item.trial}): {call.error.splitlines()[0]}",
                    "Scorecard: the system crashed",
                )
            uploader.add(
                RecordItem(
                    testcase_id=str(testcase["id"]),
                    trial=item.trial,
                    inputs=testcase.get("inputs") or {},
                    expected=testcase.get("expected") or {},
                    outputs=call.outputs or {},
                    error=call.error,
                    metadata=call.metadata or usage_metadata(call.outputs),
                    duration_ms=duration_ms,
                )
            )
            progress.advance(call.error is None)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(work)) or 1)))
    await uploader.close()
