"""Uploading records as they finish: batches with idempotency keys against our server, one POST
per record (concurrently) against hosted Scorecard. The server's own runs (``server.executions``)
write the same batches straight to its database, through ``BatchingSink``.

A batch goes once 100 records are waiting or the oldest has waited 0.5 s, on one of two upload
slots. While both slots are busy records keep gathering, and the next free slot takes all of them
(up to the server's 1,000): a backlog travels in a few big requests, since each request has a
fixed cost on the server.

Memory stays flat however many records a run makes: ``add`` waits while ``MAX_UNSTORED`` records
are not stored yet (the calls outpace the uploads), so the calls slow to the uploads' pace instead
of piling records up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from scorecard_core.client import ScorecardClient

BATCH_SIZE = 100
MAX_BATCH = 1000  # the server's limit per request
FLUSH_SECONDS = 0.5
BATCH_SLOTS = 2
SINGLE_POST_CONCURRENCY = 8
# Records added but not yet stored (waiting or on their way): two batches in flight and one waiting.
MAX_UNSTORED = (BATCH_SLOTS + 1) * MAX_BATCH


@dataclass(frozen=True)
class RecordItem:
    testcase_id: str
    trial: int
    inputs: dict[str, Any]
    expected: dict[str, Any]
    outputs: dict[str, Any]
    error: str | None = None
    # What the call reported besides outputs (``{"model", "usage"}``) and how long it took: our
    # server stores both; hosted Scorecard has no place for them (see ``Uploader.call_facts``).
    metadata: dict[str, Any] | None = None
    duration_ms: float | None = None

    def batch_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "testcaseId": self.testcase_id,
            "trial": self.trial,
            "inputs": self.inputs,
            "expected": self.expected,
            "outputs": self.outputs,
        }
        if self.error:
            item["error"] = self.error
        if self.metadata is not None:
            item["metadata"] = self.metadata
        if self.duration_ms is not None:
            item["durationMs"] = self.duration_ms
        return item

    def facts(self) -> dict[str, Any]:
        """What ``Uploader.call_facts`` keeps of the call."""
        return {"durationMs": self.duration_ms, "metadata": self.metadata}

    def hosted_body(self) -> dict[str, Any]:
        """Hosted Scorecard has no record error field: the error goes into the outputs."""
        outputs = {"error": self.error} if self.error else self.outputs
        return {"testcaseId": self.testcase_id, "inputs": self.inputs, "expected": self.expected, "outputs": outputs}


class RecordSink(Protocol):
    """Where ``execute`` hands records: the Action's ``Uploader``, or the server's database."""

    async def add(self, item: RecordItem) -> None:
        """Take the record; waits while too many records are not stored yet."""
        ...

    async def close(self) -> None:
        """Store everything added; the first failure raises here."""
        ...


class BatchingSink:
    """Records gathered into batches as described above; ``write_batch`` stores one, on a
    thread so the system calls keep going while records travel."""

    def __init__(self) -> None:
        self._pending: list[RecordItem] = []
        self._tasks: set[asyncio.Task] = set()
        self._batches_in_flight = 0
        self._flusher: asyncio.Task | None = None
        self._room = asyncio.Semaphore(MAX_UNSTORED)  # one unit per record not stored yet

    def write_batch(self, batch: list[RecordItem]) -> None:
        raise NotImplementedError

    async def add(self, item: RecordItem) -> None:
        await self._room.acquire()
        self._pending.append(item)
        if len(self._pending) >= BATCH_SIZE:
            self._flush()
        elif self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        self._flusher = None
        self._flush()

    def _flush(self) -> None:
        """Send what is waiting on every free slot; the rest goes when a slot frees."""
        while self._pending and self._batches_in_flight < BATCH_SLOTS:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            self._batches_in_flight += 1
            self._spawn(self._post_batch(batch))

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_batch(self, batch: list[RecordItem]) -> None:
        try:
            await asyncio.to_thread(self.write_batch, batch)
        finally:
            self._batches_in_flight -= 1
            for _ in batch:
                self._room.release()
            # Without a timer running, what waits is already due (or the sink is closing).
            if len(self._pending) >= BATCH_SIZE or self._flusher is None:
                self._flush()

    async def close(self) -> None:
        """Flush and wait for every write; the first failed one raises here."""
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        self._flush()
        while self._tasks:
            done = list(self._tasks)
            results = await asyncio.gather(*done, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result


class Uploader(BatchingSink):
    """Batches to our server's batch endpoint, or one POST per record to hosted Scorecard."""

    def __init__(self, client: ScorecardClient, run_id: str, batches: bool):
        super().__init__()
        self.client = client
        self.run_id = run_id
        self.batches = batches
        self._single_slots = asyncio.Semaphore(SINGLE_POST_CONCURRENCY)
        # Hosted Scorecard keeps no record error: the IDs of the records whose call failed are
        # how the report still counts them as failed calls.
        self.failed_record_ids: set[str] = set()
        # Hosted Scorecard's uploaded record ID -> {"durationMs", "metadata"} of its call: it
        # stores neither, so the report's latency and tokens come from here. Our server stores
        # both, so against it this stays empty (100,000 records would cost ~30 MB here).
        self.call_facts: dict[str, dict[str, Any]] = {}

    async def add(self, item: RecordItem) -> None:
        if not self.batches:
            await self._room.acquire()
            self._spawn(self._post_one(item))
            return
        await super().add(item)

    def write_batch(self, batch: list[RecordItem]) -> None:
        self.client.post(f"/runs/{self.run_id}/records/batch", {"items": [item.batch_item() for item in batch]})

    async def _post_one(self, item: RecordItem) -> None:
        try:
            async with self._single_slots:
                created = await asyncio.to_thread(self.client.post, f"/runs/{self.run_id}/records", item.hosted_body())
        finally:
            self._room.release()
        self.call_facts[str(created["id"])] = item.facts()
        if item.error:
            self.failed_record_ids.add(str(created["id"]))
