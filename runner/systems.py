"""How the runner calls the user's real system: a Python function, a command, or an HTTP endpoint.

`make_system(spec, ...)` picks the mode from the Action's `system` input:
  - ``package.module:function``  a long-lived worker in the USER's Python (`runner/worker.py`), over
    JSON lines, so the user's interpreter and dependencies never meet ours;
  - ``cmd:<command line>``       one `bash -c` process per call, inputs on stdin, outputs on stdout;
  - ``http(s)://...``            one POST per call.
Every mode bounds concurrency, enforces the per-call timeout and turns whatever the user's system
does into a `SystemCall` (outputs or an error); only `start()` raises, with `SystemStartError`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scorecard_core.errors import ScorecardError

if TYPE_CHECKING:
    import httpx  # imported where an HTTP system needs it: ~40 ms of every other run's start-up

PYTHON_SPEC = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
SIMPLE_WORD = re.compile(r"[\w./+@%-]+")
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=.*")
CONFIG_ENV = "SCORECARD_SYSTEM_CONFIG"
CONFIG_HEADER = "X-Scorecard-System-Config"
STDERR_PREFIX = "[system] "
TAIL_CHARS = 1500
PIPES: dict[str, Any] = {
    "stdin": asyncio.subprocess.PIPE,
    "stdout": asyncio.subprocess.PIPE,
    "stderr": asyncio.subprocess.PIPE,
}
ACCEPTED_FORMS = (
    "`package.module:function` (a Python function imported from the working directory), "
    "`cmd:<command line>` (inputs as JSON on stdin, outputs as JSON on stdout) "
    "or an `http://` / `https://` URL (inputs POSTed as JSON, outputs answered as JSON)"
)


class SystemStartError(ScorecardError):
    """The user's system cannot be started; the message names the `system` input and the fix."""

    code = "SYSTEM_START_ERROR"
    status = 400


class SystemCallFailed(Exception):
    """One call failed; the message is what the record's error will say."""


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

    @property
    def crashed(self) -> bool:
        """This call brought down the process serving the system (the log names its testcase)."""
        return isinstance(self.failure, ProcessDied) and self.failure.culprit


class System(Protocol):
    async def start(self) -> None: ...

    async def call(self, inputs: dict, system_config: dict | None, timeout: float) -> SystemCall: ...

    async def close(self) -> None: ...


def make_system(spec: str, *, working_directory: Path, python: str = "python", concurrency: int = 8) -> System:
    """The system the `system` input names; raises `SystemStartError` for anything unusable."""
    spec = spec.strip()
    if concurrency < 1:
        raise SystemStartError(f"`concurrency` must be at least 1, got {concurrency}")
    if spec.startswith("cmd:"):
        command = spec[len("cmd:") :].strip()
        if not command:
            raise SystemStartError("The `system` input `cmd:` names no command; write `cmd:<command line>`")
        return CommandSystem(command, working_directory=working_directory, concurrency=concurrency)
    if spec.startswith(("http://", "https://")):
        import httpx

        try:
            host = httpx.URL(spec).host
        except httpx.InvalidURL as exc:
            raise SystemStartError(f"The `system` input `{spec}` is not a valid URL: {exc}") from None
        if not host:
            raise SystemStartError(f"The `system` input `{spec}` is a URL without a host")
        return HttpSystem(spec, concurrency=concurrency)
    if PYTHON_SPEC.fullmatch(spec):
        # Imported here: that module builds on this one's shared parts.
        from .python_system import PythonWorkerSystem

        return PythonWorkerSystem(spec, working_directory=working_directory, python=python, concurrency=concurrency)
    raise SystemStartError(f"The `system` input `{spec}` is not a system the runner can call; use {ACCEPTED_FORMS}")


def as_outputs(value: Any) -> dict:
    """A record's outputs are a JSON object; any other JSON value is wrapped as ``{"output": value}``."""
    return value if isinstance(value, dict) else {"output": value}


def tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else "..." + text[-TAIL_CHARS:]


