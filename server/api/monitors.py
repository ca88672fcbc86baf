"""Monitors: ``PUT`` upserts a project's monitor by description (as Scorecard's JS SDK calls it),
list, get, change, delete, its cycles, and ``run`` for a cycle now (scorecard_core/monitors.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlmodel import col, select

from scorecard_core import wire
from scorecard_core.models import Monitor, MonitorCycle, id_of
from scorecard_core.monitor_settings import (
    MonitorChanges,
    MonitorUpsert,
    change_monitor,
    check_lookback,
    upsert_monitor,
)

from .. import database, monitoring
from .parsing import Body, get_or_404, paginate, parse
from .projects import load_project

bp = Blueprint("monitors", __name__)


class CycleRequest(Body):
    lookback_minutes: int | None = None


def load_monitor(monitor_id: str) -> Monitor:
    return get_or_404(Monitor, monitor_id, "monitor")


@bp.put("/projects/<project_id>/monitors")
def put_monitor(project_id: str):
    project = load_project(project_id)
    session = database.session()
    monitor, created = upsert_monitor(session, id_of(project), parse(MonitorUpsert))
    session.commit()
    return wire.monitor(monitor), 201 if created else 200


# Scorecard's JS SDK (wrapAISDK) asks its client, whose base URL ends in /api/v2, for the path
# "/api/v2/projects/{id}/monitors": the prefix comes twice, and is answered too.
bp.add_url_rule(
    "/api/v2/projects/<project_id>/monitors", "put_monitor_at_the_js_sdks_path", put_monitor, methods=["PUT"]
)


@bp.get("/projects/<project_id>/monitors")
def list_monitors(project_id: str):
    project = load_project(project_id)
    statement = select(Monitor).where(col(Monitor.project_id) == project.id)
    return paginate(database.session(), statement, Monitor.id, lambda rows: [wire.monitor(m) for m in rows])


@bp.get("/monitors/<monitor_id>")
def get_monitor(monitor_id: str):
    return wire.monitor(load_monitor(monitor_id))


@bp.patch("/monitors/<monitor_id>")
def update_monitor(monitor_id: str):
    monitor = load_monitor(monitor_id)
    session = database.session()
    change_monitor(session, monitor, parse(MonitorChanges))
    session.commit()
    return wire.monitor(monitor)


@bp.delete("/monitors/<monitor_id>")
def delete_monitor(monitor_id: str):
    """The monitor and its cycles go; the runs it made stay, as any run does."""
    monitor = load_monitor(monitor_id)
    session = database.session()
    session.delete(monitor)
    session.commit()
    return {"success": True}


@bp.get("/monitors/<monitor_id>/cycles")
def list_cycles(monitor_id: str):
    monitor = load_monitor(monitor_id)
    statement = select(MonitorCycle).where(col(MonitorCycle.monitor_id) == monitor.id)
    return paginate(
        database.session(),
        statement,
        MonitorCycle.id,
        lambda rows: [wire.monitor_cycle(c) for c in rows],
        newest_first=True,
    )


@bp.post("/monitors/<monitor_id>/run")
def run_monitor(monitor_id: str):
    """A cycle now over the last ``lookbackMinutes`` (default: one period); the schedule is kept."""
    monitor = load_monitor(monitor_id)
    # The body is optional: an empty one asks for the default lookback.
    body = parse(CycleRequest, None if request.get_data(cache=True).strip() else {})
    lookback = body.lookback_minutes if body.lookback_minutes is not None else monitor.frequency_minutes
    check_lookback(lookback)
    database.session().rollback()  # the cycle runs in its own transaction
    result = monitoring.cycles_of(current_app).run_cycle(id_of(monitor), lookback)
    return {
        "cycle": wire.monitor_cycle(result.cycle),
        "run": wire.run(result.run) if result.run is not None else None,
    }, 201
