"""Testsets and their testcases.

Testcases are validated against the testset's JSON Schema and stored even when invalid, with
``validationErrors``; ``inputs`` and ``expected`` come from the testset's ``fieldMapping``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import Field
from sqlalchemy import delete
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.models import Testcase, Testset
from scorecard_core.testsets import TestcaseValidator, check_schema, normalize_field_mapping

from .. import database
from .parsing import Body, NumericId, assign_given, get_or_404, paginate, parse
from .projects import load_project

bp = Blueprint("testsets", __name__)

MAX_TESTCASES_PER_REQUEST = 100


class FieldMapping(Body):
    model_config = Body.model_config | {"extra": "forbid"}
    inputs: list[str] = []
    expected: list[str] = []
    metadata: list[str] = []


class TestsetCreate(Body):
    __test__ = False
    name: str
    description: str = ""
    json_schema: dict[str, Any]
    field_mapping: FieldMapping


class TestsetUpdate(Body):
    __test__ = False
    name: str | None = None
    description: str | None = None
    json_schema: dict[str, Any] | None = None
    field_mapping: FieldMapping | None = None


class TestcaseData(Body):
    __test__ = False
    json_data: dict[str, Any]


class TestcaseBatch(Body):
    __test__ = False
    items: list[TestcaseData] = Field(min_length=1, max_length=MAX_TESTCASES_PER_REQUEST)


class TestcaseIds(Body):
    __test__ = False
    ids: list[NumericId] = Field(min_length=1)


def load_testset(testset_id: str) -> Testset:
    return get_or_404(Testset, testset_id, "testset")


def load_testcase(testcase_id: str) -> tuple[Testcase, Testset]:
    testcase = get_or_404(Testcase, testcase_id, "testcase")
    return testcase, database.session().get(Testset, testcase.testset_id)


@bp.post("/projects/<project_id>/testsets")
def create_testset(project_id: str):
    project = load_project(project_id)
    body = parse(TestsetCreate)
    check_schema(body.json_schema)
    mapping = normalize_field_mapping(body.field_mapping.model_dump(), body.json_schema)
    testset = Testset(
        project_id=project.id,
        name=body.name,
        description=body.description,
        json_schema=body.json_schema,
        field_mapping=mapping,
    )
    session = database.session()
    session.add(testset)
    session.commit()
    return wire.testset(testset), 201


@bp.get("/projects/<project_id>/testsets")
def list_testsets(project_id: str):
    project = load_project(project_id)
    statement = select(Testset).where(Testset.project_id == project.id)
    return paginate(database.session(), statement, Testset.id, lambda rows: [wire.testset(t) for t in rows])


@bp.get("/testsets/<testset_id>")
def get_testset(testset_id: str):
    return wire.testset(load_testset(testset_id))


@bp.patch("/testsets/<testset_id>")
def update_testset(testset_id: str):
    testset = load_testset(testset_id)
    body = parse(TestsetUpdate)
    session = database.session()
    assign_given(testset, body, "name", "description")
    if body.json_schema is not None or body.field_mapping is not None:
        schema = body.json_schema if body.json_schema is not None else testset.json_schema
        check_schema(schema)
        mapping = body.field_mapping.model_dump() if body.field_mapping is not None else testset.field_mapping
        testset.json_schema = schema
        testset.field_mapping = normalize_field_mapping(mapping, schema)
        _revalidate(testset)
    session.add(testset)
    session.commit()
    return wire.testset(testset)


def _revalidate(testset: Testset) -> None:
    session = database.session()
    validator = TestcaseValidator(testset.json_schema)
    for testcase in session.exec(select(Testcase).where(Testcase.testset_id == testset.id)):
        testcase.validation_errors = validator.errors(testcase.json_data)
        session.add(testcase)


@bp.delete("/testsets/<testset_id>")
def delete_testset(testset_id: str):
    testset = load_testset(testset_id)
    session = database.session()
    session.delete(testset)
    session.commit()
    return {"success": True}


@bp.get("/testsets/<testset_id>/testcases")
def list_testcases(testset_id: str):
    testset = load_testset(testset_id)
    statement = select(Testcase).where(Testcase.testset_id == testset.id)
    mapping = testset.field_mapping
    return paginate(database.session(), statement, Testcase.id, lambda rows: [wire.testcase(t, mapping) for t in rows])


@bp.post("/testsets/<testset_id>/testcases")
def create_testcases(testset_id: str):
    testset = load_testset(testset_id)
    body = parse(TestcaseBatch)
    validator = TestcaseValidator(testset.json_schema)
    testcases = [
        Testcase(testset_id=testset.id, json_data=item.json_data, validation_errors=validator.errors(item.json_data))
        for item in body.items
    ]
    session = database.session()
    session.add_all(testcases)
    session.commit()
    return {"items": [wire.testcase(t, testset.field_mapping) for t in testcases]}, 201


@bp.get("/testcases/<testcase_id>")
def get_testcase(testcase_id: str):
    testcase, testset = load_testcase(testcase_id)
    return wire.testcase(testcase, testset.field_mapping)


@bp.put("/testcases/<testcase_id>")
def replace_testcase(testcase_id: str):
    testcase, testset = load_testcase(testcase_id)
    body = parse(TestcaseData)
    testcase.json_data = body.json_data
    testcase.validation_errors = TestcaseValidator(testset.json_schema).errors(body.json_data)
    session = database.session()
    session.add(testcase)
    session.commit()
    return wire.testcase(testcase, testset.field_mapping)


@bp.post("/testcases/bulk-delete")
def delete_testcases():
    body = parse(TestcaseIds)
    session = database.session()
    session.execute(delete(Testcase).where(Testcase.id.in_(body.ids)))
    session.commit()
    return {"success": True}
