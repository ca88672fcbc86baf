"""The Python-callable system: one long-lived worker process in the USER's Python, driven over
JSON lines (runner/worker.py, standard library only), so the user's dependencies and ours never
meet.

A worker that dies is started again for the next calls. One call may kill it (``os._exit``, a
segfault, the OOM killer) while others run beside it: those bystanders are retried once, each
alone on a fresh worker, so a crash fails only the call that causes it, and that call is named
(it crashed the worker while running alone). A timed-out call whose cancel the worker does not
acknowledge has blocked its event loop (an ``async def`` that blocks): the worker is restarted
rather than left to time out every later call.

The worker script, `runner/worker.py`, is started by path and stays in `runner/`, not here: Python
puts the script's directory first on `sys.path`, where this package's `http.py` would stand in for
the standard library's `http` until the worker strips that entry."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from pathlib import Path

from .base import (
    PIPES,
    STDERR_PREFIX,
    BoundedSystem,
    ProcessDied,
    SystemCall,
    SystemCallFailed,
    SystemStartError,
    check_working_directory,
    describe_exit,
    parse_json,
    tail,
)

PYTHON_SPEC = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
WORKER_SCRIPT = Path(__file__).resolve().parents[1] / "worker.py"
IMPORT_TIMEOUT = 300.0  # importing a system can mean loading a model
CLOSE_GRACE = 5.0
LINE_LIMIT = 64 * 1024 * 1024  # one JSON answer per line; outputs can be big
# A healthy worker acknowledges a cancel within one turn of its event loop.
CANCEL_GRACE = 2.0


class WorkerProcess:
    """One running `worker.py`: sends calls, dispatches answers by id, notices when it dies."""

    def __init__(self, process: asyncio.subprocess.Process):
        assert process.stdin and process.stdout and process.stderr, "spawn the worker with PIPES"
        self.process = process
        self.stdin, self.stdout, self.stderr = process.stdin, process.stdout, process.stderr
        self.alive = True
        self.pending: dict[int, asyncio.Future[dict]] = {}
        self.cancelling: dict[int, asyncio.Future[None]] = {}
        # Calls the runner gave up on: a sync one may still run, and crash the worker later.
        self.abandoned = 0
        self.killed_because: str | None = None  # why the runner killed it, when it did
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self._next_id = 0
        self._outbox: list[bytes] = []
        self._stderr_task = asyncio.create_task(self._forward_stderr())
        self._answers_task: asyncio.Task | None = None

    @classmethod
    async def spawn(cls, spec: str, *, python: str, working_directory: Path, concurrency: int) -> WorkerProcess:
        check_working_directory(spec, working_directory)
        fix = (
            "Point `system` at a `package.module:function` importable from the working directory and install "
            "the system's dependencies into that Python (or set the `python` input to the right interpreter)."
        )
        try:
            process = await asyncio.create_subprocess_exec(
                *(python, str(WORKER_SCRIPT), spec, "--concurrency", str(concurrency)),
                cwd=working_directory,
                limit=LINE_LIMIT,
                **PIPES,
            )
        except OSError as exc:
            raise SystemStartError(
                f"The `system` input `{spec}` needs a Python interpreter, but {python!r} could not be started "
                f"({exc.strerror or exc}). Install Python in the workflow (actions/setup-python) or set the "
                "`python` input to the interpreter that has your system's dependencies."
            ) from None
        worker = cls(process)
        try:
            ready = await asyncio.wait_for(worker.stdout.readline(), IMPORT_TIMEOUT)
        except BaseException as exc:
            worker.kill()
            await worker.reap()
            if isinstance(exc, asyncio.TimeoutError):
                raise SystemStartError(
                    f"The `system` input `{spec}` did not finish loading within {IMPORT_TIMEOUT:g} s.\n{fix}"
                ) from None
            raise
        if not ready:
            exit_code = await worker.reap()
            raise SystemStartError(
                f"The `system` input `{spec}` could not be loaded: {python} {describe_exit(exit_code)} "
                f"before answering (it must be Python 3.9 or newer).\n{fix}\n{worker.stderr_text()}"
            )
        answer = parse_json(ready)
        if not isinstance(answer, dict) or not answer.get("ready"):
            await worker.close()
            raise SystemStartError(
                f"The `system` input `{spec}` could not be loaded by {python} in {working_directory}: "
                f"{answer.get('error') if isinstance(answer, dict) else ready.decode(errors='replace')}\n{fix}"
            )
        worker._answers_task = asyncio.create_task(worker._read_answers())
        return worker

    async def call(self, inputs: dict, system_config: dict | None) -> dict:
        """The worker's answer: ``{"outputs": ...}`` or ``{"error": ...}``; raises `ProcessDied`."""
        if not self.alive:
            raise ProcessDied("the system's worker process is not running", culprit=False)
        call_id = self._next_id
        self._next_id += 1
        answer = asyncio.get_running_loop().create_future()
        self.pending[call_id] = answer
        self._send({"id": call_id, "inputs": inputs, "systemConfig": system_config})
        try:
            return await answer
        except asyncio.CancelledError:
            if self.pending.pop(call_id, None) is not None and self.alive:  # timed out: free the worker
                self.abandoned += 1
                await self._cancel(call_id)
            raise
        finally:
            self.pending.pop(call_id, None)

    async def _cancel(self, call_id: int) -> None:
        """Cancel a timed-out call; a worker that cannot even acknowledge it has a blocked event loop."""
        acknowledged = asyncio.get_running_loop().create_future()
        self.cancelling[call_id] = acknowledged
        self._send({"cancel": call_id})
        try:
            await asyncio.wait_for(acknowledged, CANCEL_GRACE)
        except asyncio.TimeoutError:
            if not self.alive:
                return
            self.killed_because = "another call blocked its event loop"
            sys.stderr.write(f"{STDERR_PREFIX}a timed-out call kept the worker's event loop blocked; restarting it\n")
            self.alive = False  # the next calls go to a fresh worker at once
            self.kill()
            raise ProcessDied(
                f"the call timed out and kept the worker's event loop blocked for {CANCEL_GRACE:g} s more: an "
                "`async def` system must not block (use `await asyncio.sleep(...)`, and `await "
                "asyncio.to_thread(...)` for blocking work); the worker is restarted for the next calls",
                culprit=True,
            ) from None
        finally:
            self.cancelling.pop(call_id, None)

    def _send(self, message: dict) -> None:
        """Queue a line; calls issued in the same loop iteration share one write to the pipe."""
        self._outbox.append(json.dumps(message, separators=(",", ":")).encode())
        if len(self._outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._outbox.append(b"")
        self.stdin.write(b"\n".join(self._outbox))
        self._outbox.clear()

    async def _read_answers(self) -> None:
        async for line in self.stdout:
            message = parse_json(line)
            if isinstance(message, dict) and "cancelled" in message:
                _settle(self.cancelling.get(message["cancelled"]), None)
                continue
            if not isinstance(message, dict) or "id" not in message:  # cannot happen unless the protocol breaks
                sys.stderr.write(f"{STDERR_PREFIX}the worker broke its protocol ({line[:200]!r}); restarting it\n")
                self.killed_because = "it broke the protocol"
                self.kill()
                continue
            _settle(self.pending.pop(message["id"], None), message)
        self.alive = False
        exit_code = await self.reap()
        for acknowledged in self.cancelling.values():
            _settle(acknowledged, None)
        # Only a call that ran alone (nothing abandoned still running beside it) surely caused the death.
        culprit = len(self.pending) == 1 and not self.abandoned and self.killed_because is None
        for answer in self.pending.values():
            _settle(answer, {"died": self._death(exit_code, culprit), "culprit": culprit})
        self.pending.clear()

    def _death(self, exit_code: int, culprit: bool) -> str:
        exit_ = describe_exit(exit_code)
        if self.killed_because:
            what = f"the runner restarted the system's worker process during the call: {self.killed_because}"
        elif culprit:
            what = f"the system's worker process {exit_} while running this call alone: this call crashed it"
        else:
            what = f"the system's worker process {exit_} while running this call and others"
        return f"{what} (it is restarted for the next calls)\n{self.stderr_text()}".strip()

    async def _forward_stderr(self) -> None:
        """The user's logs (and prints) reach our stderr, prefixed; the tail explains crashes."""
        async for line in self.stderr:
            text = line.decode(errors="replace").rstrip()
            self.stderr_tail.append(text)
            sys.stderr.write(f"{STDERR_PREFIX}{text}\n")

    def stderr_text(self) -> str:
        text = tail("\n".join(self.stderr_tail))
        return f"stderr:\n{text}" if text else "(nothing on stderr)"

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            self.process.kill()

    async def reap(self) -> int:
        """Wait for the exit, and briefly for the last stderr lines (a grandchild may hold the pipe);
        the exit code."""
        exit_code = await self.process.wait()
        await asyncio.wait([self._stderr_task], timeout=1.0)
        return exit_code

    async def close(self) -> None:
        self.alive = False
        self.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), CLOSE_GRACE)
        except asyncio.TimeoutError:
            self.kill()
        await self.reap()
        self._stderr_task.cancel()
        if self._answers_task is not None:
            await asyncio.wait([self._answers_task], timeout=1.0)


