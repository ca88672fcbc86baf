"""The Playground (`/projects/{id}/playground`): try a prompt on a few testcases (or an input typed
as JSON) with some metrics, see each output as soon as its call ends and then its scores, edit an
AI metric's guidelines to score the same outputs again, and save the prompt as a system version.

Trials live in the server's memory (`server.playground_trials`), never in run history. With htmx
the buttons post and swap in the results, which poll for themselves until done; without
JavaScript the same forms post normally and the trial's page refreshes itself until done.
"""

from __future__ import annotations

import hashlib
from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlmodel import col, select

from runner.systems import system_from_config
from scorecard_core import wire
from scorecard_core.errors import InvalidField, NotFound, ScorecardError
from scorecard_core.ids import parse_id
from scorecard_core.metrics import metric_config
from scorecard_core.models import Metric, Project, System, SystemVersion, Testcase, Testset
from scorecard_core.scoring.judge import judge_record
from scorecard_core.scoring.one_record import scorable, score_record

from ... import database
from ... import playground_trials as trials
from ...api.github import KickoffCreate, kickoff_metric_ids, start_server_run
from ...api.parsing import parse
from ...api.projects import load_project
from ...api.systems import system_named, upsert_version
from ...error_status import http_status
from ...settings import current_settings
from ..auth import SESSION_TOKEN
from .cards import Results, refused, results_of
from .form import PlaygroundForm

bp = Blueprint("playground", __name__, url_prefix="/projects/<project_id>/playground")

EXTENSION = "scorecard.playground"
LISTED_TESTCASES = 100
PRECHECKED_TESTCASES = 5
POLL_DELAY = "50ms"  # a poll costs the server ~3 ms; the cards show within ~75 ms of their call


@bp.get("")
def page(project_id: str):
    project = load_project(project_id)
    trial_id = request.args.get("trial", "")
    trial = _trial(project, trial_id) if trial_id else None
    if trial is not None:
        return _page(project, PlaygroundForm.from_dict(trial.form), results_of(trial))
    if trial_id:
        gone = refused("This trial is no longer kept (the server keeps the latest 20); run the prompt again.")
        return _page(project, _starting_form(project), gone)
    return _page(project, _starting_form(project))


@bp.post("/run")
def run(project_id: str):
    project = load_project(project_id)
    form = PlaygroundForm.posted()
    try:
        trial = _start_trial(project, form)
    except ScorecardError as exc:
        database.session().rollback()
        return _refusal(project, form, exc, "results")
    if _htmx():
        return _results(project, results_of(trial))
    return redirect(url_for(".page", project_id=project.id, trial=trial.id), 303)


@bp.get("/trials/<trial_id>")
def results(project_id: str, trial_id: str):
    """The results fragment htmx polls; for a browser without it, the trial's page."""
    project = load_project(project_id)
    if not _htmx():
        return redirect(url_for(".page", project_id=project.id, trial=trial_id))
    trial = _trial(project, trial_id)
    if trial is None:
        return _results(project, refused("This trial is no longer kept; run the prompt again."))
    return _results(project, results_of(trial))


@bp.post("/score")
def rescore(project_id: str):
    """Score the trial's outputs again with the metrics (and guidelines) as the form has them."""
    project = load_project(project_id)
    form = PlaygroundForm.posted()
    trial = _trial(project, request.form.get("trial_id", ""))
    if trial is None:
        problem = ScorecardError(
            "Run the prompt first: there are no outputs to score (or the trial is no longer kept)."
        )
        return _refusal(project, form, problem, "results", status=409)
    try:
        metrics = _metrics(project, form)
    except ScorecardError as exc:
        return _refusal(project, form, exc, "results")
    trial.change_metrics(metrics)
    trial.form = {**trial.form, "metric_ids": form.metric_ids, "guidelines": form.guidelines}
    trials.start_scoring(trial, _scorer())
    if _htmx():
        return _results(project, results_of(trial))
    return redirect(url_for(".page", project_id=project.id, trial=trial.id), 303)


@bp.post("/save")
def save(project_id: str):
    """Store the form's prompt as a version of the chosen system (or of a new one)."""
    project = load_project(project_id)
    form = PlaygroundForm.posted()
    try:
        system, version = _save_version(project, form)
    except ScorecardError as exc:
        database.session().rollback()
        return _refusal(project, form, exc, "saved")
    if _htmx():
        return render_template("ui/playground_saved.html", project=project, saved=(system, version))
    trial = _trial(project, request.form.get("trial_id", ""))
    return _page(project, form, results_of(trial) if trial else None, saved=(system, version))


