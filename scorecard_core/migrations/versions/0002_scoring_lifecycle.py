"""scoring lifecycle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_detail",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )

    with op.batch_alter_table("score", schema=None) as batch_op:
        # Scores stored before this revision could only come from people: they are human scores.
        batch_op.add_column(
            sa.Column("scored_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="human")
        )
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_score_claim", ["status", "scored_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("score", schema=None) as batch_op:
        batch_op.drop_index("ix_score_claim")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("scored_by")

    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("status_detail")
