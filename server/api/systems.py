"""Systems (upserted by name) and their immutable versions (upserted by config)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import func
from sqlmodel import select

from scorecard_core import wire
from scorecard_core.errors import InvalidField
from scorecard_core.hashing import content_hash
from scorecard_core.models import System, SystemVersion

from .. import database
from .parsing import Body, assign_given, get_or_404, paginate, parse
from .projects import load_project

bp = Blueprint("systems", __name__)

DEFAULT_SYSTEM_NAME = "Default system"


class SystemUpsert(Body):
    config: dict[str, Any]
    name: str = DEFAULT_SYSTEM_NAME
    description: str | None = None


class SystemUpdate(Body):
    name: str | None = None
    description: str | None = None
    production_version_id: str | None = None


class VersionUpsert(Body):
    config: dict[str, Any]
    name: str | None = None


def load_system(system_id: str) -> System:
    return get_or_404(System, system_id, "system", numeric=False)


def versions_of(system: System) -> list[SystemVersion]:
    statement = select(SystemVersion).where(SystemVersion.system_id == system.id).order_by(SystemVersion.created_at)
    return list(database.session().exec(statement).all())


def render(system: System) -> dict[str, Any]:
    return wire.system(system, versions_of(system))


def upsert_version(system: System, config: dict[str, Any], name: str | None) -> SystemVersion:
    session = database.session()
    digest = content_hash(config)
    version = session.exec(
        select(SystemVersion).where(SystemVersion.system_id == system.id, SystemVersion.config_hash == digest)
    ).first()
    if version is None:
        count = session.exec(select(func.count()).where(SystemVersion.system_id == system.id)).one()
        version = SystemVersion(system_id=system.id, name=name or f"v{count + 1}", config_hash=digest, config=config)
    elif name:
        version.name = name
    session.add(version)
    session.flush()
    return version


def system_named(project_id: int, name: str) -> tuple[System, bool]:
    """The project's system of that name, created (and True) when there is none: systems are upserted by name."""
    session = database.session()
    system = session.exec(select(System).where(System.project_id == project_id, System.name == name)).first()
    if system is not None:
        return system, False
    system = System(project_id=project_id, name=name)
    session.add(system)
    session.flush()
    return system, True


@bp.post("/projects/<project_id>/systems")
def upsert_system(project_id: str):
    project = load_project(project_id)
    body = parse(SystemUpsert)
    session = database.session()
    system, created = system_named(project.id, body.name)
    assign_given(system, body, "description")
    system.production_version_id = upsert_version(system, body.config, None).id
    session.add(system)
    session.commit()
    return render(system), 201 if created else 200


@bp.get("/projects/<project_id>/systems")
def list_systems(project_id: str):
    project = load_project(project_id)
    statement = select(System).where(System.project_id == project.id)
    return paginate(database.session(), statement, System.id, lambda rows: [render(s) for s in rows])


@bp.get("/systems/<system_id>")
def get_system(system_id: str):
    return render(load_system(system_id))


@bp.patch("/systems/<system_id>")
def update_system(system_id: str):
    system = load_system(system_id)
    body = parse(SystemUpdate)
    session = database.session()
    assign_given(system, body, "name", "description")
    if body.production_version_id is not None:
        version = session.get(SystemVersion, body.production_version_id)
        if version is None or version.system_id != system.id:
            raise InvalidField("productionVersionId", "must be the ID of one of this system's versions")
        system.production_version_id = version.id
    session.add(system)
    session.commit()
    return render(system)


@bp.delete("/systems/<system_id>")
def delete_system(system_id: str):
    system = load_system(system_id)
    session = database.session()
    session.delete(system)
    session.commit()
    return {"success": True}


@bp.post("/systems/<system_id>/versions")
def upsert_system_version(system_id: str):
    system = load_system(system_id)
    body = parse(VersionUpsert)
    version = upsert_version(system, body.config, body.name)
    database.session().commit()
    return wire.system_version(version)


@bp.get("/systems/versions/<version_id>")
def get_system_version(version_id: str):
    return wire.system_version(get_or_404(SystemVersion, version_id, "system version", numeric=False))
