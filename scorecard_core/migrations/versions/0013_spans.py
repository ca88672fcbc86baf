"""spans received over OTLP/HTTP

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TEXT = sqlmodel.sql.sqltypes.AutoString
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "span",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("trace_id", TEXT(), nullable=False),
        sa.Column("span_id", TEXT(), nullable=False),
        sa.Column("parent_span_id", TEXT(), nullable=True),
        sa.Column("service_name", TEXT(), nullable=False),
        sa.Column("name", TEXT(), nullable=False),
        sa.Column("kind", TEXT(), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status_code", TEXT(), nullable=False),
        sa.Column("status_message", TEXT(), nullable=False),
        sa.Column("attributes", JSON, nullable=False),
        sa.Column("resource_attributes", JSON, nullable=False),
        sa.Column("events", JSON, nullable=True),
        sa.Column("model", TEXT(), nullable=True),
        sa.Column("input_messages", JSON, nullable=True),
        sa.Column("output_messages", JSON, nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("otel_link_id", TEXT(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "trace_id", "span_id"),
    )
    op.create_index("ix_span_project_id_start_time", "span", ["project_id", "start_time"], unique=False)
    op.create_index("ix_span_created_at", "span", ["created_at"], unique=False)
    op.create_index(op.f("ix_span_otel_link_id"), "span", ["otel_link_id"], unique=False)


def downgrade() -> None:
    op.drop_table("span")
