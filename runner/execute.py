"""Runs the user's system over every pending (testcase, trial), with bounded concurrency and a
per-testcase timeout, handing each result to the uploader as soon as it exists.

The work may stream in (the runner's testcases arrive page by page): the calls start with the
first item, and only a few items per worker wait in memory however long the testset is."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import workflow
from .progress import Progress
from .systems import System
from .upload import RecordItem, RecordSink

# An OpenAI completion's token counts, as the prompt systems keep them in a record's metadata.
USAGE_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")
# How many work items per worker may wait fetched but not yet called: enough that a worker never
# idles while the next page is fetched, few enough that memory stays flat.
PENDING_PER_WORKER = 4
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


def pending_work(testcases: Iterable[dict[str, Any]], trials: int, recorded: Mapping[str, int]) -> Iterator[Work]:
    """Every (testcase, trial) not recorded yet, lazily: a resumed run skips what is already there."""
    for testcase in testcases:
        for trial in range(recorded.get(str(testcase["id"]), 0), trials):
            yield Work(testcase, trial)


async def _each(work: Iterable[Work] | AsyncIterable[Work]) -> AsyncIterator[Work]:
    if isinstance(work, AsyncIterable):
        async for item in work:
            yield item
    else:
        for item in work:
            yield item


async def execute(
    system: System,
    work: Iterable[Work] | AsyncIterable[Work],
    system_config: dict[str, Any] | None,
    concurrency: int,
    timeout: float,
    uploader: RecordSink,
    progress: Progress,
    warn: Warn = workflow.warning,
) -> None:
    """Call the system on each item of ``work`` as it arrives (a list, or an async stream)."""
    workers = max(concurrency, 1)
    queue: asyncio.Queue[Work | None] = asyncio.Queue(maxsize=PENDING_PER_WORKER * workers)

    async def produce() -> None:
        async for item in _each(work):
            await queue.put(item)  # waits while the workers are behind: memory stays flat
        for _ in range(workers):
            await queue.put(None)  # each worker stops at its None

    async def worker() -> None:
        while (item := await queue.get()) is not None:
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
            await uploader.add(  # waits while the uploads are behind: memory stays flat
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

    producer = asyncio.create_task(produce())
    calls = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await asyncio.gather(producer, *calls)
    except Exception:
        # A failure anywhere (a page fetch, say) stops the rest before the system is closed, and
        # the calls already under way finish and are uploaded with the rest, so a resumed run
        # does not pay for them again: no new call starts, and each worker stops after its own.
        producer.cancel()
        while not queue.empty():
            queue.get_nowait()
        for _ in calls:
            queue.put_nowait(None)
        await asyncio.gather(producer, *calls, return_exceptions=True)
        with contextlib.suppress(Exception):  # the first failure is the one to report
            await uploader.close()
        raise
    except BaseException:  # cancelled or interrupted: stop at once
        for task in (producer, *calls):
            task.cancel()
        await asyncio.gather(producer, *calls, return_exceptions=True)
        with contextlib.suppress(Exception):
            await uploader.close()
        raise
    await uploader.close()
