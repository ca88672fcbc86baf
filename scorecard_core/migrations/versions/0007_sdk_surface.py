"""record tags, assignees, attachments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TEXT = sqlmodel.sql.sqltypes.AutoString
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "record_tag",
        sa.Column("id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("text", TEXT(), nullable=False),
        sa.Column("source", TEXT(), nullable=False),
        sa.Column("user_id", TEXT(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "text"),
    )
    op.create_index(op.f("ix_record_tag_record_id"), "record_tag", ["record_id"], unique=False)
    op.create_index("ix_record_tag_text", "record_tag", ["text"], unique=False)
    op.create_table(
        "record_assignment",
        sa.Column("id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("assignee_user_id", TEXT(), nullable=False),
        sa.Column("assigned_by_user_id", TEXT(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "assignee_user_id"),
    )
    op.create_index(op.f("ix_record_assignment_record_id"), "record_assignment", ["record_id"], unique=False)
    op.create_table(
        "attachment",
        sa.Column("id", TEXT(), nullable=False),
        sa.Column("session_id", TEXT(), nullable=False),
        sa.Column("file_path", TEXT(), nullable=False),
        sa.Column("filename", TEXT(), nullable=True),
        sa.Column("caller_metadata", JSON, nullable=True),
        sa.Column("content_type", TEXT(), nullable=True),
        sa.Column("sha256", TEXT(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_content_type", TEXT(), nullable=True),
        sa.Column("pending_sha256", TEXT(), nullable=True),
        sa.Column("pending_size_bytes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "file_path"),
    )
    op.create_table(
        "attachment_content",
        sa.Column("id", ID, nullable=False),
        sa.Column("attachment_id", sa.String(), nullable=False),
        sa.Column("sha256", TEXT(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("attachment_id", "sha256"),
    )
    op.create_index(op.f("ix_attachment_content_attachment_id"), "attachment_content", ["attachment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attachment_content_attachment_id"), table_name="attachment_content")
    op.drop_table("attachment_content")
    op.drop_table("attachment")
    op.drop_index(op.f("ix_record_assignment_record_id"), table_name="record_assignment")
    op.drop_table("record_assignment")
    op.drop_index("ix_record_tag_text", table_name="record_tag")
    op.drop_index(op.f("ix_record_tag_record_id"), table_name="record_tag")
    op.drop_table("record_tag")
