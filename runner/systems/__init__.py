"""How the runner calls the user's real system: a Python function, a command, or an HTTP endpoint.

`make_system(spec, ...)` picks the mode from the Action's `system` input:
  - ``package.module:function``  a long-lived worker in the USER's Python (`python_worker`), over
    JSON lines, so the user's interpreter and dependencies never meet ours;
  - ``cmd:<command line>``       one `bash -c` process per call, inputs on stdin, outputs on stdout;
  - ``http(s)://...``            one POST per call.
Every mode bounds concurrency, enforces the per-call timeout and turns whatever the user's system
does into a `SystemCall` (outputs or an error); only `start()` raises, with `SystemStartError`.
A new mode is one module built on `base.BoundedSystem` and one branch here.
"""

from __future__ import annotations

from pathlib import Path

from . import command, http, python_worker
from .base import ProcessDied, System, SystemCall, SystemCallFailed, SystemStartError

__all__ = [
    "ProcessDied",
    "System",
    "SystemCall",
    "SystemCallFailed",
    "SystemStartError",
    "make_system",
]

ACCEPTED_FORMS = (
    "`package.module:function` (a Python function imported from the working directory), "
    "`cmd:<command line>` (inputs as JSON on stdin, outputs as JSON on stdout) "
    "or an `http://` / `https://` URL (inputs POSTed as JSON, outputs answered as JSON)"
)


def make_system(spec: str, *, working_directory: Path, python: str = "python", concurrency: int = 8) -> System:
    """The system the `system` input names; raises `SystemStartError` for anything unusable."""
    spec = spec.strip()
    if concurrency < 1:
        raise SystemStartError(f"`concurrency` must be at least 1, got {concurrency}")
    if spec.startswith(command.PREFIX):
        return command.CommandSystem.from_spec(spec, working_directory=working_directory, concurrency=concurrency)
    if spec.startswith(http.SCHEMES):
        return http.HttpSystem.from_spec(spec, concurrency=concurrency)
    if python_worker.PYTHON_SPEC.fullmatch(spec):
        return python_worker.PythonWorkerSystem(
            spec, working_directory=working_directory, python=python, concurrency=concurrency
        )
    raise SystemStartError(f"The `system` input `{spec}` is not a system the runner can call; use {ACCEPTED_FORMS}")
