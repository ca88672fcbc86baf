"""A project's testsets, and one testset's page: its schema and field mapping, its testcases paged
with their validation errors, adding, editing and deleting a testcase, importing a CSV or JSONL
file and exporting the testcases.

A testcase written here is validated as the API validates it: stored even when it does not match
the schema, with its validation errors shown. An import is stricter, as a batch of rows should be:
rows that do not match are reported by line and left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func
from sqlmodel import col, select

from scorecard_core import testcase_export
from scorecard_core.errors import InvalidField, ScorecardError
from scorecard_core.models import Project, Run, Testcase, Testset
from scorecard_core.testcase_import import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportResult,
    RowRefused,
    import_rows,
    json_value,
)
from scorecard_core.testsets import MAPPING_ROLES, TestcaseValidator, split

from .. import database
from ..api.projects import load_project
from .formatting import pretty_json
from .loading import load_child
from .paging import cursor_arg

bp = Blueprint("testsets", __name__)

TESTCASES_PER_PAGE = 25
PROBLEMS_SHOWN = 200  # of an import's refused rows; the count says how many more
DATA_FIELD = "json_data"
SKELETON_VALUES = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}


@dataclass(frozen=True)
class TestsetRow:
    testset: Testset
    testcases: int
    runs: int


@dataclass(frozen=True)
class TestcaseRow:
    testcase: Testcase
    inputs: dict[str, Any]
    expected: dict[str, Any]


def _has_validation_errors(column: Any) -> Any:
    """Neither SQL NULL nor JSON null (what an ORM write of None stores)."""
    return sa.and_(column.is_not(None), sa.cast(column, sa.Text) != "null")


def load_testset(project: Project, testset_id: str) -> Testset:
    return load_child(Testset, testset_id, "testset", "project_id", project, "project")


def load_testcase(testset: Testset, testcase_id: str) -> Testcase:
    return load_child(Testcase, testcase_id, "testcase", "testset_id", testset, "testset")


@bp.get("/projects/<project_id>/testsets")
def testsets(project_id: str):
    project = load_project(project_id)
    session = database.session()
    listed = list(session.exec(select(Testset).where(Testset.project_id == project.id).order_by(Testset.id)))
    ids = [t.id for t in listed]
    testcases = dict(
        session.exec(
            select(Testcase.testset_id, func.count()).where(Testcase.testset_id.in_(ids)).group_by(Testcase.testset_id)
        ).all()
    )
    runs = dict(
        session.exec(select(Run.testset_id, func.count()).where(Run.testset_id.in_(ids)).group_by(Run.testset_id)).all()
    )
    rows = [TestsetRow(t, testcases.get(t.id, 0), runs.get(t.id, 0)) for t in listed]
    return render_template("ui/testsets.html", project=project, rows=rows)


@bp.get("/projects/<project_id>/testsets/<testset_id>")
def testset(project_id: str, testset_id: str):
    project = load_project(project_id)
    return _testset_page(project, load_testset(project, testset_id))


@bp.post("/projects/<project_id>/testsets/<testset_id>/testcases")
def add_testcase(project_id: str, testset_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    text = _posted_data()
    try:
        data = _data_object(text)
    except InvalidField as exc:
        return _testset_page(project, testset, 400, problem=exc.message, draft=text)
    return redirect(_store(project, testset, Testcase(testset_id=testset.id, json_data=data), "added"), 303)


@bp.get("/projects/<project_id>/testsets/<testset_id>/testcases/<testcase_id>")
def testcase(project_id: str, testset_id: str, testcase_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    found = load_testcase(testset, testcase_id)
    return _testcase_page(project, testset, found, pretty_json(found.json_data))


@bp.post("/projects/<project_id>/testsets/<testset_id>/testcases/<testcase_id>")
def save_testcase(project_id: str, testset_id: str, testcase_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    found = load_testcase(testset, testcase_id)
    text = _posted_data()
    try:
        found.json_data = _data_object(text)
    except InvalidField as exc:
        return _testcase_page(project, testset, found, text, 400, exc.message)
    return redirect(_store(project, testset, found, "saved"), 303)


@bp.post("/projects/<project_id>/testsets/<testset_id>/testcases/<testcase_id>/delete")
def delete_testcase(project_id: str, testset_id: str, testcase_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    found = load_testcase(testset, testcase_id)
    session = database.session()
    session.delete(found)
    session.commit()
    flash(f"Testcase #{testcase_id} deleted.", "ok")
    return redirect(url_for("ui.testsets.testset", project_id=project.id, testset_id=testset.id), 303)


@bp.post("/projects/<project_id>/testsets/<testset_id>/import")
def import_testcases(project_id: str, testset_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        problem = "`file` is missing: choose a CSV or JSONL file to import."
        return _testset_page(project, testset, 400, problem=problem)
    content = upload.stream.read(MAX_IMPORT_BYTES + 1)
    try:
        result = import_rows(content, upload.filename, request.form.get("format", ""), testset.json_schema)
    except ScorecardError as exc:
        return _testset_page(project, testset, 400, problem=exc.message, import_name=upload.filename)
    session = database.session()
    session.add_all(Testcase(testset_id=testset.id, json_data=row.data) for row in result.rows)
    session.commit()
    return _testset_page(project, testset, imported=result, import_name=upload.filename)


@bp.get("/projects/<project_id>/testsets/<testset_id>/testcases.jsonl")
def export_jsonl(project_id: str, testset_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    body = testcase_export.jsonl_text(_all_data(testset))
    return _download(body, "application/x-ndjson", f"testset-{testset.id}.jsonl")


@bp.get("/projects/<project_id>/testsets/<testset_id>/testcases.csv")
def export_csv(project_id: str, testset_id: str):
    project = load_project(project_id)
    testset = load_testset(project, testset_id)
    fields = testcase_export.schema_fields(testset.json_schema, testset.field_mapping)
    body = testcase_export.csv_text(fields, _all_data(testset))
    return _download(body, "text/csv; charset=utf-8", f"testset-{testset.id}.csv")


def _download(body: Any, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _all_data(testset: Testset) -> list[dict[str, Any]]:
    statement = select(Testcase.json_data).where(Testcase.testset_id == testset.id).order_by(Testcase.id)
    return list(database.session().exec(statement))


def _posted_data() -> str:
    return request.form.get(DATA_FIELD, "").replace("\r\n", "\n")


def _data_object(text: str) -> dict[str, Any]:
    """The textarea's JSON object, or a refusal that says what to fix."""
    if not text.strip():
        raise InvalidField("jsonData", "is empty: write the testcase as a JSON object. Nothing was saved.")
    try:
        value = json_value(text)
    except RowRefused as exc:
        raise InvalidField("jsonData", f"{exc}: fix it and save again. Nothing was saved.") from None
    if not isinstance(value, dict):
        raise InvalidField("jsonData", "must be a JSON object ({…}) with the schema's fields. Nothing was saved.")
    return value