def _settle(future: asyncio.Future | None, result: object) -> None:
    if future is not None and not future.done():
        future.set_result(result)


class PythonWorkerSystem(BoundedSystem):
    """`package.module:function` run as Scorecard's `run_system(inputs, system_config)` in the user's Python."""

    def __init__(self, spec: str, *, working_directory: Path, python: str, concurrency: int):
        super().__init__(concurrency)
        self.spec = spec
        self.working_directory = working_directory
        self.python = python
        self.concurrency = concurrency
        self._worker: WorkerProcess | None = None
        self._restarting = asyncio.Lock()
        # Calls share the worker; a retried bystander has it to itself, so a second death is its own.
        self._turns = asyncio.Condition()
        self._running = 0
        self._alone = False
        self._lone_waiting = 0  # bystanders waiting to retry go before new calls

    async def start(self) -> None:
        await self._prepare()

    async def _prepare(self) -> None:
        if self._worker is not None and self._worker.alive:
            return
        async with self._restarting:
            if self._worker is None or not self._worker.alive:
                self._worker = await WorkerProcess.spawn(
                    self.spec,
                    python=self.python,
                    working_directory=self.working_directory,
                    concurrency=self.concurrency,
                )

    async def call(self, inputs: dict, system_config: dict | None, timeout: float) -> SystemCall:
        async with self._shared_turn():
            first = await super().call(inputs, system_config, timeout)
        if not isinstance(first.failure, ProcessDied) or first.failure.culprit:
            return first
        sys.stderr.write(f"{STDERR_PREFIX}retrying alone a call that was running when the worker died\n")
        async with self._lone_turn():
            retry = await super().call(inputs, system_config, timeout)
        if isinstance(retry.failure, ProcessDied) and not retry.failure.culprit:
            # Died beside an abandoned call again: say so rather than guess who crashed it.
            return replace(retry, error=f"{retry.error}\n(first attempt: {first.error})")
        return retry

    @asynccontextmanager
    async def _shared_turn(self) -> AsyncIterator[None]:
        async with self._turns:
            await self._turns.wait_for(lambda: not self._alone and not self._lone_waiting)
            self._running += 1
        try:
            yield
        finally:
            async with self._turns:
                self._running -= 1
                self._turns.notify_all()

    @asynccontextmanager
    async def _lone_turn(self) -> AsyncIterator[None]:
        async with self._turns:
            self._lone_waiting += 1
            try:
                await self._turns.wait_for(lambda: not self._alone and self._running == 0)
            finally:
                self._lone_waiting -= 1
                self._turns.notify_all()
            self._alone = True
        try:
            yield
        finally:
            async with self._turns:
                self._alone = False
                self._turns.notify_all()

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        assert self._worker is not None, "start() the system before calling it"
        answer = await self._worker.call(inputs, system_config)
        if "died" in answer:
            raise ProcessDied(answer["died"], culprit=answer["culprit"])
        if "error" in answer:
            raise SystemCallFailed(answer["error"])
        return answer["outputs"]

    async def close(self) -> None:
        if self._worker is not None:
            await self._worker.close()
