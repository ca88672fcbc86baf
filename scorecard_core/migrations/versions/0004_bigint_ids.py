"""64-bit primary and foreign keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Every integer ID column as of 0003: primary keys, foreign keys and ID references.
ID_COLUMNS = {
    "project": ["id"],
    "testset": ["id", "project_id"],
    "testcase": ["id", "testset_id"],
    "metric": ["id", "project_id"],
    "metric_version": ["metric_id"],
    "metric_group": ["id", "project_id"],
    "system": ["project_id"],
    "run": ["id", "project_id", "testset_id"],
    "record": ["id", "run_id", "testcase_id"],
    "score": ["id", "run_id", "record_id"],
    "api_key": ["id"],
    "github_connection": ["id", "project_id", "testset_id", "installation_id"],
}


def _convert(column_type: str) -> None:
    # SQLite's INTEGER is already 64-bit, and an INTEGER PRIMARY KEY must stay the rowid alias:
    # only PostgreSQL changes. ALTER ... TYPE keeps every row (and rewrites the table).
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in ID_COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{column}" TYPE {column_type}' for column in columns)
        op.execute(f'ALTER TABLE "{table}" {changes}')
        if "id" in columns:
            # A SERIAL's sequence is an integer sequence that stops at 2^31-1 of its own.
            op.execute(
                f"DO $$ DECLARE seq text := pg_get_serial_sequence('\"{table}\"', 'id'); BEGIN "
                f"IF seq IS NOT NULL THEN EXECUTE format('ALTER SEQUENCE %s AS {column_type}', seq); END IF; END $$"
            )


def upgrade() -> None:
    _convert("BIGINT")


def downgrade() -> None:
    _convert("INTEGER")
