"""The uploader keeps memory flat when the calls outpace the uploads: ``add`` waits while
``MAX_UNSTORED`` records are not stored yet, instead of piling up a whole run's records."""

from __future__ import annotations

import asyncio
import threading

from runner.upload import MAX_UNSTORED, BatchingSink, RecordItem

EXTRA = 500


class GatedStore(BatchingSink):
    """Stores batches only once ``opened`` is set, as a server that has fallen behind."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = threading.Event()
        self.stored: list[RecordItem] = []

    def write_batch(self, batch: list[RecordItem]) -> None:
        self.opened.wait(timeout=10)
        self.stored += batch


def test_adding_waits_while_too_many_records_are_not_stored():
    async def scenario() -> tuple[int, int]:
        sink = GatedStore()
        added = 0

        async def produce() -> None:
            nonlocal added
            for n in range(MAX_UNSTORED + EXTRA):
                await sink.add(RecordItem(str(n), 0, {}, {}, {}))
                added += 1

        producing = asyncio.create_task(produce())
        await asyncio.sleep(0.3)
        held = added
        sink.opened.set()
        await producing
        await sink.close()
        return held, len(sink.stored)

    held, stored = asyncio.run(scenario())
    assert held == MAX_UNSTORED
    assert stored == MAX_UNSTORED + EXTRA
