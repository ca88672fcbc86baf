"""monitors: scheduled samples of a project's spans, each cycle a run; records found by otel link

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TEXT = sqlmodel.sql.sqltypes.AutoString
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "monitor",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("description", TEXT(), nullable=False),
        sa.Column("metric_ids", JSON, nullable=False),
        sa.Column("frequency_minutes", sa.Integer(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("service_name", TEXT(), nullable=True),
        sa.Column("span_name", TEXT(), nullable=True),
        sa.Column("search", TEXT(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_cycle_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sampled_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cycle_token", TEXT(), nullable=True),
        sa.Column("cycle_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "description"),
    )
    op.create_table(
        "monitor_cycle",
        sa.Column("id", ID, nullable=False),
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=True),
        sa.Column("trigger", TEXT(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monitor_cycle_monitor_id_id", "monitor_cycle", ["monitor_id", "id"], unique=False)
    op.create_index(op.f("ix_monitor_cycle_run_id"), "monitor_cycle", ["run_id"], unique=False)
    op.create_table(
        "monitor_sample",
        sa.Column("monitor_id", ID, nullable=False),
        sa.Column("span_row_id", ID, nullable=False),
        sa.Column("cycle_id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["span_row_id"], ["span.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["cycle_id"], ["monitor_cycle.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("monitor_id", "span_row_id"),
    )
    op.create_index(op.f("ix_monitor_sample_record_id"), "monitor_sample", ["record_id"], unique=False)
    op.create_index("ix_span_project_id_created_at", "span", ["project_id", "created_at"], unique=False)
    op.create_index(op.f("ix_record_otel_link_id"), "record", ["otel_link_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_record_otel_link_id"), table_name="record")
    op.drop_index("ix_span_project_id_created_at", table_name="span")
    op.drop_table("monitor_sample")
    op.drop_table("monitor_cycle")
    op.drop_table("monitor")
