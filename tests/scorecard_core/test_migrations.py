"""Alembic migrations: ``upgrade head`` builds exactly the schema the SQLModel tables describe,
on SQLite and PostgreSQL; upgrading again changes nothing; ``scorecard db upgrade`` does the same.

Each test starts from an empty database (a new SQLite file, or a new PostgreSQL database on the
test server), so the whole migration chain runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from scorecard_core import (
    db,
    models,  # noqa: F401  (registers every table on the metadata, as env.py does)
)
from scorecard_core.records_search import outside_the_models
from tests.support.processes import run_cli


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scorecard.db'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    name = f"scorecard_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def differences(database_url: str) -> list[Any]:
    """What autogenerate would put in a new migration: empty when models and schema agree."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            opts = {
                "compare_type": True,
                "compare_server_default": True,
                # As env.py: the search index of migration 0010 is no model.
                "include_name": lambda name, type_, _parents: not outside_the_models(name, type_),
            }
            context = MigrationContext.configure(conn, opts=opts)
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def _table_shape(inspector: Any, name: str) -> dict[str, Any]:
    def listing(items: list[dict[str, Any]]) -> list[str]:
        return sorted(repr(sorted(item.items())) for item in items)

    return {
        "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in inspector.get_columns(name)],
        "indexes": listing(inspector.get_indexes(name)),
        "unique": listing(inspector.get_unique_constraints(name)),
        "foreign_keys": listing(inspector.get_foreign_keys(name)),
        "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
    }


