"""What a kickoff can pick from in one project: its testsets, metrics, metric groups and the
versions of its systems, each version with the kind of system it is (prompt, endpoint, or one the
server does not run)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import select

from scorecard_core.models import Metric, MetricGroup, Project, System, SystemVersion, Testset

from ... import database


@dataclass(frozen=True)
class SystemChoice:
    system: System
    versions: list[SystemVersion]


@dataclass(frozen=True)
class Choices:
    testsets: list[Testset]
    metrics: list[Metric]
    groups: list[MetricGroup]
    systems: list[SystemChoice]

    def versions_of_kind(self, kind: str) -> list[SystemChoice]:
        """The systems with versions whose config says ``"kind": kind``, only those versions."""
        picked = [SystemChoice(c.system, [v for v in c.versions if kind_of(v) == kind]) for c in self.systems]
        return [c for c in picked if c.versions]


def kind_of(version: SystemVersion) -> str | None:
    config = version.config
    return config.get("kind") if isinstance(config, dict) else None


def load(project: Project) -> Choices:
    session = database.session()

    def of_project(model, order):
        return list(session.exec(select(model).where(model.project_id == project.id).order_by(order)))

    return Choices(
        of_project(Testset, Testset.id),
        of_project(Metric, Metric.id),
        of_project(MetricGroup, MetricGroup.id),
        system_choices(project),
    )


def system_choices(project: Project) -> list[SystemChoice]:
    """The project's systems that have versions, newest version first."""
    session = database.session()
    systems = session.exec(select(System).where(System.project_id == project.id).order_by(System.name)).all()
    by_system: dict[str, list[SystemVersion]] = defaultdict(list)
    if systems:
        statement = select(SystemVersion).where(SystemVersion.system_id.in_([s.id for s in systems]))
        for version in session.exec(statement.order_by(SystemVersion.created_at.desc())):
            by_system[version.system_id].append(version)
    return [SystemChoice(s, by_system[s.id]) for s in systems if by_system[s.id]]
