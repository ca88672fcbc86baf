"""A project's testsets with their testcase and run counts; each opens the kickoff dialog with it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from sqlalchemy import func
from sqlmodel import select

from scorecard_core.models import Run, Testcase, Testset

from .. import database
from ..api.projects import load_project

bp = Blueprint("testsets", __name__)


@dataclass(frozen=True)
class TestsetRow:
    testset: Testset
    testcases: int
    runs: int


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