def schema_and_version(database_url: str) -> dict[str, Any]:
    """Tables with their columns, indexes, constraints and foreign keys, plus the Alembic revision."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            names = [name for name in sorted(inspector.get_table_names()) if not outside_the_models(name, "table")]
            tables = {name: _table_shape(inspector, name) for name in names}
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    return {"tables": tables, "version": version}


def head_revision() -> str:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_current_head()


def test_upgrade_head_matches_the_models(empty_database_url):
    db.upgrade(empty_database_url)
    assert differences(empty_database_url) == []
    state = schema_and_version(empty_database_url)
    assert state["version"] == [head_revision()]
    assert set(state["tables"]) == {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"}


def test_upgrading_twice_changes_nothing(empty_database_url):
    db.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO project (name, description, created_at) VALUES ('kept', '', CURRENT_TIMESTAMP)")
            )
    finally:
        engine.dispose()
    first = schema_and_version(empty_database_url)

    db.upgrade(empty_database_url)
    assert schema_and_version(empty_database_url) == first
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM project")).scalars().all() == ["kept"]
    finally:
        engine.dispose()


def test_cli_db_upgrade(empty_database_url):
    upgraded = run_cli("db", "upgrade", "--database-url", empty_database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database is up to date" in upgraded.stdout
    assert differences(empty_database_url) == []
    assert schema_and_version(empty_database_url)["version"] == [head_revision()]

    again = run_cli("db", "upgrade", database_url=empty_database_url)  # the URL from the environment
    assert again.returncode == 0, again.stderr
    assert differences(empty_database_url) == []


def test_cli_db_upgrade_reports_an_unusable_database_without_a_traceback(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the database directory should be")
    for url in (f"sqlite:///{blocked / 'scorecard.db'}", "postgresql+psycopg://postgres@127.0.0.1:1/nothing"):
        result = run_cli("db", "upgrade", "--database-url", url)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr, result.stderr


# One row in every table as of 0003, joined by foreign keys (literal SQL: the models have moved on).
ROWS_AT_0003 = [
    "INSERT INTO project (id, name, description, created_at) VALUES (7, 'p', 'd', CURRENT_TIMESTAMP)",
    "INSERT INTO testset (id, project_id, name, description, json_schema, field_mapping, created_at)"
    " VALUES (8, 7, 'ts', '', '{\"type\": \"object\"}', '{}', CURRENT_TIMESTAMP)",
    "INSERT INTO testcase (id, testset_id, json_data, created_at) VALUES (9, 8, '{\"q\": 1}', CURRENT_TIMESTAMP)",
    "INSERT INTO metric (id, project_id, name, eval_type, output_type, guidelines, created_at, updated_at)"
    " VALUES (10, 7, 'm', 'ai', 'boolean', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO metric_version (id, metric_id, config_hash, config, created_at)"
    " VALUES ('mv', 10, 'h', '{}', CURRENT_TIMESTAMP)",
    "INSERT INTO metric_group (id, project_id, name, description, metric_ids, created_at, updated_at)"
    " VALUES (11, 7, 'g', '', '[10]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO system (id, project_id, name, description, created_at) VALUES ('s', 7, 'sys', '', CURRENT_TIMESTAMP)",
    "INSERT INTO run (id, project_id, testset_id, metric_ids, metric_version_ids, num_records, num_scores,"
    " status, source, notes, created_at, updated_at)"
    " VALUES (12, 7, 8, '[10]', '[\"mv\"]', 1, 1, 'completed', 'api', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO record (id, run_id, testcase_id, inputs, expected, outputs, created_at)"
    " VALUES (13, 12, 9, '{}', '{}', '{\"a\": 1}', CURRENT_TIMESTAMP)",
    "INSERT INTO score (id, run_id, record_id, metric_version_id, status, user_id, created_at, updated_at)"
    " VALUES (14, 12, 13, 'mv', 'scored', 'u', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO api_key (id, name, prefix, key_hash, created_at) VALUES (15, 'k', 'ak_', 'hash', CURRENT_TIMESTAMP)",
    "INSERT INTO github_connection (id, project_id, repo, branch, workflow, event_type, dispatch, on_kickoff,"
    " on_pull_request, on_merge, testset_id, metric_ids, fail_under, auth, installation_id, created_at, updated_at)"
    " VALUES (16, 7, 'o/r', 'main', 'w.yml', 'e', 'workflow_dispatch', true, false, false, 8, '[10]', '', 'app',"
    " 2147483647, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
]


def _rows(conn: Any, columns: dict[str, list[str]]) -> dict[str, list[tuple]]:
    return {
        table: [tuple(row) for row in conn.execute(text(f'SELECT {", ".join(cols)} FROM "{table}" ORDER BY 1'))]
        for table, cols in columns.items()
    }


def test_upgrading_a_database_with_data_keeps_it_and_makes_ids_64_bit(empty_database_url):
    db.upgrade(empty_database_url, "0003")
    engine = create_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            for statement in ROWS_AT_0003:
                conn.execute(text(statement))
            inspector = inspect(conn)
            columns = {t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()}
            columns.pop("alembic_version")
            before = _rows(conn, columns)
        engine.dispose()

        db.upgrade(empty_database_url)

        with engine.begin() as conn:
            assert _rows(conn, columns) == before
            if conn.dialect.name == "postgresql":
                for table, names in {"project": ["id"], "record": ["id", "run_id", "testcase_id"]}.items():
                    types = {c["name"]: str(c["type"]) for c in inspect(conn).get_columns(table)}
                    assert all(types[name] == "BIGINT" for name in names), types
                # The id sequences count past 2^31 too.
                conn.execute(text("SELECT setval(pg_get_serial_sequence('project', 'id'), 2147483647)"))
            else:
                conn.execute(
                    text(
                        "INSERT INTO project (id, name, description, created_at)"
                        " VALUES (2147483647, 'x', '', CURRENT_TIMESTAMP)"
                    )
                )
            # Autoincrement past 2^31, and foreign keys that hold such IDs.
            project_id = conn.execute(
                text(
                    "INSERT INTO project (name, description, created_at) VALUES ('big', '', CURRENT_TIMESTAMP)"
                    " RETURNING id"
                )
            ).scalar_one()
            assert project_id == 2**31
            conn.execute(
                text(
                    "INSERT INTO testset (id, project_id, name, description, json_schema, field_mapping, created_at)"
                    f" VALUES ({2**63 - 1}, {project_id}, 'big', '', '{{}}', '{{}}', CURRENT_TIMESTAMP)"
                )
            )
            assert conn.execute(text(f"SELECT project_id FROM testset WHERE id = {2**63 - 1}")).scalar_one() == 2**31
    finally:
        engine.dispose()
