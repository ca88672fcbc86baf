"""How the runner calls the user's real system: a Python function, a command, or an HTTP endpoint.

`make_system(spec, ...)` picks the mode from the Action's `system` input:
  - ``package.module:function``  a long-lived worker in the USER's Python (`python_worker`), over
    JSON lines, so the user's interpreter and dependencies never meet ours;
  - ``cmd:<command line>``       one `bash -c` process per call, inputs on stdin, outputs on stdout;
  - ``http(s)://...``            one POST per call.
Every mode bounds concurrency, enforces the per-call timeout and turns whatever the user's system
does into a `SystemCall` (outputs or an error); only `start()` raises, with `SystemStartError`.
A new mode is one module built on `base.BoundedSystem` and one branch here.

`system_from_config(config, ...)` builds the systems the server runs itself from a system version's
config (``kind``: ``prompt`` for a chat model, ``endpoint`` for an HTTP API; see `version_config`),
and `check_system_config` refuses a bad config naming the field before a run is created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import command, http, python_worker
from .base import ProcessDied, System, SystemCall, SystemCallFailed, SystemStartError

__all__ = [
    "ProcessDied",
    "System",
    "SystemCall",
    "SystemCallFailed",
    "SystemStartError",
    "check_system_config",
    "make_system",
    "system_from_config",
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


# The server's systems load openai, httpx and jinja2, which the Action (`make_system`) never needs
# and whose import would lengthen its measured start-up: they are imported when first asked for.


def system_from_config(
    config: dict,
    *,
    concurrency: int,
    openai_base_url: str,
    openai_api_key: str | None,
    allow_link_local: bool = False,
    all_inputs: list[dict] | None = None,
) -> System:
    """The system a version's config describes, for the server to run: a prompt sent to the model
    at ``openai_base_url`` (unless the config names its own ``baseUrl``) or an HTTP endpoint, which
    may reach link-local addresses only with ``allow_link_local``. ``all_inputs``: every testcase's
    inputs in the batch, for templates using ``all.inputs``. Raises `InvalidField` for a bad config
    and `SystemStartError` for a concurrency below 1."""
    from .version_config import PromptConfig, parse_system_config

    if concurrency < 1:
        raise SystemStartError(f"concurrency must be at least 1, got {concurrency}")
    parsed = parse_system_config(config)
    if isinstance(parsed, PromptConfig):
        from .prompt import PromptSystem

        return PromptSystem(
            parsed, concurrency=concurrency, base_url=openai_base_url, api_key=openai_api_key, all_inputs=all_inputs
        )
    from .endpoint import EndpointSystem

    return EndpointSystem(parsed, concurrency=concurrency, allow_link_local=allow_link_local, all_inputs=all_inputs)


def check_system_config(config: Any) -> None:
    """Raises `scorecard_core.errors.InvalidField` naming the first bad field of a version's config."""
    from .version_config import parse_system_config

    parse_system_config(config)
