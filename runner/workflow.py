"""GitHub Actions workflow commands and files: annotations, log groups, masks, step outputs and
the job summary, escaped as GitHub documents. Outside Actions (``GITHUB_ACTIONS`` unset) the same
calls print readable plain lines and leave the files alone, so a local run reads well too."""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def escape_data(value: str) -> str:
    """A command's message: a line break would end the command and start a line of its own."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A command's property value: ``:`` ends the properties and ``,`` separates them."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


class Workflow:
    """Talks to the Actions runner through ``stream`` (stdout when None, looked up at each write)
    and the files named in ``env`` (the process environment when None)."""

    def __init__(self, stream: TextIO | None = None, env: Mapping[str, str] | None = None):
        self.stream = stream
        self.env = env if env is not None else os.environ

    @property
    def in_actions(self) -> bool:
        return self.env.get("GITHUB_ACTIONS") == "true"

    # -- annotations and logs --------------------------------------------------------------------

    def error(self, message: str, title: str | None = None) -> None:
        self._annotate("error", message, title)

    def warning(self, message: str, title: str | None = None) -> None:
        self._annotate("warning", message, title)

    def notice(self, message: str, title: str | None = None) -> None:
        self._annotate("notice", message, title)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible section of the log (groups do not nest in GitHub's log view)."""
        if self.in_actions:
            self._command("group", title)
        else:
            self._print(f"== {title} ==")
        try:
            yield
        finally:
            if self.in_actions:
                self._command("endgroup")

    @contextmanager
    def untrusted_output(self) -> Iterator[None]:
        """Print text we don't control inside: the runner ignores workflow commands until the
        closing token, which is random so the text cannot guess it. Our own commands are ignored
        there too, so issue them outside."""
        if not self.in_actions:
            yield
            return
        token = secrets.token_hex(16)
        self._command("stop-commands", token)
        try:
            yield
        finally:
            self._print(f"::{token}::")

    def add_mask(self, value: str) -> None:
        """Hide a secret in the log from now on. The log is masked line by line, so each line of a
        multi-line value is masked on its own."""
        if self.in_actions:
            for line in value.splitlines():
                if line.strip():
                    self._command("add-mask", line)

    # -- files -----------------------------------------------------------------------------------

    def set_output(self, name: str, value: str) -> None:
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"output name {name!r} must be letters, digits, `_` or `-`, not starting with a digit")
        path = self._file("GITHUB_OUTPUT")
        if path is None:
            self._print(f"output {name}: {value}")
            return
        delimiter = _delimiter(value)
        with open(path, "a", encoding="utf-8") as outputs:
            outputs.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def append_summary(self, markdown: str) -> None:
        """Add to the job summary (GitHub caps one step's summary at 1 MiB)."""
        path = self._file("GITHUB_STEP_SUMMARY")
        if path is None:
            self._print(markdown)
            return
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")

    # -- plumbing --------------------------------------------------------------------------------

    def _annotate(self, level: str, message: str, title: str | None) -> None:
        if self.in_actions:
            self._command(level, message, title=title)
        else:
            self._print(f"{level}: {title}: {message}" if title else f"{level}: {message}")

    def _command(self, name: str, message: str = "", **properties: str | None) -> None:
        listed = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None)
        self._print(f"::{name}{' ' + listed if listed else ''}::{escape_data(message)}")

    def _file(self, variable: str) -> str | None:
        """The file GitHub names in ``variable``; a local run may name one too (the demo does)."""
        return self.env.get(variable) or None

    def _print(self, line: str) -> None:
        # Flushed so our lines keep their place among the output of child processes.
        print(line, file=self.stream or sys.stdout, flush=True)


def _delimiter(value: str) -> str:
    """A heredoc delimiter the value does not contain, so a multi-line value cannot end it early
    and write outputs of its own."""
    while True:
        delimiter = f"scorecard_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


# The process's own stdout and environment, for callers that need no other.
_process = Workflow()
error, warning, notice = _process.error, _process.warning, _process.notice
group, untrusted_output, add_mask = _process.group, _process.untrusted_output, _process.add_mask
set_output, append_summary = _process.set_output, _process.append_summary
