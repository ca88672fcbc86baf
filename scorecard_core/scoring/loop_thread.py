"""One asyncio event loop per process, on a daemon thread, for code that is called from threads.

The judge's calls come from many threads at once (the scoring engine's pool, up to 256); each
thread hands its coroutine to this loop and waits for the result, so all of them share one loop
and its connection pools instead of each paying for a blocking HTTP client of its own.

The loop starts on first use, per process: a Celery worker or gunicorn may fork after import (or
after a first call), and a child never inherits a parent's thread, so a loop made by another
process id is replaced rather than used.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
STOP_TIMEOUT_SECONDS = 5.0


class _LoopThread:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="scorecard-loop", daemon=True)
        self.thread.start()


_lock = threading.Lock()
_current: _LoopThread | None = None
# A forked child keeps what it inherited of its parent's loop referenced, never finalized: the
# loop's epoll set is shared with the parent, and closing the parent's sockets here (as an aiohttp
# connector does when collected) would unregister them from the parent's loop too.
_inherited: list[_LoopThread] = []


def _forget_parents_loop() -> None:
    """In a forked child: another thread may have held the lock at the fork, and stays behind."""
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_parents_loop)


def _this_process() -> _LoopThread:
    global _current
    with _lock:
        if _current is None or _current.pid != os.getpid():
            if _current is not None:
                _inherited.append(_current)
            _current = _LoopThread()
        return _current


def loop() -> asyncio.AbstractEventLoop:
    """This process's loop, started if need be."""
    return _this_process().loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on this process's loop and wait for its result (or exception). Raises
    ``concurrent.futures.CancelledError`` when :func:`stop` ends it first."""
    current = _this_process()
    if threading.current_thread() is current.thread:
        coroutine.close()
        raise RuntimeError("run() was called from the loop's own thread; await the coroutine instead")
    return asyncio.run_coroutine_threadsafe(coroutine, current.loop).result()


def stop(before: Coroutine[Any, Any, Any] | None = None) -> None:
    """Stop this process's loop: run ``before`` on it (to close connections, say), cancel what
    still runs there (its callers get ``CancelledError``), then end the thread. The next
    :func:`run` starts a new loop."""
    global _current
    with _lock:
        current, _current = _current, None
        if current is not None and current.pid != os.getpid():
            _inherited.append(current)
            return
    if current is None:
        return

    async def wind_down() -> None:
        if before is not None:
            await before
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(wind_down(), current.loop).result(STOP_TIMEOUT_SECONDS)
    current.loop.call_soon_threadsafe(current.loop.stop)
    current.thread.join(STOP_TIMEOUT_SECONDS)
    current.loop.close()
