"""a run's records are paged by (run_id, id)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The composite index serves everything the run_id index did (it leads with run_id), and a
    # page of a run's records in ID order no longer walks the primary key through other runs.
    op.create_index("ix_record_run_id_id", "record", ["run_id", "id"], unique=False)
    op.drop_index("ix_record_run_id", table_name="record")


def downgrade() -> None:
    op.create_index("ix_record_run_id", "record", ["run_id"], unique=False)
    op.drop_index("ix_record_run_id_id", table_name="record")