@bp.post("/kickoff")
def kick_off(project_id: str):
    """Kickoff Run: the saved version over the whole testset, a real run (source `playground`)."""
    project = load_project(project_id)
    assert project.id is not None
    form = PlaygroundForm.posted()
    db = database.session()
    try:
        body = parse(
            KickoffCreate,
            {
                "target": "scorecard",
                "testsetId": form.testset_id,
                "metricIds": form.metric_ids or None,
                "systemVersionId": request.form.get("system_version_id") or None,
                "concurrency": trials.CONCURRENCY,
            },
        )
        run = start_server_run(db, project.id, body, kickoff_metric_ids(db, project.id, body), source="playground")
    except ScorecardError as exc:
        db.rollback()
        return _refusal(project, form, exc, "saved", saved=_saved(project, request.form.get("system_version_id", "")))
    flash(f"Run #{run['id']} started from the playground: the saved version on the whole testset.", "ok")
    target = url_for("ui.runs.run", project_id=project.id, run_id=run["id"])
    if _htmx():  # a whole page to go to, not a fragment to swap in
        return "", 200, {"HX-Redirect": target}
    return redirect(target, 303)


# -- pages and fragments ------------------------------------------------------------------------


def _page(project: Project, form: PlaygroundForm, results: Results | None = None, status: int = 200, **extra):
    testsets = _testsets(project)
    testset = next((t for t in testsets if str(t.id) == form.testset_id), None)
    metrics = _project_metrics(project)
    return render_template(
        "ui/playground.html",
        project=project,
        form=form,
        testsets=testsets,
        testset=testset,
        testcases=_listed_testcases(testset),
        metrics=[m for m in metrics if scorable(metric_config(m))],
        people_metrics=[m for m in metrics if not scorable(metric_config(m))],
        systems=_systems(project),
        results=results,
        poll_delay=POLL_DELAY,
        **extra,
    ), status


def _results(project: Project, results: Results, status: int = 200):
    return render_template(
        "ui/playground_results.html", project=project, results=results, poll_delay=POLL_DELAY
    ), status


def _refusal(
    project: Project,
    form: PlaygroundForm,
    exc: ScorecardError,
    where: str,
    status: int | None = None,
    saved: tuple[System, SystemVersion] | None = None,
):
    """Why the form could not do it: in the fragment htmx swaps in (with 200, as htmx swaps no
    error), or on the whole page again with the form as it was posted."""
    status = status or http_status(exc)
    if _htmx():
        if where == "saved":
            return render_template("ui/playground_saved.html", project=project, save_problem=exc.message, saved=saved)
        return _results(project, refused(exc.message, request.form.get("trial_id", "")))
    trial = _trial(project, request.form.get("trial_id", ""))
    results = results_of(trial) if trial else None
    return _page(project, form, results, status=status, problem=exc.message, saved=saved)


def _saved(project: Project, version_id: str) -> tuple[System, SystemVersion] | None:
    """The saved version a Kickoff Run named, to show it again after a refusal."""
    version = database.session().get(SystemVersion, version_id) if version_id else None
    system = database.session().get(System, version.system_id) if version else None
    return (system, version) if system is not None and version is not None and system.project_id == project.id else None


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


# -- trials ---------------------------------------------------------------------------------------


def _store() -> trials.TrialStore:
    return current_app.extensions.setdefault(EXTENSION, trials.TrialStore())


def _owner() -> str:
    """The signed-in session, without keeping its token in memory."""
    return hashlib.sha256(str(session.get(SESSION_TOKEN)).encode()).hexdigest()


def _trial(project: Project, trial_id: str) -> trials.Trial | None:
    assert project.id is not None
    return _store().get(trial_id, _owner(), project.id) if trial_id else None


def _scorer() -> trials.Scorer:
    settings = current_settings()
    judge = partial(judge_record, base_url=settings.openai_base_url, api_key=settings.openai_api_key)
    return partial(score_record, judge=judge)


def _start_trial(project: Project, form: PlaygroundForm) -> trials.Trial:
    assert project.id is not None
    config = form.prompt_config()
    cases = _cases(project, form)
    metrics = _metrics(project, form)
    trial = trials.Trial(_owner(), project.id, form.as_dict(), cases, metrics)
    settings = current_settings()
    system = system_from_config(
        config,
        concurrency=trials.CONCURRENCY,
        openai_base_url=settings.openai_base_url,
        openai_api_key=settings.openai_api_key,
        all_inputs=[case.inputs for case in cases],
    )
    _store().add(trial)
    trials.start_run(trial, system, _scorer())
    return trial


