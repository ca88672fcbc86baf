"""Alembic environment: runs migrations against the URL set by ``scorecard_core.db``."""

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

from scorecard_core import models  # noqa: F401  (registers every table on the metadata)
from scorecard_core.records_search import outside_the_models

MIGRATION_LOCK_ID = 7_273_312_345  # any constant shared by every process of this app
config = context.config
target_metadata = SQLModel.metadata


def include_name(name, type_, _parent_names) -> bool:
    """Autogenerate compares only what the models describe (not the search index of 0010)."""
    return not outside_the_models(name, type_)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Concurrent starts (gunicorn workers) take turns; released when the connection closes.
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})")
            connection.commit()
        # Batch mode lets later migrations alter SQLite tables by copying them.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
