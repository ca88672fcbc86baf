"""The kickoff dialog's values: what it opens with (a testset, a run to run again, the connection's
defaults) and what comes back posted, always as strings, so a refused form shows again as typed."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any

from flask import request

from scorecard_core.ids import parse_id
from scorecard_core.models import Project, Run, SystemVersion

from ... import database
from ...api.github import find_connection
from .choices import kind_of

# The dialog's tabs: a server run of a prompt version, of an HTTP endpoint version, or a dispatch.
TABS = ("scorecard", "endpoint", "github")
KIND_OF_TAB = {"scorecard": "prompt", "endpoint": "endpoint"}
NEW_VERSION = "new"  # the version select's choice for a version written in the dialog
MULTIPLE = ("metric_id", "group_id")


@dataclass(frozen=True)
class DialogForm:
    tab: str = "scorecard"
    from_run: str = ""
    testset_id: str = ""
    metric_id: tuple[str, ...] = ()
    group_id: tuple[str, ...] = ()
    system_version_id: str = ""
    # A version written in place: of the chosen system, or of a new one named system_name.
    system_id: str = ""
    system_name: str = ""
    model: str = ""
    temperature: str = ""
    max_tokens: str = ""
    system_message: str = ""
    user_message: str = "{{ inputs }}"
    url: str = ""
    method: str = "POST"
    headers: str = ""
    secret_headers: str = ""
    body: str = ""
    response_path: str = ""
    ref: str = ""

    @classmethod
    def posted(cls) -> DialogForm:
        values: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            if name in MULTIPLE:
                values[name] = tuple(request.form.getlist(name))
            else:
                values[name] = request.form.get(name, "").replace("\r\n", "\n").strip()
        values["tab"] = tab_named(values["tab"])
        return cls(**values)

    @property
    def kind(self) -> str | None:
        return KIND_OF_TAB.get(self.tab)


def tab_named(value: str) -> str:
    return value if value in TABS else TABS[0]


def opened(project: Project, args: Any) -> DialogForm:
    """The form as an open link asks (``?tab=&testset=&from_run=``): a run's testset, metrics and
    version (on the tab that runs its kind), else the GitHub connection's choices."""
    run = _run_of(project, args.get("from_run", ""))
    form = DialogForm(testset_id=args.get("testset", ""))
    if run is not None:
        form = _again(form, run)
    elif args.get("tab") == "github":
        connection = find_connection(project.id)
        if connection is not None:
            form = replace(
                form,
                testset_id=form.testset_id or str(connection.testset_id or ""),
                metric_id=tuple(str(m) for m in connection.metric_ids or []),
                system_version_id=connection.system_version_id or "",
                ref=connection.branch,
            )
    if "tab" in args:
        form = replace(form, tab=tab_named(args["tab"]))
    return form


def _run_of(project: Project, value: str) -> Run | None:
    """The project's run to run again; anything else opens the dialog empty."""
    run_id = parse_id(value) if value else None
    run = database.session().get(Run, run_id) if run_id is not None else None
    return run if run is not None and run.project_id == project.id else None


def _again(form: DialogForm, run: Run) -> DialogForm:
    version = database.session().get(SystemVersion, run.system_version_id) if run.system_version_id else None
    kind = kind_of(version) if version is not None else None
    tab = next((t for t, k in KIND_OF_TAB.items() if k == kind), "github")
    form = replace(
        form,
        tab=tab,
        from_run=str(run.id),
        testset_id=str(run.testset_id or ""),
        metric_id=tuple(str(m) for m in run.metric_ids),
        system_version_id=run.system_version_id or "",
    )
    if version is not None and kind is not None:
        form = replace(form, system_id=version.system_id, **written_fields(version.config))
    return form


def written_fields(config: dict[str, Any]) -> dict[str, str]:
    """A prompt or endpoint version's config as the dialog's fields, to write a new version from."""
    if config.get("kind") == "prompt":
        messages = {m.get("role"): m.get("content", "") for m in config.get("messages", []) if isinstance(m, dict)}
        return {
            "model": str(config.get("model", "")),
            "temperature": _text(config.get("temperature")),
            "max_tokens": _text(config.get("maxTokens")),
            "system_message": str(messages.get("system", "")),
            "user_message": str(messages.get("user", "")),
        }
    headers = config.get("headers") or {}
    return {
        "url": str(config.get("url", "")),
        "method": str(config.get("method", "POST")),
        "headers": "\n".join(
            f"{name}: {value.get('secret') if isinstance(value, dict) else value}" for name, value in headers.items()
        ),
        "secret_headers": "on" if any(isinstance(v, dict) for v in headers.values()) else "",
        "body": _text(config.get("body")),
        "response_path": _text(config.get("responsePath")),
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
