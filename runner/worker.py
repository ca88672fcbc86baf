"""Runs the user's ``run_system`` inside the user's own Python, driven over JSON lines.

The runner starts this file BY PATH with the user's interpreter, in the user's working directory:
``python /abs/path/runner/worker.py package.module:function --concurrency N``. It therefore uses
only the standard library (Python >= 3.9) and imports nothing from our package.

Protocol (one JSON object per line):
  out, once:  {"ready": true} | {"ready": false, "error": "..."}
  in:         {"id": 7, "inputs": {...}, "systemConfig": {...} | null}   a call
              {"cancel": 7}                                           the runner gave up on call 7
  out:        {"id": 7, "outputs": {...}} | {"id": 7, "error": "..."}
              {"cancelled": 7}       every cancel is acknowledged: silence means a blocked event loop
The protocol travels on private duplicates of the original stdin/stdout; the user's code sees
stdout pointed at stderr (so its prints become logs) and stdin at /dev/null.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import importlib
import inspect
import io
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, BinaryIO

TRACEBACK_FRAMES = 3
READ_SIZE = 1024 * 1024
ERROR_LIMIT = 2000
MACHINERY_PREFIXES = (
    "<frozen importlib",
    os.path.dirname(importlib.__file__),
    os.path.dirname(asyncio.__file__),
    os.path.dirname(concurrent.futures.__file__),
)


class LoadError(Exception):
    """The user's callable could not be loaded; the message says why.

    Not a `ScorecardError`: this script runs in the user's Python, where our package is not
    importable, and the error never leaves it (it becomes the ``{"ready": false}`` line)."""


def describe_exception(exc: BaseException) -> str:
    """``ValueError: boom`` plus the user's innermost frames (our machinery's frames left out)."""
    headline = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not is_machinery(frame.filename)]
    shown = "".join(traceback.format_list(frames[-TRACEBACK_FRAMES:])).rstrip()
    text = headline + ("\nTraceback (innermost last):\n" + shown if shown else "")
    return text[:ERROR_LIMIT]


def is_machinery(filename: str) -> bool:
    return filename == __file__ or filename.startswith(MACHINERY_PREFIXES)


def take_protocol_streams() -> tuple[io.BufferedReader, BinaryIO]:
    """Keep the real stdin/stdout for the protocol; give the user's code stderr and /dev/null."""
    sys.stdout.flush()
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = sys.stderr
    return protocol_in, protocol_out


def load_callable(spec: str) -> Callable[..., Any]:
    """Import ``package.module:attr.path`` from the working directory; raise with a readable reason."""
    module_name, _, attr_path = spec.partition(":")
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != script_dir]
    sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except BaseException as exc:  # the user's module runs arbitrary code at import, sys.exit included
        missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise LoadError(f"no module named {missing!r} under {os.getcwd()}") from None
        raise LoadError(f"importing {module_name!r} failed: {describe_exception(exc)}") from None
    for attr in attr_path.split("."):
        if not hasattr(target, attr):
            raise LoadError(f"{module_name!r} has no attribute {attr_path!r}")
        target = getattr(target, attr)
    if not callable(target):
        raise LoadError(f"{spec} is a {type(target).__name__}, not a function")
    return target


