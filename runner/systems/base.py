"""What every way of calling the user's system shares: the `System` protocol, the `SystemCall`
it answers, `BoundedSystem` (concurrency, timing, timeout and error capture), the errors, and
the small helpers that turn a process's or a response's output into a record's text.

A mode builds on `BoundedSystem` and implements `start`, `_invoke` and `close`; only `start()`
raises (`SystemStartError`), a failed call becomes a `SystemCall` with an error.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scorecard_core.errors import ScorecardError

STDERR_PREFIX = "[system] "
TAIL_CHARS = 1500
PIPES: dict[str, Any] = {
    "stdin": asyncio.subprocess.PIPE,
    "stdout": asyncio.subprocess.PIPE,
    "stderr": asyncio.subprocess.PIPE,
}


class SystemStartError(ScorecardError):
    """The user's system cannot be started; the message names the `system` input and the fix."""

    code = "SYSTEM_START_ERROR"


class SystemCallFailed(ScorecardError):
    """One call failed; the message is what the record's error will say."""

    code = "SYSTEM_CALL_FAILED"


class ProcessDied(SystemCallFailed):
    """The process serving the call died under it. ``culprit``: this call is known to have ended
    it; otherwise it may be an innocent bystander of another call's crash."""

    def __init__(self, message: str, *, culprit: bool):
        super().__init__(message)
        self.culprit = culprit


@dataclass(frozen=True)
class SystemCall:
    outputs: dict | None
    error: str | None
    seconds: float
    failure: SystemCallFailed | None = field(default=None, compare=False)
    # What a system run by the server keeps beside the outputs: a model's token usage and name.
    metadata: dict | None = None

    @property
    def crashed(self) -> bool:
        """This call brought down the process serving the system (the log names its testcase)."""
        return isinstance(self.failure, ProcessDied) and self.failure.culprit


@dataclass(frozen=True)
class Answer:
    """What `_invoke` returns when a call has more to keep than its outputs (see `SystemCall.metadata`)."""

    outputs: dict
    metadata: dict


class System(Protocol):
    async def start(self) -> None: ...

    async def call(self, inputs: dict, system_config: dict | None, timeout: float) -> SystemCall: ...

    async def close(self) -> None: ...


def as_outputs(value: Any) -> dict:
    """A record's outputs are a JSON object; any other JSON value is wrapped as ``{"output": value}``."""
    return value if isinstance(value, dict) else {"output": value}


def tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else text[:TAIL_CHARS] + "..."


def parse_json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def check_working_directory(spec: str, working_directory: Path) -> None:
    if not working_directory.is_dir():
        raise SystemStartError(
            f"The `system` input `{spec}` runs in {working_directory}, which is not a directory; "
            "fix the `working-directory` input"
        )


class BoundedSystem:
    """What every mode shares: at most `concurrency` calls at once, timing, timeout, error capture."""

    def __init__(self, concurrency: int):
        self._slots = asyncio.Semaphore(concurrency)

    async def call(self, inputs: dict, system_config: dict | None, timeout: float) -> SystemCall:
        async with self._slots:
            try:
                await self._prepare()
            except SystemStartError as exc:
                return SystemCall(None, exc.message, 0.0)
            started = time.perf_counter()
            failure = None
            try:
                answer = await asyncio.wait_for(self._invoke(inputs, system_config), timeout)
                seconds = time.perf_counter() - started
                if isinstance(answer, Answer):
                    return SystemCall(answer.outputs, None, seconds, metadata=answer.metadata)
                return SystemCall(answer, None, seconds)
            except asyncio.TimeoutError:
                error = f"the system did not answer within the {timeout:g} s timeout"
            except SystemCallFailed as exc:
                error, failure = str(exc), exc
            return SystemCall(None, error, time.perf_counter() - started, failure)

    async def _prepare(self) -> None:
        """Work before a call that does not count against its timeout (restarting a dead worker)."""

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict | Answer:
        raise NotImplementedError
