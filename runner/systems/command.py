"""`cmd:<command line>`: one `bash -c` process per call, inputs as JSON on stdin, outputs as JSON
on stdout, logs on stderr. A process per call keeps calls independent: a crash fails only its own."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import sys
from contextlib import suppress
from pathlib import Path

from .base import (
    PIPES,
    STDERR_PREFIX,
    BoundedSystem,
    SystemCallFailed,
    SystemStartError,
    as_outputs,
    check_working_directory,
    describe_exit,
    snippet,
    tail,
)

PREFIX = "cmd:"
SIMPLE_WORD = re.compile(r"[\w./+@%-]+")
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=.*")
CONFIG_ENV = "SCORECARD_SYSTEM_CONFIG"


class CommandSystem(BoundedSystem):
    """`cmd:<command line>`: one `bash -c` per call in its own process group; JSON in, JSON out."""

    def __init__(self, command: str, *, working_directory: Path, concurrency: int):
        super().__init__(concurrency)
        self.command = command
        self.spec = f"{PREFIX}{command}"
        self.working_directory = working_directory
        self._env = {name: value for name, value in os.environ.items() if name != CONFIG_ENV}

    @classmethod
    def from_spec(cls, spec: str, *, working_directory: Path, concurrency: int) -> CommandSystem:
        """The system a ``cmd:`` input names; raises `SystemStartError` when it names no command."""
        command = spec[len(PREFIX) :].strip()
        if not command:
            raise SystemStartError("The `system` input `cmd:` names no command; write `cmd:<command line>`")
        return cls(command, working_directory=working_directory, concurrency=concurrency)

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
        exit_code = await process.wait()  # communicate() has reaped it: this only reads the code
        logs = stderr.decode(errors="replace")
        if logs.strip():
            sys.stderr.write("".join(f"{STDERR_PREFIX}{line}\n" for line in logs.rstrip().splitlines()))
        logs_note = f"stderr:\n{tail(logs)}" if logs.strip() else "(nothing on stderr)"
        if exit_code != 0:
            raise SystemCallFailed(f"the command {describe_exit(exit_code)}\n{logs_note}")
        try:
            return as_outputs(json.loads(stdout))
        except ValueError:
            shown = snippet(stdout.decode(errors="replace")) or "(empty)"
            raise SystemCallFailed(
                f"the command's stdout is not JSON (write logs to stderr): {shown}\n{logs_note}"
            ) from None

    async def close(self) -> None:
        """Each call's process ends with the call; nothing stays running."""
