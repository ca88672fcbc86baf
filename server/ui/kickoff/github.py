"""Kickoff Run -> GitHub: a run that the connected repository's workflow fills (the project page's
panel, and the kickoff dialog's GitHub tab).

The form offers the project's testsets, metrics and system versions. What comes back is checked
against them (a stale page or a forged post gets a message naming the field), then the API's own
kickoff creates the run and dispatches the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request
from sqlmodel import select

from scorecard_core.errors import BadRequest, ScorecardError
from scorecard_core.ids import parse_id
from scorecard_core.models import GitHubConnection, Metric, Project, System, SystemVersion, Testset

from ... import database
from ...api.github import find_connection, kickoff_connection, start_kickoff
from ..git import web_link
from ..loading import picked_metrics
from .choices import SystemChoice, system_choices

MAX_REF_CHARS = 250  # as the API allows
MAX_VERSION_ID_CHARS = 100


@dataclass(frozen=True)
class KickoffForm:
    """The form's values as posted (strings), to fill the form in again after a refusal."""

    testset_id: str = ""
    metric_ids: tuple[str, ...] = ()
    system_version_id: str = ""
    ref: str = ""

    @classmethod
    def posted(cls) -> KickoffForm:
        form = request.form
        return cls(
            form.get("testset_id", "").strip(),
            tuple(form.getlist("metric_id")),
            form.get("system_version_id", "").strip(),
            form.get("ref", "").strip(),
        )

    @classmethod
    def defaults(cls, connection: GitHubConnection) -> KickoffForm:
        """What the connection evaluates pull requests with: likely what a kickoff runs too."""
        return cls(
            str(connection.testset_id or ""),
            tuple(str(m) for m in connection.metric_ids or []),
            connection.system_version_id or "",
            connection.branch,
        )


@dataclass(frozen=True)
class KickoffPanel:
    """The project page's panel: the form when the connection takes kickoffs, else how to set it up.
    After a refused kickoff it holds the reason and the run kept with the error, if one was made."""

    connection: GitHubConnection | None
    form: KickoffForm = KickoffForm()
    testsets: list[Testset] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    systems: list[SystemChoice] = field(default_factory=list)
    problem: str | None = None
    failed_run_id: str | None = None

    @property
    def enabled(self) -> bool:
        return self.connection is not None and self.connection.on_kickoff


@dataclass(frozen=True)
class Dispatched:
    run_id: str
    message: str
    actions_run_url: str | None

    def flash_message(self) -> dict[str, Any]:
        """For base.html's flash list: text, and a link when GitHub named the Actions run."""
        if self.actions_run_url:
            return {"text": self.message, "href": self.actions_run_url, "link": "Open the Actions run"}
        return {"text": f"{self.message} The run links its Actions run once the workflow reports in."}


def panel(project: Project, form: KickoffForm | None = None, failure: ScorecardError | None = None) -> KickoffPanel:
    connection = find_connection(project.id)
    problem = failure.message if failure else None
    failed_run_id = failure.details.get("runId") if failure else None
    if connection is None or not connection.on_kickoff:
        return KickoffPanel(connection, problem=problem, failed_run_id=failed_run_id)
    session = database.session()
    testsets = session.exec(select(Testset).where(Testset.project_id == project.id).order_by(Testset.id)).all()
    metrics = session.exec(select(Metric).where(Metric.project_id == project.id).order_by(Metric.id)).all()
    return KickoffPanel(
        connection,
        form or KickoffForm.defaults(connection),
        list(testsets),
        list(metrics),
        system_choices(project),
        problem,
        failed_run_id,
    )


def start(project: Project, form: KickoffForm) -> Dispatched:
    """Check the form against the project, then create the run and dispatch the workflow.

    Raises ScorecardError: bad input (400, naming the field), no connection or kickoffs off
    (404/409), GitHub refusing the dispatch (``DispatchRejected``; its details name the run kept)."""
    connection = kickoff_connection(project.id)
    testset_id = checked_testset_id(project, form.testset_id)
    metrics = picked_metrics(project, list(form.metric_ids), "run")
    version_id = checked_version_id(project, form.system_version_id)
    run = start_kickoff(
        connection,
        testset_id=testset_id,
        metric_ids=[m.id for m in metrics],
        system_version_id=version_id,
        ref=_ref(form.ref),
    )
    git = run.get("git") or {}
    started = connection.workflow if connection.dispatch == "workflow_dispatch" else connection.event_type
    return Dispatched(
        str(run["id"]),
        f"Dispatched {started} on {connection.repo}@{git.get('ref')}.",
        web_link(git.get("actionsRunUrl")),
    )


def checked_testset_id(project: Project, value: str) -> int:
    if not value:
        raise BadRequest("Choose the testset to run.", {"field": "testset_id"})
    testset_id = parse_id(value)
    testset = database.session().get(Testset, testset_id) if testset_id is not None else None
    if testset is None or testset.project_id != project.id:
        raise BadRequest(
            f"Testset {value!r} is not in this project; choose one from the list "
            "(reload the page if it is out of date).",
            {"field": "testset_id"},
        )
    return testset.id


def checked_version_id(project: Project, value: str) -> str | None:
    """The chosen version of one of the project's systems; none leaves the workflow's own system."""
    if not value:
        return None
    statement = (
        select(SystemVersion)
        .join(System, System.id == SystemVersion.system_id)
        .where(
            SystemVersion.id == value,
            System.project_id == project.id,
        )
    )
    if len(value) > MAX_VERSION_ID_CHARS or database.session().exec(statement).first() is None:
        raise BadRequest(
            f"System version {value[:MAX_VERSION_ID_CHARS]!r} is not one of this project's systems' "
            "versions; choose one from the list, or none.",
            {"field": "system_version_id"},
        )
    return value


def _ref(value: str) -> str | None:
    """The branch, tag or commit to run the workflow on; empty means the connection's branch."""
    if len(value) > MAX_REF_CHARS:
        raise BadRequest(
            f"The ref is {len(value):,} characters long; a branch, tag or commit name has at most {MAX_REF_CHARS}.",
            {"field": "ref"},
        )
    if any(c.isspace() or not c.isprintable() for c in value):
        raise BadRequest(
            f"The ref {value!r} cannot be a branch, tag or commit name: remove its spaces and control characters.",
            {"field": "ref"},
        )
    return value or None