def snippet(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else text[:TAIL_CHARS] + "..."


def body_of(response: httpx.Response) -> str:
    return snippet(response.text) or "(empty body)"


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
                outputs = await asyncio.wait_for(self._invoke(inputs, system_config), timeout)
                return SystemCall(outputs, None, time.perf_counter() - started)
            except asyncio.TimeoutError:
                error = f"the system did not answer within the {timeout:g} s timeout"
            except SystemCallFailed as exc:
                error, failure = str(exc), exc
            return SystemCall(None, error, time.perf_counter() - started, failure)

    async def _prepare(self) -> None:
        """Work before a call that does not count against its timeout (restarting a dead worker)."""

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        raise NotImplementedError


class CommandSystem(BoundedSystem):
    """`cmd:<command line>`: one `bash -c` per call in its own process group; JSON in, JSON out."""

    def __init__(self, command: str, *, working_directory: Path, concurrency: int):
        super().__init__(concurrency)
        self.command = command
        self.spec = f"cmd:{command}"
        self.working_directory = working_directory
        self._env = {name: value for name, value in os.environ.items() if name != CONFIG_ENV}

    async def start(self) -> None:
        check_working_directory(self.spec, self.working_directory)
        if shutil.which("bash") is None:
            raise SystemStartError(f"The `system` input `{self.spec}` runs through bash, which is not on PATH")
        try:
            words = shlex.split(self.command)
        except ValueError as exc:
            raise SystemStartError(f"The `system` input `{self.spec}` is not a valid command line: {exc}") from None
        program = next((word for word in words if not ENV_ASSIGNMENT.fullmatch(word)), None)
        if program is None or not SIMPLE_WORD.fullmatch(program):
            return  # a subshell, a group or bare assignments: bash will judge it at the first call
        probe = await asyncio.create_subprocess_exec(
            *("bash", "-c", 'command -v -- "$1"', "_", program),
            cwd=self.working_directory,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await probe.wait() != 0:
            raise SystemStartError(
                f"The `system` input `{self.spec}` runs `{program}`, which is neither on PATH nor an executable "
                f"file relative to {self.working_directory}. Install it in an earlier workflow step or fix the path."
            )

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        env = self._env
        if system_config is not None:
            env = {**env, CONFIG_ENV: json.dumps(system_config, separators=(",", ":"))}
        try:
            process = await asyncio.create_subprocess_exec(
                "bash", "-c", self.command, cwd=self.working_directory, env=env, start_new_session=True, **PIPES
            )
        except OSError as exc:  # e.g. out of processes or file descriptors
            raise SystemCallFailed(f"the command could not be started: {exc}") from None
        try:
            stdout, stderr = await process.communicate(json.dumps(inputs).encode())
        except BaseException:  # the timeout cancelled us: take the command and its children down
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            raise
        logs = stderr.decode(errors="replace")
        if logs.strip():
            sys.stderr.write("".join(f"{STDERR_PREFIX}{line}\n" for line in logs.rstrip().splitlines()))
        logs_note = f"stderr:\n{tail(logs)}" if logs.strip() else "(nothing on stderr)"
        if process.returncode != 0:
            raise SystemCallFailed(f"the command {describe_exit(process.returncode)}\n{logs_note}")
        try:
            return as_outputs(json.loads(stdout))
        except ValueError:
            shown = snippet(stdout.decode(errors="replace")) or "(empty)"
            raise SystemCallFailed(
                f"the command's stdout is not JSON (write logs to stderr): {shown}\n{logs_note}"
            ) from None

    async def close(self) -> None:
        """Each call's process ends with the call; nothing stays running."""


class HttpSystem(BoundedSystem):
    """An HTTP endpoint: POST the inputs as JSON, answer a JSON object."""

    def __init__(self, url: str, *, concurrency: int):
        super().__init__(concurrency)
        self.url = url
        self.concurrency = concurrency
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        self._client = httpx.AsyncClient(limits=limits, timeout=None)  # the call's timeout bounds each request

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        assert self._client is not None, "start() the system before calling it"
        import httpx

        headers = {} if system_config is None else {CONFIG_HEADER: json.dumps(system_config, separators=(",", ":"))}
        try:
            response = await self._client.post(self.url, json=inputs, headers=headers)
        except httpx.HTTPError as exc:
            raise SystemCallFailed(f"POST {self.url} failed: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise SystemCallFailed(f"POST {self.url} answered HTTP {response.status_code}: {body_of(response)}")
        try:
            return as_outputs(response.json())
        except ValueError:
            raise SystemCallFailed(f"POST {self.url} answered something not JSON: {body_of(response)}") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
