"""The typed accessors of models.py: a stored row's ID, and a table model's Core table."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import NoInspectionAvailable
from sqlmodel import SQLModel

from scorecard_core.db import session_scope
from scorecard_core.models import Project, Record, Run, id_of, table_of


def test_id_of_a_flushed_row_is_its_id(engine):
    with session_scope(engine) as session:
        project = Project(name="p")
        session.add(project)
        session.flush()
        assert id_of(project) == project.id
        assert isinstance(id_of(project), int)


def test_id_of_a_row_never_flushed_is_refused():
    with pytest.raises(AssertionError, match="Project has no ID yet"):
        id_of(Project(name="p"))


def test_table_of_a_model_is_the_table_it_maps():
    assert table_of(Run) is Run.__table__
    assert table_of(Record).name == "record"
    assert "idempotency_key" in table_of(Record).c


def test_table_of_a_model_without_a_table_is_refused():
    class Plain(SQLModel):
        name: str = ""

    with pytest.raises(NoInspectionAvailable):
        table_of(Plain)
