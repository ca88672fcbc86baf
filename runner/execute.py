"""Runs the user's system over every pending (testcase, trial), with bounded concurrency and a
per-testcase timeout, handing each result to the uploader as soon as it exists."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import workflow
from .progress import Progress
from .systems import System
from .upload import RecordItem, RecordSink

# Says a call crashed its system: the Action's log annotation by default (message, title).
Warn = Callable[[str, str], None]


@dataclass(frozen=True)
class Work:
    testcase: dict[str, Any]
    trial: int


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
            call = await system.call(testcase.get("inputs") or {}, system_config, timeout)
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
                    metadata=call.metadata,
                )
            )
            progress.advance(call.error is None)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(work)) or 1)))
    await uploader.close()
