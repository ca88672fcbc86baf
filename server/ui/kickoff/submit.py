"""Sending the kickoff dialog: check its choices against the project, save a version written in
place through the systems API's own upserts, then start the run as the API's kickoff does
(``start_server_run`` for the server's targets, the GitHub panel's ``start`` for a dispatch).

Every refusal is a ``BadRequest`` whose ``field`` is the form's input and whose message names it
as the form labels it, so the dialog shows again with the problem next to what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from runner.systems import check_system_config
from runner.systems.version_config import METHODS
from scorecard_core.errors import BadRequest, InvalidField
from scorecard_core.ids import parse_id
from scorecard_core.models import MetricGroup, Project, System

from ... import database
from ...api.github import KickoffCreate, start_server_run
from ...api.systems import system_named, upsert_version
from ..loading import picked_metrics
from . import github
from .form import NEW_VERSION, DialogForm

MAX_SYSTEM_NAME_CHARS = 200

# A config's fields (as check_system_config names them) as the dialog's inputs and labels.
PROMPT_FIELDS = {
    "config.model": ("model", "Model"),
    "config.temperature": ("temperature", "Temperature"),
    "config.maxTokens": ("max_tokens", "Max tokens"),
    "config.messages": ("user_message", "User message"),
}
ENDPOINT_FIELDS = {
    "config.url": ("url", "URL"),
    "config.method": ("method", "Method"),
    "config.headers": ("headers", "Headers"),
    "config.body": ("body", "Body"),
    "config.responsePath": ("response_path", "Response path"),
}
API_FIELDS = {
    "testsetId": ("testset_id", "Testset"),
    "metricIds": ("metric_id", "Metrics"),
    "systemVersionId": ("system_version_id", "System version"),
}


@dataclass(frozen=True)
class Started:
    run_id: str
    message: str | dict[str, Any]  # for base.html's flash list


def submit(project: Project, form: DialogForm) -> Started:
    """Create the run the dialog describes; raises BadRequest naming the form's field, or the
    GitHub panel's errors for a dispatch."""
    testset_id = github.checked_testset_id(project, form.testset_id)
    metric_ids = _metric_ids(project, form)
    if form.tab == "github":
        picked = tuple(str(m) for m in metric_ids)
        dispatched = github.start(
            project, github.KickoffForm(form.testset_id, picked, form.system_version_id, form.ref)
        )
        return Started(dispatched.run_id, dispatched.flash_message())
    version_id = _version_id(project, form)
    body = KickoffCreate(target=form.tab, testset_id=testset_id, metric_ids=metric_ids, system_version_id=version_id)
    try:
        run = start_server_run(database.session(), project.id, body, metric_ids)
    except InvalidField as exc:
        raise _named(exc, API_FIELDS, ("system_version_id", "The system version's")) from exc
    return Started(str(run["id"]), f"Run #{run['id']} started on the server; this page follows it until it is scored.")


def _metric_ids(project: Project, form: DialogForm) -> list[int]:
    """The ticked metrics and every metric of the ticked groups, each once."""
    picked = list(form.metric_id)
    if form.group_id:
        ids = [parse_id(g) for g in form.group_id]
        statement = select(MetricGroup).where(MetricGroup.project_id == project.id, MetricGroup.id.in_(ids))
        groups = list(database.session().exec(statement))
        if None in ids or len(groups) != len(set(ids)):
            raise BadRequest(
                "Choose metric groups from the list; reload the page if it is out of date.", {"field": "group_id"}
            )
        picked += [str(m) for group in groups for m in group.metric_ids]
    return [m.id for m in picked_metrics(project, picked, "run") if m.id is not None]


def _version_id(project: Project, form: DialogForm) -> str:
    if form.system_version_id != NEW_VERSION:
        version_id = github.checked_version_id(project, form.system_version_id)
        if version_id is None:
            raise BadRequest("Choose a system version to run, or write a new one.", {"field": "system_version_id"})
        return version_id
    if form.tab == "scorecard":
        config, labels = prompt_config(form)
    else:
        config, labels = endpoint_config(form)
    try:
        check_system_config(config)
    except InvalidField as exc:
        raise _named(exc, labels, ("system_version_id", "The new version's")) from exc
    system, created = _system_for(project, form)
    version = upsert_version(system, config, None)
    if created:
        system.production_version_id = version.id  # as the API's system upsert does
        database.session().add(system)
    return version.id


def prompt_config(form: DialogForm) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The prompt version the Scorecard tab describes, and its config's fields as the tab's inputs."""
    labels = dict(PROMPT_FIELDS)
    messages = []
    for role, text in (("system", form.system_message), ("user", form.user_message)):
        if text or role == "user":
            labels[f"config.messages[{len(messages)}].content"] = (f"{role}_message", f"{role.title()} message")
            messages.append({"role": role, "content": text})
    config: dict[str, Any] = {"kind": "prompt", "model": form.model, "messages": messages}
    temperature = _number(form.temperature, float, "temperature", "Temperature")
    if temperature is not None:
        config["temperature"] = temperature
    max_tokens = _number(form.max_tokens, int, "max_tokens", "Max tokens")
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    return config, labels


def endpoint_config(form: DialogForm) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """The endpoint version the Endpoint tab describes; header values are kept secret if asked."""
    method = (form.method or "POST").upper()
    if method not in METHODS:
        raise BadRequest(f"Method must be one of {', '.join(METHODS)}.", {"field": "method"})
    config: dict[str, Any] = {"kind": "endpoint", "url": form.url, "method": method}
    headers: dict[str, Any] = {}
    for number, line in enumerate(form.headers.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest(f"Headers: line {number} is not `Name: value`.", {"field": "headers"})
        headers[name.strip()] = {"secret": value.strip()} if form.secret_headers else value.strip()
    if headers:
        config["headers"] = headers
    if form.body:
        config["body"] = form.body
    if form.response_path:
        config["responsePath"] = form.response_path
    return config, ENDPOINT_FIELDS


def _system_for(project: Project, form: DialogForm) -> tuple[System, bool]:
    """The chosen system, or a new one (of that name, if the project has none yet)."""
    if form.system_id:
        system = database.session().get(System, form.system_id[:100])
        if system is None or system.project_id != project.id:
            raise BadRequest(
                "Choose the system from the list; reload the page if it is out of date.", {"field": "system_id"}
            )
        return system, False
    if not form.system_name:
        raise BadRequest("Name the new system, or choose one to add the version to.", {"field": "system_name"})
    if len(form.system_name) > MAX_SYSTEM_NAME_CHARS:
        raise BadRequest(f"The system's name has at most {MAX_SYSTEM_NAME_CHARS} characters.", {"field": "system_name"})
    return system_named(project.id, form.system_name)


def _number(value: str, kind: type, field: str, label: str) -> Any:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        whole = "a whole number" if kind is int else "a number"
        raise BadRequest(f"{label} must be {whole}, not {value[:40]!r}.", {"field": field}) from None


def _named(exc: InvalidField, labels: dict[str, tuple[str, str]], fallback: tuple[str, str]) -> BadRequest:
    """The InvalidField as the form says it: the input it is about, by the form's label."""
    if exc.field in labels:
        field, label = labels[exc.field]
    else:  # a part of an input (one header), or of a version chosen from the list
        part_of = next((p for p in labels if exc.field.startswith((f"{p}.", f"{p}["))), None)
        field, label = labels[part_of] if part_of else fallback
        label = f"{label} `{exc.field}`"
    return BadRequest(f"{label} {exc.problem.rstrip('.')}.", {"field": field})