def _store(project: Project, testset: Testset, testcase: Testcase, done: str) -> str:
    """Validated exactly as the API does: stored either way, its validation errors with it. Where
    to go next: the testset, or the testcase's own page when it needs fixing."""
    testcase.validation_errors = TestcaseValidator(testset.json_schema).errors(testcase.json_data)
    session = database.session()
    session.add(testcase)
    session.commit()
    if testcase.validation_errors:
        count = len(testcase.validation_errors)
        flash(
            f"Testcase #{testcase.id} {done}, but it does not match the schema ({count} validation "
            f"error{'s' if count != 1 else ''}): fix its data below and save again.",
            "error",
        )
        return url_for("ui.testsets.testcase", project_id=project.id, testset_id=testset.id, testcase_id=testcase.id)
    flash(f"Testcase #{testcase.id} {done}.", "ok")
    return url_for("ui.testsets.testset", project_id=project.id, testset_id=testset.id)


def _declared_types(testset: Testset) -> dict[str, Any]:
    """Each of the schema's fields (in the mapping's order) with its ``type`` as declared."""
    properties = testset.json_schema.get("properties") or {}
    fields = testcase_export.schema_fields(testset.json_schema, testset.field_mapping)
    specs = {name: properties.get(name) for name in fields}
    return {name: spec.get("type") if isinstance(spec, dict) else None for name, spec in specs.items()}


def _skeleton(testset: Testset) -> str:
    """A new testcase's starting text: each of the schema's fields with an empty value of its type."""
    declared = _declared_types(testset)
    return pretty_json(
        {name: SKELETON_VALUES.get(kind) if isinstance(kind, str) else None for name, kind in declared.items()}
    )


def _field_types(testset: Testset) -> dict[str, str]:
    """Each field's type in words, for the page: ``integer``, ``string or null``, ``any``."""
    return {
        name: " or ".join(kind) if isinstance(kind, list) else (kind or "any")
        for name, kind in _declared_types(testset).items()
        if name in (testset.json_schema.get("properties") or {})
    }


def _testset_page(
    project: Project,
    testset: Testset,
    status: int = 200,
    problem: str | None = None,
    draft: str | None = None,
    imported: ImportResult | None = None,
    import_name: str | None = None,
):
    session = database.session()
    invalid_only = request.args.get("invalid") == "1"
    cursor = cursor_arg()
    of_testset = select(Testcase).where(Testcase.testset_id == testset.id)
    invalid = _has_validation_errors(col(Testcase.validation_errors))
    listed = of_testset.where(invalid) if invalid_only else of_testset
    if cursor is not None:
        listed = listed.where(col(Testcase.id) > cursor)
    found = list(session.exec(listed.order_by(col(Testcase.id)).limit(TESTCASES_PER_PAGE + 1)))
    next_cursor = found[TESTCASES_PER_PAGE - 1].id if len(found) > TESTCASES_PER_PAGE else None
    counted = select(func.count()).select_from(Testcase).where(Testcase.testset_id == testset.id)
    context = {
        "project": project,
        "testset": testset,
        "roles": MAPPING_ROLES,
        "field_types": _field_types(testset),
        "rows": [TestcaseRow(t, *split(testset.field_mapping, t.json_data)) for t in found[:TESTCASES_PER_PAGE]],
        "total": session.exec(counted).one(),
        "invalid_count": session.exec(counted.where(invalid)).one(),
        "invalid_only": invalid_only,
        "cursor": cursor,
        "next_cursor": next_cursor,
        "problem": problem,
        "draft": _skeleton(testset) if draft is None else draft,
        "add_open": draft is not None,
        "imported": imported,
        "import_name": import_name,
        "problems_shown": PROBLEMS_SHOWN,
        "max_import_mb": MAX_IMPORT_BYTES // (1024 * 1024),
        "max_import_rows": MAX_IMPORT_ROWS,
    }
    return render_template("ui/testset.html", **context), status


def _testcase_page(
    project: Project, testset: Testset, found: Testcase, text: str, status: int = 200, problem: str | None = None
):
    inputs, expected = split(testset.field_mapping, found.json_data)
    context = {
        "project": project,
        "testset": testset,
        "testcase": found,
        "inputs": inputs,
        "expected": expected,
        "text": text,
        "problem": problem,
        "field_types": _field_types(testset),
    }
    return render_template("ui/testcase.html", **context), status
