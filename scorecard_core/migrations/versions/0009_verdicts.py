"""call durations, judge usage, the judge cache, the commit status's evidence gate

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


TEXT = sqlmodel.sql.sqltypes.AutoString
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("record", sa.Column("duration_ms", sa.Float(), nullable=True))
    op.add_column("score", sa.Column("usage", JSON, nullable=True))
    op.add_column("score", sa.Column("fresh", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("metric", sa.Column("judge_cache", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("github_connection", sa.Column("fail_under_mode", TEXT(), server_default="point", nullable=False))
    op.add_column(
        "github_connection", sa.Column("fail_on_regression", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("github_connection", sa.Column("regression_margin", TEXT(), nullable=True))
    op.add_column("github_connection", sa.Column("alpha", sa.Float(), server_default="0.01", nullable=False))
    op.create_table(
        "judge_cache",
        sa.Column("key", TEXT(), nullable=False),
        sa.Column("score", JSON, nullable=False),
        sa.Column("usage", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("judge_cache")
    for column in ("alpha", "regression_margin", "fail_on_regression", "fail_under_mode"):
        op.drop_column("github_connection", column)
    op.drop_column("metric", "judge_cache")
    op.drop_column("score", "fresh")
    op.drop_column("score", "usage")
    op.drop_column("record", "duration_ms")
