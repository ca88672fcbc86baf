"""Projects: ``POST /projects``, ``GET /projects``."""

from __future__ import annotations

from flask import Blueprint
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.models import Project

from .. import database
from .parsing import Body, get_or_404, paginate, parse

bp = Blueprint("projects", __name__)


class ProjectCreate(Body):
    name: str
    description: str = ""


def load_project(project_id: str) -> Project:
    return get_or_404(Project, project_id, "project")


@bp.post("/projects")
def create_project():
    body = parse(ProjectCreate)
    session = database.session()
    project = Project(name=body.name, description=body.description)
    session.add(project)
    session.commit()
    return wire.project(project), 201


@bp.get("/projects")
def list_projects():
    return paginate(database.session(), select(Project), Project.id, lambda rows: [wire.project(p) for p in rows])
