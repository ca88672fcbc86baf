"""The kickoff dialog's routes: ``GET /projects/<id>/kickoff`` is a page of its own (tabs are
links, the form a plain POST, so it works without JavaScript); asked by htmx it answers only the
dialog, which the page that asked shows in its ``<dialog>``. ``POST /projects/<id>/kickoffs``
starts the run and opens its page, or shows the dialog again with what was wrong (in the
``<dialog>`` when htmx posted it)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from runner.systems.version_config import METHODS
from scorecard_core.errors import ScorecardError
from scorecard_core.models import Project

from ... import database
from ...api.github import find_connection
from ...api.projects import load_project
from ...error_status import http_status
from .choices import load
from .form import KIND_OF_TAB, NEW_VERSION, DialogForm, opened
from .submit import submit

bp = Blueprint("kickoff", __name__, url_prefix="/projects/<project_id>")

TAB_LABELS = {"scorecard": "Scorecard", "endpoint": "Endpoint", "github": "GitHub"}


@bp.get("/kickoff")
def dialog(project_id: str):
    project = load_project(project_id)
    return _dialog(project, opened(project, request.args))


@bp.post("/kickoffs")
def send(project_id: str):
    project = load_project(project_id)
    form = DialogForm.posted()
    try:
        started = submit(project, form)
    except ScorecardError as exc:
        # A dispatch ends the request's database session: load the project afresh.
        database.session().rollback()
        # In the dialog, with 200: htmx swaps in no error response.
        return _dialog(load_project(project_id), form, exc, 200 if _in_dialog() else http_status(exc))
    flash(started.message, "ok")
    run_url = url_for("ui.runs.run", project_id=project.id, run_id=started.run_id)
    if _in_dialog():
        return "", 204, {"HX-Redirect": run_url}  # htmx opens the run's page
    return redirect(run_url, 303)


def _in_dialog() -> bool:
    """Asked by htmx: from the <dialog> of the page that opened the kickoff dialog."""
    return request.headers.get("HX-Request") == "true"


def _dialog(project: Project, form: DialogForm, failure: ScorecardError | None = None, status: int = 200):
    choices = load(project)
    kind = KIND_OF_TAB.get(form.tab)
    systems = choices.versions_of_kind(kind) if kind else choices.systems
    version = form.system_version_id
    if kind and not version:  # the newest version of the tab's kind, else a new one
        version = systems[0].versions[0].id if systems else NEW_VERSION

    def tab_url(tab: str) -> str:
        return url_for(
            "ui.kickoff.dialog",
            project_id=project.id,
            tab=tab,
            testset=form.testset_id or None,
            from_run=form.from_run or None,
        )

    in_dialog = _in_dialog()
    context = {
        "project": project,
        "form": form,
        "choices": choices,
        "systems": systems,
        "version": version,
        "new_version": NEW_VERSION,
        "connection": find_connection(project.id),
        "tabs": TAB_LABELS,
        "tab_url": tab_url,
        "methods": METHODS,
        "in_dialog": in_dialog,
        "kickoff_problem": failure.message if failure else None,
        "problem_field": failure.details.get("field") if failure else None,
        "failed_run_id": failure.details.get("runId") if failure else None,
    }
    template = "ui/_kickoff_dialog.html" if in_dialog else "ui/kickoff.html"
    return render_template(template, **context), status
