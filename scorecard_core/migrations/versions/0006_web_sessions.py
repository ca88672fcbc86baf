"""server-side web UI sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("api_key_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_key.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_web_session_api_key_id"), "web_session", ["api_key_id"], unique=False)
    op.create_index(op.f("ix_web_session_token_hash"), "web_session", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_web_session_token_hash"), table_name="web_session")
    op.drop_index(op.f("ix_web_session_api_key_id"), table_name="web_session")
    op.drop_table("web_session")