def _cases(project: Project, form: PlaygroundForm) -> list[trials.Case]:
    cases: list[trials.Case] = []
    if form.testcase_ids:
        testset = _testset(project, form.testset_id)
        ids = _ids(form.testcase_ids, "testcase_id")
        rows = database.session().exec(
            select(Testcase).where(Testcase.testset_id == testset.id, col(Testcase.id).in_(ids)).order_by(Testcase.id)
        )
        for row in rows:
            body = wire.testcase(row, testset.field_mapping)
            cases.append(trials.Case(f"Testcase #{row.id}", body["inputs"], body["expected"], str(row.id)))
    adhoc = form.adhoc_case()
    if adhoc is not None:
        cases.append(trials.Case("Ad-hoc input", *adhoc))
    if not cases:
        raise InvalidField("testcase_id", "choose at least one testcase of the testset, or type an ad-hoc input")
    if len(cases) > trials.MAX_CASES:
        raise InvalidField("testcase_id", f"the playground tries at most {trials.MAX_CASES} testcases at once")
    return cases


def _metrics(project: Project, form: PlaygroundForm) -> list[trials.TrialMetric]:
    chosen = set(_ids(form.metric_ids, "metric_id"))
    metrics = []
    for metric in _project_metrics(project):
        config = metric_config(metric)
        if metric.id not in chosen or not scorable(config):
            continue
        if metric.eval_type == "ai":
            config["guidelines"] = form.guidelines.get(str(metric.id), metric.guidelines)
        metrics.append(
            trials.TrialMetric(str(metric.id), metric.name, metric.output_type, metric.passing_threshold, config)
        )
    return metrics


def _save_version(project: Project, form: PlaygroundForm) -> tuple[System, SystemVersion]:
    assert project.id is not None
    config = form.prompt_config()
    db = database.session()
    if form.system_id:
        system = db.get(System, form.system_id)
        if system is None or system.project_id != project.id:
            raise NotFound.of("system", form.system_id, field="system_id")
    else:
        if not form.system_name:
            raise InvalidField("system_name", "name the new system, or choose one to add the version to")
        system, _created = system_named(project.id, form.system_name)
    version = upsert_version(system, config, form.version_name or None)
    if system.production_version_id is None:  # a new system's first version is its production one, as in the API
        system.production_version_id = version.id
        db.add(system)
    db.commit()
    return system, version


# -- what the page offers -----------------------------------------------------------------------------


def _starting_form(project: Project) -> PlaygroundForm:
    testsets = _testsets(project)
    wanted = request.args.get("testset", "")
    testset = next((t for t in testsets if str(t.id) == wanted), testsets[0] if testsets else None)
    version_id = request.args.get("version", "")
    version = database.session().get(SystemVersion, version_id) if version_id else None
    if version is not None and version.system_id not in {system.id for system, _ in _systems(project)}:
        version = None
    fields = list((testset.field_mapping or {}).get("inputs", [])) if testset else []
    form = PlaygroundForm.starting(str(testset.id) if testset else "", fields, version.config if version else None)
    if version is not None:
        form.system_id = version.system_id
    listed = _listed_testcases(testset)
    form.testcase_ids = [tc["id"] for tc in listed[:PRECHECKED_TESTCASES]]
    return form


def _testsets(project: Project) -> list[Testset]:
    return list(database.session().exec(select(Testset).where(Testset.project_id == project.id).order_by(Testset.id)))


def _testset(project: Project, testset_id: str) -> Testset:
    testset = database.session().get(Testset, _ids([testset_id], "testset_id")[0])
    if testset is None or testset.project_id != project.id:
        raise NotFound.of("testset", testset_id, field="testset_id")
    return testset


def _listed_testcases(testset: Testset | None) -> list[dict]:
    if testset is None:
        return []
    rows = database.session().exec(
        select(Testcase).where(Testcase.testset_id == testset.id).order_by(Testcase.id).limit(LISTED_TESTCASES)
    )
    return [wire.testcase(row, testset.field_mapping) for row in rows]


def _project_metrics(project: Project) -> list[Metric]:
    return list(database.session().exec(select(Metric).where(Metric.project_id == project.id).order_by(Metric.id)))


def _systems(project: Project) -> list[tuple[System, list[SystemVersion]]]:
    """The project's systems, each with its prompt versions (the playground opens those)."""
    db = database.session()
    systems = db.exec(select(System).where(System.project_id == project.id).order_by(System.name)).all()
    versions = db.exec(
        select(SystemVersion)
        .where(col(SystemVersion.system_id).in_([s.id for s in systems]))
        .order_by(SystemVersion.created_at)
    ).all()
    prompts = [v for v in versions if isinstance(v.config, dict) and v.config.get("kind") == "prompt"]
    return [(system, [v for v in prompts if v.system_id == system.id]) for system in systems]


def _ids(values: list[str], name: str) -> list[int]:
    ids = [parse_id(value) for value in values]
    if None in ids:
        raise InvalidField(name, "must be an ID")
    return [i for i in ids if i is not None]