def takes_system_config(function: Callable[..., Any]) -> bool:
    """True for ``run_system(inputs, system_config)``, False for ``run_system(inputs)``."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins without a signature: call them as Scorecard does
        return True
    for arguments, answer in (((None, None), True), ((None,), False)):
        try:
            signature.bind(*arguments)
            return answer
        except TypeError:
            continue
    raise LoadError(f"the function must accept (inputs) or (inputs, system_config), not {signature}")


def is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None))  # noqa: B004 an instance with async __call__


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"


class Worker:
    def __init__(self, function: Callable[..., Any], concurrency: int, protocol_out: BinaryIO):
        self.function = function
        self.with_config = takes_system_config(function)
        self.run_async = is_async(function)
        self.concurrency = concurrency
        self.threads = self.new_thread_pool()
        self.protocol_out = protocol_out
        self.flush_scheduled = False
        self.calls: dict[Any, asyncio.Task | concurrent.futures.Future] = {}
        self.stuck: set[concurrent.futures.Future] = set()
        self.finished: list[tuple[Any, concurrent.futures.Future]] = []
        self.finished_lock = threading.Lock()
        self.loop = asyncio.get_running_loop()

    def send(self, line: bytes) -> None:
        """Buffer a line; one flush per loop iteration carries every answer that finished in it."""
        self.protocol_out.write(line)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        self.protocol_out.flush()

    def receive_lines(self, lines: list[bytes]) -> None:
        for line in lines:
            if line.strip():
                self.receive(line)

    def receive(self, line: bytes) -> None:
        request = json.loads(line)
        if "cancel" in request:
            self.cancel(request["cancel"])
            return
        call_id = request["id"]
        arguments = (request.get("inputs"), request.get("systemConfig"))[: 2 if self.with_config else 1]
        if self.run_async:
            task = self.loop.create_task(self.function(*arguments))
            self.calls[call_id] = task
            task.add_done_callback(lambda done: self.answer(call_id, done))
        else:
            call = self.threads.submit(self.function, *arguments)
            self.calls[call_id] = call
            call.add_done_callback(lambda done: self.finished_in_thread(call_id, done))

    def finished_in_thread(self, call_id: Any, call: concurrent.futures.Future) -> None:
        """In the pool's thread: queue the finished call; the first of a burst wakes the loop for all."""
        with self.finished_lock:
            self.finished.append((call_id, call))
            first = len(self.finished) == 1
        if first:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the runner has gone
                self.loop.call_soon_threadsafe(self.answer_finished)

    def answer_finished(self) -> None:
        with self.finished_lock:
            finished, self.finished = self.finished, []
        for call_id, call in finished:
            self.answer(call_id, call)

    def cancel(self, call_id: Any) -> None:
        self.send(encode({"cancelled": call_id}))
        call = self.calls.pop(call_id, None)
        if call is None or call.done():
            return
        if isinstance(call, asyncio.Task):
            call.cancel()
            return
        # A sync call cannot be stopped: its thread stays busy. The pool has room for `concurrency`
        # stuck calls besides the live ones; when they are all stuck, later calls go to a fresh
        # pool and the old one ends its threads as their calls return.
        self.stuck.add(call)
        call.add_done_callback(self.stuck.discard)  # in the pool's thread; set.discard is atomic
        if len(self.stuck) >= self.concurrency:
            self.threads.shutdown(wait=False)
            self.threads = self.new_thread_pool()
            self.stuck = set()

    def new_thread_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        return concurrent.futures.ThreadPoolExecutor(max_workers=2 * self.concurrency, thread_name_prefix="system")

    def answer(self, call_id: Any, call: asyncio.Future | concurrent.futures.Future) -> None:
        if self.calls.pop(call_id, None) is None or call.cancelled():
            return  # the runner already gave up on this call
        exc = call.exception()
        if exc is not None:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise exc  # the user's code asked the process to end: let it
            self.send(encode({"id": call_id, "error": describe_exception(exc)}))
        elif inspect.isawaitable(call.result()):  # a sync callable that returned a coroutine
            awaited = asyncio.ensure_future(call.result())
            self.calls[call_id] = awaited
            awaited.add_done_callback(lambda done: self.answer(call_id, done))
        else:
            self.send(self.outputs_line(call_id, call.result()))

    @staticmethod
    def outputs_line(call_id: Any, value: Any) -> bytes:
        outputs = value if isinstance(value, dict) else {"output": value}
        try:
            return encode({"id": call_id, "outputs": outputs})
        except (TypeError, ValueError, RecursionError) as exc:
            return encode({"id": call_id, "error": f"the system returned a value that is not JSON-serialisable: {exc}"})


def read_requests(
    protocol_in: io.BufferedReader, loop: asyncio.AbstractEventLoop, worker: Worker, ended: asyncio.Event
) -> None:
    """Reader thread: hands the event loop every complete request line that one read brings, so a
    burst of calls costs one wake-up of the loop, not one per call; EOF means the runner is done."""
    pieces: list[bytes] = []  # of a line not complete yet (a big one spans many reads)
    while chunk := protocol_in.read1(READ_SIZE):
        if b"\n" not in chunk:
            pieces.append(chunk)
            continue
        *lines, rest = b"".join([*pieces, chunk]).split(b"\n")
        pieces = [rest]
        loop.call_soon_threadsafe(worker.receive_lines, lines)
    loop.call_soon_threadsafe(worker.receive_lines, [b"".join(pieces)])
    loop.call_soon_threadsafe(ended.set)


async def serve(spec: str, concurrency: int, protocol_in: io.BufferedReader, protocol_out: BinaryIO) -> None:
    try:
        function = load_callable(spec)
        worker = Worker(function, concurrency, protocol_out)
    except LoadError as exc:
        protocol_out.write(encode({"ready": False, "error": str(exc)}))
        protocol_out.flush()
        return
    worker.send(encode({"ready": True}))
    ended = asyncio.Event()
    reader = threading.Thread(
        target=read_requests, args=(protocol_in, asyncio.get_running_loop(), worker, ended), daemon=True
    )
    reader.start()
    await ended.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a Scorecard run_system over JSON lines.")
    parser.add_argument("spec", help="package.module:function")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    protocol_in, protocol_out = take_protocol_streams()
    code = 0
    try:
        asyncio.run(serve(args.spec, max(1, args.concurrency), protocol_in, protocol_out))
    except SystemExit as exc:  # sys.exit() in the user's system ends the worker, as it would any program
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except KeyboardInterrupt:
        code = 130
    sys.stderr.flush()
    os._exit(code)  # do not wait for threads still stuck in calls the runner gave up on


if __name__ == "__main__":
    main()
